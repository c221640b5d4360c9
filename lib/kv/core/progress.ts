/**
 * What this node has applied, as a clock over origins, and the sequence
 * numbers of its own writes.
 *
 * The invariant: applied[O] = s means this node holds every write that node O
 * accepted with a sequence number up to s (or versions that supersede them).
 * Three things raise it, each keeping the invariant:
 *  - its own writes;
 *  - links of a replication stream: every write O sends this node names the
 *    sequence number of the write O sent it before (`prev`), so once
 *    applied[O] >= prev the write's own number is reached too. Links that
 *    arrive before their predecessor wait here (bounded);
 *  - an anti-entropy pull that copied every bucket in which a peer differed:
 *    this node then holds all the peer held, so it joins the peer's clock.
 *
 * Sequence numbers start at the process's start time in microseconds-ish
 * (ms x 1000), so a restarted node never reuses a number of its earlier life
 * and a client context naming a write that died with that life does not wait
 * for ever once the new life's writes pass it.
 */
import { Clock, counter, join, makeClock } from '../../core/clock';
import { covers } from './context';
import { KV_LIMITS } from './limits';

export class Progress {
  private applied: Record<string, number> = Object.create(null);
  /** origin -> (prev -> seq) for links whose predecessor has not been reached yet. */
  private readonly pending = new Map<string, Map<number, number>>();
  private lastSeq: number;
  private readonly listeners = new Set<() => void>();

  constructor(
    readonly self: string,
    startMs: number,
  ) {
    this.lastSeq = startMs * 1000;
  }

  /** The next sequence number for a write accepted here; applied[self] follows it. */
  nextSeq(): number {
    this.lastSeq += 1;
    this.applied[this.self] = this.lastSeq;
    this.notify();
    return this.lastSeq;
  }

  /** The last own sequence number handed out (or the start value). */
  get currentSeq(): number {
    return this.lastSeq;
  }

  /** A copy of the applied clock. */
  clock(): Clock {
    return makeClock(Object.entries(this.applied));
  }

  /** True when everything `context` names among the `relevant` origins is applied here (no copy: runs on every request). */
  covers(context: Clock, relevant: (origin: string) => boolean = () => true): boolean {
    return covers(this.applied, context, relevant);
  }

  appliedOf(origin: string): number {
    return counter(this.applied, origin);
  }

  /**
   * A write of `origin` with sequence number `seq` has been merged, and `prev`
   * is the number of the write that origin sent before it (null: the sender
   * cannot vouch for a predecessor, so nothing advances).
   */
  link(origin: string, prev: number | null, seq: number): void {
    if (origin === this.self || prev === null || seq <= this.appliedOf(origin)) return;
    if (prev <= this.appliedOf(origin)) {
      this.applied[origin] = seq;
      this.drain(origin);
      this.notify();
      return;
    }
    let links = this.pending.get(origin);
    if (!links) this.pending.set(origin, (links = new Map()));
    // Past the bound the oldest are dropped: anti-entropy still advances the clock.
    if (links.size >= KV_LIMITS.pendingLinks) links.clear();
    links.set(prev, Math.max(seq, links.get(prev) ?? 0));
  }

  /** Everything `clock` names is held here now (an anti-entropy pull copied it all). */
  joinClock(clock: Clock): void {
    const before = this.applied;
    const joined = join(before, clock) as Record<string, number>;
    let changed = false;
    for (const id of Object.keys(joined)) {
      if (id === this.self) {
        // Our own entry from a peer: a write of an earlier life of this address.
        if (joined[id] > this.lastSeq) this.lastSeq = joined[id];
      }
      if (joined[id] !== counter(before, id)) changed = true;
    }
    this.applied = joined;
    if (!changed) return;
    for (const origin of this.pending.keys()) this.drain(origin);
    this.notify();
  }

  /** Follow waiting links from the current applied number. */
  private drain(origin: string): void {
    const links = this.pending.get(origin);
    if (!links) return;
    for (let moved = true; moved; ) {
      moved = false;
      const at = this.appliedOf(origin);
      for (const [prev, seq] of links) {
        if (seq <= at) links.delete(prev);
        else if (prev <= at) {
          this.applied[origin] = seq;
          links.delete(prev);
          moved = true;
        }
      }
    }
    if (links.size === 0) this.pending.delete(origin);
  }

  pendingLinks(): number {
    let n = 0;
    for (const links of this.pending.values()) n += links.size;
    return n;
  }

  /** Call `listener` whenever the applied clock rises; returns the unsubscribe. */
  onAdvance(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private notify(): void {
    for (const l of [...this.listeners]) l();
  }
}
