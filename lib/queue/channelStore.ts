/**
 * Where the queue service keeps its channels. Two implementations: in
 * memory (single-instance mode and tests) and in a Redis of the queue's own
 * (redisChannelStore.ts), which survives a crash of the queue process.
 *
 * Besides SPEC.md's put / take / clear there are leases: `lease` hands out
 * up to `max` messages without forgetting them; `ack` forgets them once the
 * consumer has applied them. A lease not acknowledged within its time puts
 * its messages back at the head of the channel, so a DB that dies between
 * taking and applying loses nothing. Delivery is at least once; the merge
 * is idempotent, so a repeat is harmless.
 */
import { Channels } from './channels';

export interface Leased {
  id: string;
  body: object;
}

export interface ChannelStore {
  put(channel: string, messages: object[]): Promise<number>;
  take(channel: string): Promise<object | null>;
  lease(channel: string, max: number, leaseMs: number): Promise<Leased[]>;
  ack(channel: string, ids: string[]): Promise<number>;
  /** How many messages wait on a channel (leased ones not counted). */
  waiting(channel: string): Promise<number>;
  clear(): Promise<Record<string, number>>;
  close(): Promise<void>;
}

interface Lease {
  channel: string;
  body: object;
  deadline: number;
}

export class MemoryChannelStore implements ChannelStore {
  private readonly channels = new Channels<object>();
  private readonly leases = new Map<string, Lease>();
  private nextId = 1;

  constructor(private readonly now: () => number = Date.now) {}

  async put(channel: string, messages: object[]): Promise<number> {
    let length = this.channels.length(channel);
    for (const m of messages) length = this.channels.put(channel, m);
    return length;
  }

  async take(channel: string): Promise<object | null> {
    this.requeueExpired(channel);
    return this.channels.take(channel) ?? null;
  }

  async lease(channel: string, max: number, leaseMs: number): Promise<Leased[]> {
    this.requeueExpired(channel);
    const out: Leased[] = [];
    for (let k = 0; k < max; k++) {
      const body = this.channels.take(channel);
      if (body === undefined) break;
      const id = String(this.nextId++);
      this.leases.set(id, { channel, body, deadline: this.now() + leaseMs });
      out.push({ id, body });
    }
    return out;
  }

  async ack(channel: string, ids: string[]): Promise<number> {
    let n = 0;
    for (const id of ids) {
      if (this.leases.get(id)?.channel === channel && this.leases.delete(id)) n++;
    }
    return n;
  }

  async waiting(channel: string): Promise<number> {
    this.requeueExpired(channel);
    return this.channels.length(channel);
  }

  async clear(): Promise<Record<string, number>> {
    const counts = this.channels.clear();
    for (const lease of this.leases.values()) counts[lease.channel] = (counts[lease.channel] ?? 0) + 1;
    this.leases.clear();
    return counts;
  }

  async close(): Promise<void> {}

  /** Expired leases go back in front, oldest first. */
  private requeueExpired(channel: string): void {
    const now = this.now();
    const expired = [...this.leases.entries()].filter(([, l]) => l.channel === channel && l.deadline <= now);
    if (expired.length === 0) return;
    const waiting: object[] = [];
    for (let m = this.channels.take(channel); m !== undefined; m = this.channels.take(channel)) waiting.push(m);
    for (const [id, lease] of expired) {
      this.leases.delete(id);
      this.channels.put(channel, lease.body);
    }
    for (const m of waiting) this.channels.put(channel, m);
  }
}
