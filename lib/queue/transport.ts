/**
 * How a DB reaches the queue service. The HTTP implementation talks to
 * serverQ; the in-memory one lets tests drive whole rings without sockets.
 */
import { ChannelStore, Leased, MemoryChannelStore } from './channelStore';

export type { Leased };

export interface QueueTransport {
  /**
   * Append messages (each the JSON text of an object, on one line) to a
   * channel, in order, as one chunk. Rejects when the queue cannot be reached.
   */
  put(channel: string, messages: string[]): Promise<void>;
  /**
   * The oldest chunks, whole, up to about `max` messages, held for `leaseMs`
   * until acknowledged; `ack` acknowledges earlier leases first, in the
   * same round trip.
   */
  lease(channel: string, max: number, leaseMs: number, ack?: readonly string[]): Promise<Leased[]>;
  /** Forget leased chunks: they have been applied. */
  ack(channel: string, ids: readonly string[]): Promise<void>;
  /** Resolve true as soon as the channel has messages, false after `ms` without. */
  waitFor(channel: string, ms: number): Promise<boolean>;
  close(): Promise<void>;
}

/** The queue as a local object, over any ChannelStore. */
export class LocalQueue implements QueueTransport {
  constructor(readonly store: ChannelStore = new MemoryChannelStore()) {}

  async put(channel: string, messages: string[]): Promise<void> {
    await this.store.put(channel, messages);
  }

  lease(channel: string, max: number, leaseMs: number, ack?: readonly string[]): Promise<Leased[]> {
    return this.store.lease(channel, max, leaseMs, ack);
  }

  async ack(channel: string, ids: readonly string[]): Promise<void> {
    await this.store.ack(channel, ids);
  }

  async waitFor(channel: string, ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    for (;;) {
      if ((await this.store.waiting(channel)) > 0) return true;
      if (Date.now() >= deadline) return false;
      await new Promise((r) => setTimeout(r, Math.min(10, ms)));
    }
  }

  async close(): Promise<void> {}
}
