/**
 * Where the queue service keeps its channels. Two implementations: in
 * memory (single-instance mode and tests) and in a Redis of the queue's own
 * (redisChannelStore.ts), which survives a crash of the queue process.
 *
 * A message is kept as the JSON text of an object (one line: JSON text from
 * JSON.stringify has no raw newline), and messages put together stay
 * together as a *chunk*: one entry in the store, leased and acknowledged as
 * one. The queue never parses gossip to move it, and a DB's batch costs the
 * store one entry, not one per message: measured, per-message bookkeeping
 * was most of the queue's CPU under a write load (README "Performance").
 * SPEC.md's take still hands out single messages, splitting a chunk.
 *
 * Besides SPEC.md's put / take / clear there are leases: `lease` hands out
 * whole chunks without forgetting them; `ack` forgets them once the consumer
 * has applied them. A lease not acknowledged within its time puts its chunk
 * back at the head of the channel, so a DB that dies between taking and
 * applying loses nothing. Delivery is at least once; the merge is
 * idempotent, so a repeat is harmless.
 */
import { Channels } from './channels';

/** A leased chunk: its messages (JSON texts), in order, and the id to acknowledge them by. */
export interface Leased {
  id: string;
  messages: string[];
}

export interface ChannelStore {
  /**
   * Append messages, in order, as one chunk. Each is the JSON text of an
   * object with no newline in it (the caller checks). Returns how many
   * messages now wait on the channel.
   */
  put(channel: string, messages: string[]): Promise<number>;
  /** Remove and return the oldest message, or null when none waits. */
  take(channel: string): Promise<string | null>;
  /**
   * Lease the oldest chunks, whole, until they hold `max` messages or more
   * (so at least one chunk when any waits), for `leaseMs`. `ack` are ids of
   * earlier leases to forget first, as ack() would: a consumer that drains
   * in rounds acknowledges one round's chunks with the next round's lease,
   * one call instead of two.
   */
  lease(channel: string, max: number, leaseMs: number, ack?: readonly string[]): Promise<Leased[]>;
  /** Forget leased chunks; returns how many of the ids were leased on this channel and not expired. */
  ack(channel: string, ids: readonly string[]): Promise<number>;
  /** How many messages wait on a channel (leased ones not counted). */
  waiting(channel: string): Promise<number>;
  /** Empty every channel; returns the messages each channel held, waiting and leased (channels that held none are left out). */
  clear(): Promise<Record<string, number>>;
  close(): Promise<void>;
}

interface Lease {
  channel: string;
  messages: string[];
  deadline: number;
}

export class MemoryChannelStore implements ChannelStore {
  /** Each entry a chunk: a non-empty array of messages. */
  private readonly channels = new Channels<string[]>();
  /** Messages waiting per channel (the chunks hold more than one each). */
  private readonly counts = new Map<string, number>();
  private readonly leases = new Map<string, Lease>();
  private nextId = 1;

  constructor(private readonly now: () => number = Date.now) {}

  private count(channel: string, delta: number): number {
    const n = (this.counts.get(channel) ?? 0) + delta;
    this.counts.set(channel, n);
    return n;
  }

  async put(channel: string, messages: string[]): Promise<number> {
    if (messages.length === 0) return this.count(channel, 0);
    this.channels.put(channel, [...messages]);
    return this.count(channel, messages.length);
  }

  async take(channel: string): Promise<string | null> {
    this.requeueExpired(channel);
    const chunk = this.channels.take(channel);
    if (chunk === undefined) return null;
    const [first, ...rest] = chunk;
    if (rest.length > 0) this.channels.putFront(channel, rest);
    this.count(channel, -1);
    return first;
  }

  async lease(channel: string, max: number, leaseMs: number, ack: readonly string[] = []): Promise<Leased[]> {
    this.forget(channel, ack);
    const out: Leased[] = [];
    for (let n = 0; n < max; ) {
      const messages = this.channels.take(channel);
      if (messages === undefined) break;
      const id = String(this.nextId++);
      this.leases.set(id, { channel, messages, deadline: this.now() + leaseMs });
      this.count(channel, -messages.length);
      out.push({ id, messages: [...messages] });
      n += messages.length;
    }
    return out;
  }

  async ack(channel: string, ids: readonly string[]): Promise<number> {
    return this.forget(channel, ids);
  }

  private forget(channel: string, ids: readonly string[]): number {
    this.requeueExpired(channel); // an expired lease is void, whether or not anyone has asked since
    let n = 0;
    for (const id of ids) {
      if (this.leases.get(id)?.channel === channel && this.leases.delete(id)) n++;
    }
    return n;
  }

  async waiting(channel: string): Promise<number> {
    this.requeueExpired(channel);
    return this.counts.get(channel) ?? 0;
  }

  async clear(): Promise<Record<string, number>> {
    this.channels.clear();
    const counts: Record<string, number> = Object.create(null);
    for (const [channel, n] of this.counts) if (n > 0) counts[channel] = n;
    for (const lease of this.leases.values()) counts[lease.channel] = (counts[lease.channel] ?? 0) + lease.messages.length;
    this.counts.clear();
    this.leases.clear();
    return counts;
  }

  async close(): Promise<void> {}

  /** Expired leases go back in front, oldest first. */
  private requeueExpired(channel: string): void {
    const now = this.now();
    const expired = [...this.leases.entries()].filter(([, l]) => l.channel === channel && l.deadline <= now);
    for (let k = expired.length - 1; k >= 0; k--) {
      const [id, lease] = expired[k];
      this.leases.delete(id);
      this.channels.putFront(channel, lease.messages);
      this.count(channel, lease.messages.length);
    }
  }
}
