/**
 * The queue service's state: named FIFO channels of JSON objects. Pure and
 * synchronous; the HTTP shell in queue/app.ts wraps it.
 */
class Fifo<T> {
  private items: T[] = [];
  private head = 0;

  push(item: T): number {
    this.items.push(item);
    return this.length;
  }

  unshift(item: T): void {
    if (this.head > 0) this.items[--this.head] = item;
    else this.items.unshift(item);
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.head++;
    // Compact now and then so a long-lived channel does not keep every message it ever held.
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  get length(): number {
    return this.items.length - this.head;
  }
}

export class Channels<T = unknown> {
  private readonly channels = new Map<string, Fifo<T>>();

  /** Append; returns the channel's new length. */
  put(channel: string, message: T): number {
    let fifo = this.channels.get(channel);
    if (!fifo) {
      fifo = new Fifo<T>();
      this.channels.set(channel, fifo);
    }
    return fifo.push(message);
  }

  /** Put a message back in front of the oldest (a lease that expired, the rest of a split chunk). */
  putFront(channel: string, message: T): void {
    let fifo = this.channels.get(channel);
    if (!fifo) {
      fifo = new Fifo<T>();
      this.channels.set(channel, fifo);
    }
    fifo.unshift(message);
  }

  /** Remove and return the oldest message, or undefined when there is none. */
  take(channel: string): T | undefined {
    return this.channels.get(channel)?.shift();
  }

  length(channel: string): number {
    return this.channels.get(channel)?.length ?? 0;
  }

  /** Empty every channel; returns each channel's count before. */
  clear(): Record<string, number> {
    const counts: Record<string, number> = Object.create(null);
    for (const [name, fifo] of this.channels) counts[name] = fifo.length;
    this.channels.clear();
    return counts;
  }
}
