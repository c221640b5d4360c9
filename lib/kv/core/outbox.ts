/**
 * One peer's replication queue, the pure part: writes wait here in the order
 * they were accepted, go out in batches (one batch in flight at a time, so a
 * busy peer gets bigger batches, not more requests), and a failed batch goes
 * back in front to be retried. Each write names the sequence number of the
 * write sent to this peer before it (`prev`), which lets the peer advance
 * its applied clock (core/progress.ts).
 *
 * Bounded: past KV_LIMITS.outboxWrites or outboxBytes the queue is cut and
 * the chain broken (`prev` null) until the peer next pulls from this node by
 * anti-entropy, which repairs whatever the cut dropped.
 */
import { KV_LIMITS } from './limits';
import { KvVersion, versionBytes } from './versions';

export interface ReplicatedWrite {
  readonly seq: number;
  /** The sequence number of the write sent to this peer before, or null when the chain is broken. */
  readonly prev: number | null;
  readonly key: string;
  readonly version: KvVersion;
}

export class Outbox {
  private queue: ReplicatedWrite[] = [];
  private queuedBytes = 0;
  private inFlight: ReplicatedWrite[] | null = null;
  private last: number | null | undefined = undefined;
  private cutCount = 0;

  /**
   * Queue a write. `ownBefore` is this node's applied number for itself just
   * before the write was numbered: the first write a queue ever carries
   * chains from it (the peer holds what came before through state transfer).
   */
  enqueue(seq: number, key: string, version: KvVersion, ownBefore: number): void {
    const prev = this.last === undefined ? ownBefore : this.last;
    this.last = prev === null ? null : seq;
    this.queue.push({ seq, prev, key, version });
    this.queuedBytes += versionBytes(version) + key.length;
    if (this.queue.length > KV_LIMITS.outboxWrites || this.queuedBytes > KV_LIMITS.outboxBytes) this.cut();
  }

  private cut(): void {
    this.queue = [];
    this.queuedBytes = 0;
    this.last = null;
    this.cutCount++;
  }

  /** The next batch to send, or null while one is in flight or nothing waits. */
  take(maxBytes = KV_LIMITS.batchBytes): ReplicatedWrite[] | null {
    if (this.inFlight !== null || this.queue.length === 0) return null;
    let bytes = 0;
    let n = 0;
    while (n < this.queue.length && (n === 0 || bytes + versionBytes(this.queue[n].version) <= maxBytes)) {
      bytes += versionBytes(this.queue[n].version) + this.queue[n].key.length;
      n++;
    }
    this.inFlight = this.queue.slice(0, n);
    this.queue = this.queue.slice(n);
    this.queuedBytes -= bytes;
    return this.inFlight;
  }

  /** The batch in flight arrived: returns its sequence numbers. */
  acked(): number[] {
    const batch = this.inFlight ?? [];
    this.inFlight = null;
    return batch.map((w) => w.seq);
  }

  /** The batch in flight did not arrive: it goes back in front. */
  failed(): void {
    if (this.inFlight === null) return;
    this.queue = this.inFlight.concat(this.queue);
    this.queuedBytes += this.inFlight.reduce((n, w) => n + versionBytes(w.version) + w.key.length, 0);
    this.inFlight = null;
    if (this.queue.length > KV_LIMITS.outboxWrites || this.queuedBytes > KV_LIMITS.outboxBytes) this.cut();
  }

  /**
   * The peer is pulling everything this node holds up to `seq` (it asked for
   * anti-entropy sums): a broken chain may start again from there.
   */
  resumeFrom(seq: number): void {
    if (this.last === null) this.last = seq;
  }

  get waiting(): number {
    return this.queue.length + (this.inFlight?.length ?? 0);
  }

  get busy(): boolean {
    return this.inFlight !== null;
  }

  /** How many times the queue was cut: for the status page and tests. */
  get cuts(): number {
    return this.cutCount;
  }
}
