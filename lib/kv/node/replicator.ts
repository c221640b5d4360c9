/**
 * Sending accepted writes to the other replicas: one outbox per peer
 * (core/outbox.ts), one batch in flight per peer, retries with back-off up to
 * the probe interval, and the wait for a second node's acknowledgement that
 * a client's write answers after.
 */
import { Logger } from '../../log';
import { Outbox } from '../core/outbox';
import { KvVersion } from '../core/versions';
import { writeJson } from '../core/wire';
import { Timing } from './timing';
import { Timers, Transport } from './transport';

export interface ReplicatorOptions {
  self: string;
  transport: Transport;
  timers: Timers;
  log: Logger;
  timing: Pick<Timing, 'probeIntervalMs' | 'peerTimeoutMs' | 'requestWaitMs'>;
}

export interface OutgoingWrite {
  seq: number;
  key: string;
  version: KvVersion;
  /** This node's applied number for itself just before the write (where a new outbox's chain starts). */
  ownBefore: number;
}

export class Replicator {
  private readonly outboxes = new Map<string, Outbox>();
  private readonly retryTimers = new Map<string, unknown>();
  private readonly retryDelay = new Map<string, number>();
  /** Writes waiting for a second node: who may still acknowledge each, and how to answer the client. */
  private readonly acks = new Map<number, { waiting: Set<string>; resolve: () => void }>();
  private stopped = false;

  constructor(private readonly o: ReplicatorOptions) {}

  /**
   * Queue `write` for `targets` and resolve once one of them acknowledges it
   * (two nodes hold it); at once when none of them is `alive` or every live
   * one has refused it (availability first, logged); else after requestWaitMs.
   */
  send(write: OutgoingWrite, targets: readonly string[], alive: readonly string[]): Promise<void> {
    for (const peer of targets) this.outbox(peer).enqueue(write.seq, write.key, write.version, write.ownBefore);
    if (alive.length === 0) {
      if (targets.length > 0) this.warnAlone(`${targets.join(',')} down`);
      for (const peer of targets) this.kick(peer);
      return Promise.resolve();
    }
    const acked = new Promise<void>((resolve) => {
      const timer = this.o.timers.setTimeout(() => {
        if (this.acks.delete(write.seq)) this.o.log.warnEvery('ack-timeout', 10_000, `no replica acknowledged a write within ${this.o.timing.requestWaitMs} ms; answered anyway`);
        resolve();
      }, this.o.timing.requestWaitMs);
      this.acks.set(write.seq, {
        waiting: new Set(alive),
        resolve: () => {
          this.o.timers.clearTimeout(timer);
          resolve();
        },
      });
    });
    for (const peer of targets) this.kick(peer);
    return acked;
  }

  /** A peer answered again (back, or restarted): send what waits for it now. */
  peerBack(peer: string): void {
    this.retryDelay.delete(peer);
    this.kick(peer);
  }

  /** A peer left the view: it is sent nothing more. */
  drop(peer: string): void {
    this.outboxes.delete(peer);
    this.o.timers.clearTimeout(this.retryTimers.get(peer));
    this.retryTimers.delete(peer);
  }

  /** The peer is pulling everything this node holds up to `seq`: a broken chain to it may start again there. */
  resumeChain(peer: string, seq: number): void {
    this.outboxes.get(peer)?.resumeFrom(seq);
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.retryTimers.values()) this.o.timers.clearTimeout(t);
    for (const ack of this.acks.values()) ack.resolve();
    this.acks.clear();
  }

  status(): Record<string, { waiting: number; cuts: number }> {
    return Object.fromEntries([...this.outboxes].map(([p, box]) => [p, { waiting: box.waiting, cuts: box.cuts }]));
  }

  private warnAlone(why: string): void {
    this.o.log.warnEvery('alone', 10_000, `accepting writes no other replica can take (${why}): held by this node only until the peers are back`);
  }

  private settleAck(seq: number): void {
    const ack = this.acks.get(seq);
    if (!ack) return;
    this.acks.delete(seq);
    ack.resolve();
  }

  private outbox(peer: string): Outbox {
    let box = this.outboxes.get(peer);
    if (!box) this.outboxes.set(peer, (box = new Outbox()));
    return box;
  }

  /** Send the next batch to `peer` unless one is in flight or a retry is scheduled. */
  private kick(peer: string): void {
    const box = this.outboxes.get(peer);
    if (!box || this.stopped || this.retryTimers.has(peer)) return;
    const batch = box.take();
    if (!batch) return;
    const body = { from: this.o.self, writes: batch.map(writeJson) };
    this.o.transport.call(peer, 'replicate', body, this.o.timing.peerTimeoutMs).then(
      () => {
        if (this.outboxes.get(peer) !== box) return;
        this.retryDelay.delete(peer);
        for (const seq of box.acked()) this.settleAck(seq);
        this.kick(peer);
      },
      () => {
        if (this.outboxes.get(peer) !== box) return;
        box.failed();
        // A write every live replica has refused is answered now, not after the whole wait.
        for (const w of batch) {
          const ack = this.acks.get(w.seq);
          if (ack && ack.waiting.delete(peer) && ack.waiting.size === 0) {
            this.warnAlone(`the last refusal from ${peer}`);
            this.settleAck(w.seq);
          }
        }
        // Back off up to the probe interval; a peer found back is kicked at once.
        const delay = Math.min(this.o.timing.probeIntervalMs, (this.retryDelay.get(peer) ?? 25) * 2);
        this.retryDelay.set(peer, delay);
        this.retryTimers.set(
          peer,
          this.o.timers.setTimeout(() => {
            this.retryTimers.delete(peer);
            this.kick(peer);
          }, delay),
        );
      },
    );
  }
}
