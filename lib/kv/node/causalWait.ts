/**
 * Making a node hold everything a request's context names before it answers
 * (docs/kv.md, the contract's "Causal context"): a moment's wait for replication already on
 * its way, then pulls from peers of its shard that have it, all within the
 * request's deadline. Only origins of the node's own shard count: writes of
 * other shards' nodes never touch its keys.
 */
import { Clock } from '../../core/clock';
import { covers, missingOrigins } from '../core/context';
import { Progress } from '../core/progress';
import { Timers } from './transport';

/** How long a request first waits for replication already in flight before pulling from a peer. */
const IN_FLIGHT_WAIT_MS = 60;

export interface CausalWaitOptions {
  progress: Progress;
  timers: Timers;
  /** Live peers of this node's shard. */
  groupPeers(): string[];
  /** A peer's applied clock at its last probe answer. */
  appliedOf(peer: string): Clock | null;
  /** Is this origin's history one this node must hold (a member of its shard)? */
  relevant(): (origin: string) => boolean;
  /** One full pull of this node's shard from `peer`. */
  pull(peer: string, deadline: number): Promise<unknown>;
  isStopped(): boolean;
}

export class CausalWait {
  readonly counters = { waitedForReplication: 0, pulled: 0, notCaughtUp: 0 };
  private readonly pulls = new Map<string, Promise<unknown>>();

  constructor(private readonly o: CausalWaitOptions) {}

  covered(context: Clock): boolean {
    return this.o.progress.covers(context, this.o.relevant());
  }

  /** Hold everything `context` names by `deadline`; returns whether this node got there. */
  async catchUp(context: Clock, deadline: number): Promise<boolean> {
    if (this.covered(context)) return true;
    this.counters.waitedForReplication++;
    if (await this.waitCovered(context, Math.min(deadline, this.o.timers.now() + IN_FLIGHT_WAIT_MS))) return true;
    this.counters.pulled++;
    const tried = new Set<string>();
    while (this.o.timers.now() < deadline && !this.o.isStopped()) {
      const source = this.pullSource(context, tried);
      if (source === null) break;
      tried.add(source);
      await this.pullOnce(source, deadline).catch(() => false);
      if (this.covered(context)) return true;
    }
    const caughtUp = await this.waitCovered(context, deadline);
    if (!caughtUp) this.counters.notCaughtUp++;
    return caughtUp;
  }

  /** The peer to pull from next: one known to have the context, else an origin it names, else any live peer. */
  private pullSource(context: Clock, tried: Set<string>): string | null {
    const candidates = this.o.groupPeers().filter((p) => !tried.has(p));
    const relevant = this.o.relevant();
    const known = candidates.find((p) => {
      const applied = this.o.appliedOf(p);
      return applied !== null && covers(applied, context, relevant);
    });
    if (known) return known;
    const missing = missingOrigins(this.o.progress.clock(), context);
    return candidates.find((p) => missing.includes(p)) ?? candidates[0] ?? null;
  }

  /** One full pull from `peer`, shared by every request that needs one meanwhile. */
  private pullOnce(peer: string, deadline: number): Promise<unknown> {
    let running = this.pulls.get(peer);
    if (!running) {
      running = this.o.pull(peer, deadline).finally(() => this.pulls.delete(peer));
      this.pulls.set(peer, running);
    }
    return running;
  }

  private waitCovered(context: Clock, until: number): Promise<boolean> {
    if (this.covered(context)) return Promise.resolve(true);
    const ms = until - this.o.timers.now();
    if (ms <= 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      const done = (result: boolean) => {
        unsubscribe();
        this.o.timers.clearTimeout(timer);
        resolve(result);
      };
      const unsubscribe = this.o.progress.onAdvance(() => {
        if (this.covered(context)) done(true);
      });
      const timer = this.o.timers.setTimeout(() => done(this.covered(context)), ms);
    });
  }
}
