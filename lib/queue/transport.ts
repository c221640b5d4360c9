/**
 * How a DB reaches the queue service. The HTTP implementation talks to
 * serverQ; the in-memory one lets tests drive whole rings without sockets.
 */
import { Channels } from './channels';

export interface QueueTransport {
  /** Append a message to a channel. Rejects when the queue cannot be reached. */
  put(channel: string, message: object): Promise<void>;
  /** Remove and return the oldest message of a channel, or null when it is empty. */
  take(channel: string): Promise<unknown | null>;
  close(): Promise<void>;
}

export class MemoryQueue implements QueueTransport {
  readonly channels = new Channels<unknown>();

  async put(channel: string, message: object): Promise<void> {
    // A copy, as the wire would make: the receiver must not share objects with the sender.
    this.channels.put(channel, JSON.parse(JSON.stringify(message)));
  }

  async take(channel: string): Promise<unknown | null> {
    return this.channels.take(channel) ?? null;
  }

  async close(): Promise<void> {}
}
