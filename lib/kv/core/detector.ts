/**
 * Failure detection by probing, the pure part: the driver probes every peer
 * every probe interval and reports each outcome here with the time; a peer
 * with no successful probe for `downAfterMs` is down, and the first success
 * after that brings it back. A peer is trusted until shown otherwise (alive
 * and ready from the moment it is known), so a node's view right after start
 * or right after an add already lists it.
 */
import { Clock } from '../../core/clock';

export type PeerStatus = 'alive' | 'down';

export interface PeerInfo {
  status: PeerStatus;
  /** The peer said it has caught up and serves keys. */
  ready: boolean;
  lastOkMs: number;
  /** The peer's start time: a new value means it restarted. */
  incarnation: number | null;
  /** The peer's applied clock at its last answer: where to pull from. */
  applied: Clock | null;
}

export interface ProbeFacts {
  ready: boolean;
  incarnation: number;
  applied: Clock;
}

export type DetectorEvent =
  | { kind: 'down'; peer: string }
  | { kind: 'back'; peer: string }
  | { kind: 'restarted'; peer: string }
  | { kind: 'ready'; peer: string };

export class FailureDetector {
  private readonly peers = new Map<string, PeerInfo>();

  constructor(private readonly downAfterMs: number) {}

  /** Start watching `peer` (trusted until its probes fail for downAfterMs). */
  watch(peer: string, nowMs: number): void {
    if (!this.peers.has(peer)) this.peers.set(peer, { status: 'alive', ready: true, lastOkMs: nowMs, incarnation: null, applied: null });
  }

  forget(peer: string): void {
    this.peers.delete(peer);
  }

  watched(): string[] {
    return [...this.peers.keys()];
  }

  info(peer: string): PeerInfo | undefined {
    return this.peers.get(peer);
  }

  isAlive(peer: string): boolean {
    return this.peers.get(peer)?.status === 'alive';
  }

  /** Alive and caught up: shown in the view. */
  isServing(peer: string): boolean {
    const p = this.peers.get(peer);
    return p !== undefined && p.status === 'alive' && p.ready;
  }

  succeeded(peer: string, nowMs: number, facts: ProbeFacts): DetectorEvent[] {
    const p = this.peers.get(peer);
    if (!p) return [];
    const events: DetectorEvent[] = [];
    if (p.incarnation !== null && facts.incarnation !== p.incarnation) events.push({ kind: 'restarted', peer });
    if (p.status === 'down') events.push({ kind: 'back', peer });
    if (!p.ready && facts.ready) events.push({ kind: 'ready', peer });
    Object.assign(p, { status: 'alive', lastOkMs: nowMs, ready: facts.ready, incarnation: facts.incarnation, applied: facts.applied });
    return events;
  }

  /** A probe failed: the peer goes down once its last success is downAfterMs old. */
  failed(peer: string, nowMs: number): DetectorEvent[] {
    return this.expire(peer, nowMs);
  }

  /** Expire every peer whose last success is too old (probes that never return count too). */
  tick(nowMs: number): DetectorEvent[] {
    return [...this.peers.keys()].flatMap((peer) => this.expire(peer, nowMs));
  }

  private expire(peer: string, nowMs: number): DetectorEvent[] {
    const p = this.peers.get(peer);
    if (!p || p.status === 'down' || nowMs - p.lastOkMs < this.downAfterMs) return [];
    p.status = 'down';
    return [{ kind: 'down', peer }];
  }
}
