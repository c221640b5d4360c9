/**
 * The queue's channels, in memory, with their subscribers: the heart of the
 * queue service (docs/protocol.md, "The queue").
 *
 * A channel is a FIFO of chunks (the messages one put brought, kept
 * together). The DB that consumes a channel subscribes to it over a
 * connection it keeps open, and the hub pushes every chunk to it at once.
 * The DB says "got" as soon as the chunk is in its memory, and only then is
 * the sender's put answered: so when a sender has heard back, the next DB
 * already holds the gossip, and a request to it can merge it without asking
 * anyone (the contract's "a request drains everything sent before it"). A
 * subscriber that is absent, slow or cut off holds the sender up for at most
 * DELIVERY_WAIT_MS: the chunk is written to the journal (the queue's Redis)
 * and the put answered; the subscriber gets it when it is back.
 *
 * The DB says "done" once the chunk is merged into its Redis, and the hub
 * forgets it. Chunks delivered and not done go back to the subscriber's next
 * connection. A chunk reaches the journal when it could not be handed over
 * at once, or when it has been held JOURNAL_AFTER_MS without being done;
 * gossip that flows is never written there. So at every moment a chunk whose
 * put was answered is in two memories (the hub's and the subscriber's) or in
 * the journal: any one process may crash without losing it.
 *
 * the contract's own API sits on top: put one message, take the oldest message not
 * handed to a subscriber, clear everything.
 */
import { Journal, JournaledChunk } from './journal';

/** How the hub reaches a subscribed DB (a socket in serverQ, a function call in tests). */
export interface Subscriber {
  deliver(chunk: { id: string; messages: readonly string[] }): void;
  /** The channel was cleared: drop what you hold of it. */
  cleared(): void;
  /** The hub is done with this subscriber (a newer one took the channel). */
  close(reason: string): void;
}

/** A subscriber that is absent or slow holds a put up for at most this long. */
export const DELIVERY_WAIT_MS = 200;
/** A chunk delivered and not applied for this long is written to the journal too. */
export const JOURNAL_AFTER_MS = 1000;
/** At most this much is handed to one subscriber and not yet applied; the rest waits in the hub. */
export const WINDOW = Object.freeze({ messages: 100_000, bytes: 16 * 1024 * 1024 });

interface ChunkRecord {
  id: number;
  messages: readonly string[];
  bytes: number;
  at: number;
  /** The subscriber holding it (delivered, not done); null when it waits here. */
  holder: Subscriber | null;
  got: boolean;
  journaled: boolean;
  /** Puts waiting for this chunk to be safe (got, or journaled). */
  waiters: (() => void)[];
}

interface Channel {
  /** Oldest first; the delivered chunks are always a prefix. */
  chunks: ChunkRecord[];
  /** Messages in `chunks`, kept as they change: answering a put must not count a long backlog. */
  messages: number;
  subscriber: Subscriber | null;
  delivered: number;
  deliveredMessages: number;
  deliveredBytes: number;
}

export interface ChannelStats {
  /** Messages the hub holds for the channel, delivered or not. */
  held: number;
  /** Of those, handed to the subscriber and not yet applied. */
  delivered: number;
  subscribed: boolean;
}

export class Hub {
  private readonly channels = new Map<string, Channel>();
  private readonly subscriptions = new Map<Subscriber, string>();
  private nextId: number;
  /** The journal's clear under way, which journal writes wait for. */
  private clearing: Promise<void> = Promise.resolve();

  constructor(
    private readonly journal: Journal,
    private readonly log: (message: string) => void = () => undefined,
    private readonly now: () => number = Date.now,
  ) {
    this.nextId = now() * 1000;
  }

  /** Take back what the journal holds (start-up). */
  async load(): Promise<number> {
    const loaded = await this.journal.load();
    let n = 0;
    for (const [name, chunks] of loaded) {
      const channel = this.channel(name);
      for (const c of chunks) {
        channel.chunks.push(this.record(c.id, c.messages, true));
        channel.messages += c.messages.length;
        this.nextId = Math.max(this.nextId, c.id + 1);
        n += c.messages.length;
      }
    }
    return n;
  }

  private channel(name: string): Channel {
    let c = this.channels.get(name);
    if (c === undefined) {
      c = { chunks: [], messages: 0, subscriber: null, delivered: 0, deliveredMessages: 0, deliveredBytes: 0 };
      this.channels.set(name, c);
    }
    return c;
  }

  private record(id: number, messages: readonly string[], journaled: boolean): ChunkRecord {
    const bytes = messages.reduce((n, m) => n + m.length, 0);
    return { id, messages, bytes, at: this.now(), holder: null, got: false, journaled, waiters: [] };
  }

  /**
   * Append messages as one chunk. Resolves, with the messages the channel
   * then holds, once the subscriber has them in memory or, failing that
   * within DELIVERY_WAIT_MS, once the journal has them (or the journal
   * failed, which is logged: the chunk is then in this memory only).
   */
  put(name: string, messages: readonly string[]): Promise<number> {
    const channel = this.channel(name);
    if (messages.length === 0) return Promise.resolve(this.held(channel));
    const rec = this.record(this.nextId++, messages, false);
    const accepted = new Promise<number>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      let settled = false;
      const settle = () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(this.held(channel));
      };
      // Waiting before the chunk is handed over: a subscriber in this process says "got" at once.
      rec.waiters.push(settle);
      channel.chunks.push(rec);
      channel.messages += rec.messages.length;
      this.pump(channel);
      if (settled) return;
      timer = setTimeout(() => void this.persist(name, rec).finally(settle), rec.holder === null ? 0 : DELIVERY_WAIT_MS);
      timer.unref?.();
    });
    return accepted;
  }

  /** Hand undelivered chunks to the subscriber, in order, as far as its window allows. */
  private pump(channel: Channel): void {
    const sub = channel.subscriber;
    if (sub === null) return;
    while (channel.delivered < channel.chunks.length) {
      const rec = channel.chunks[channel.delivered];
      const full = channel.deliveredMessages + rec.messages.length > WINDOW.messages || channel.deliveredBytes + rec.bytes > WINDOW.bytes;
      if (full && channel.delivered > 0) break;
      rec.holder = sub;
      rec.at = this.now();
      channel.delivered++;
      channel.deliveredMessages += rec.messages.length;
      channel.deliveredBytes += rec.bytes;
      sub.deliver({ id: String(rec.id), messages: rec.messages });
    }
  }

  private held(channel: Channel): number {
    return channel.messages;
  }

  /** The channel is now this subscriber's; a previous one is closed and what it held is delivered again. */
  subscribe(name: string, sub: Subscriber): void {
    const channel = this.channel(name);
    const previous = channel.subscriber;
    if (previous !== null) {
      this.undeliver(channel);
      this.subscriptions.delete(previous);
      previous.close('another subscriber took this channel');
    }
    channel.subscriber = sub;
    this.subscriptions.set(sub, name);
    this.pump(channel);
  }

  /** The subscriber went away: what it held and did not apply waits for the next one. */
  unsubscribe(sub: Subscriber): void {
    const name = this.subscriptions.get(sub);
    if (name === undefined) return;
    this.subscriptions.delete(sub);
    const channel = this.channel(name);
    if (channel.subscriber !== sub) return;
    channel.subscriber = null;
    this.undeliver(channel);
  }

  private undeliver(channel: Channel): void {
    for (let k = 0; k < channel.delivered; k++) {
      channel.chunks[k].holder = null;
      channel.chunks[k].got = false;
    }
    channel.delivered = 0;
    channel.deliveredMessages = 0;
    channel.deliveredBytes = 0;
  }

  /** The subscriber holds these chunks in memory: their puts may be answered. */
  got(sub: Subscriber, ids: readonly string[]): void {
    const channel = this.channelOf(sub);
    if (channel === null) return;
    const wanted = new Set(ids);
    for (let k = 0; k < channel.delivered; k++) {
      const rec = channel.chunks[k];
      if (rec.holder !== sub || !wanted.has(String(rec.id))) continue;
      rec.got = true;
      this.release(rec);
    }
  }

  /** The subscriber has applied these chunks: forget them. */
  done(sub: Subscriber, ids: readonly string[]): void {
    const channel = this.channelOf(sub);
    if (channel === null) return;
    const wanted = new Set(ids);
    const forgotten: ChunkRecord[] = [];
    const kept: ChunkRecord[] = [];
    channel.chunks.forEach((rec, k) => {
      if (k < channel.delivered && rec.holder === sub && wanted.has(String(rec.id))) forgotten.push(rec);
      else kept.push(rec);
    });
    if (forgotten.length === 0) return;
    channel.chunks = kept;
    channel.delivered -= forgotten.length;
    for (const rec of forgotten) {
      channel.messages -= rec.messages.length;
      channel.deliveredMessages -= rec.messages.length;
      channel.deliveredBytes -= rec.bytes;
      this.release(rec);
    }
    const journaled = forgotten.filter((rec) => rec.journaled);
    const name = this.subscriptions.get(sub)!;
    if (journaled.length > 0) void this.journal.remove(name, journaled.map(toJournaled)).catch((e: Error) => this.log(`journal: cannot forget ${journaled.length} chunks of ${name}: ${e.message}`));
    this.pump(channel);
  }

  private channelOf(sub: Subscriber): Channel | null {
    const name = this.subscriptions.get(sub);
    if (name === undefined) return null;
    const channel = this.channel(name);
    return channel.subscriber === sub ? channel : null;
  }

  private release(rec: ChunkRecord): void {
    const waiters = rec.waiters;
    rec.waiters = [];
    for (const w of waiters) w();
  }

  private async persist(name: string, rec: ChunkRecord): Promise<void> {
    await this.clearing;
    if (rec.journaled || rec.got || !this.holds(name, rec)) return;
    rec.journaled = true;
    try {
      await this.journal.add(name, toJournaled(rec));
    } catch (e) {
      rec.journaled = false;
      this.log(`journal: cannot keep a chunk of ${name}, it is in memory only: ${(e as Error).message}`);
    }
  }

  private holds(name: string, rec: ChunkRecord): boolean {
    // Newest first: a chunk being persisted was put moments ago, so this is short even behind a long backlog.
    const chunks = this.channels.get(name)?.chunks ?? [];
    return chunks.lastIndexOf(rec) !== -1;
  }

  /** Journal what has been held `olderThanMs` without being applied. Run every few hundred ms, and with 0 before the queue stops. */
  async sweep(olderThanMs = JOURNAL_AFTER_MS): Promise<void> {
    await this.clearing;
    const now = this.now();
    const work: Promise<void>[] = [];
    for (const [name, channel] of this.channels) {
      const old = channel.chunks.filter((rec) => !rec.journaled && now - rec.at >= olderThanMs);
      if (old.length === 0) continue;
      for (const rec of old) rec.journaled = true;
      work.push(
        this.journal.addMany(name, old.map(toJournaled)).catch((e: Error) => {
          for (const rec of old) rec.journaled = false;
          this.log(`journal: cannot keep ${old.length} chunks of ${name}: ${e.message}`);
        }),
      );
    }
    await Promise.all(work);
  }

  /** the contract's GET /q/<channel>: remove and return the oldest message no subscriber holds. */
  async take(name: string): Promise<string | null> {
    const channel = this.channels.get(name);
    if (channel === undefined || channel.delivered >= channel.chunks.length) return null;
    const rec = channel.chunks[channel.delivered];
    const [first, ...rest] = rec.messages;
    const before = toJournaled(rec);
    channel.messages--;
    if (rest.length === 0) {
      channel.chunks.splice(channel.delivered, 1);
      this.release(rec);
    } else {
      rec.messages = rest;
      rec.bytes -= first.length;
    }
    if (rec.journaled) {
      // The message is the caller's now; a journal that cannot forget it only brings it back after a restart.
      const forget = rest.length === 0 ? this.journal.remove(name, [before]) : this.journal.replace(name, before, toJournaled(rec));
      await forget.catch((e: Error) => this.log(`journal: cannot forget a message taken from ${name}: ${e.message}`));
    }
    return first;
  }

  /**
   * the contract's DELETE /clear: every channel emptied; the messages each held, by
   * channel (those that held none left out). Every link is closed too, so a
   * put already on its way from a DB being stopped cannot land after the
   * clear (a harness clears the queue between two runs): DBs that live on
   * link again and resend what their digests hold.
   */
  async clear(): Promise<Record<string, number>> {
    const counts: Record<string, number> = Object.create(null);
    for (const [name, channel] of this.channels) {
      if (channel.messages > 0) counts[name] = channel.messages;
      this.undeliver(channel);
      const chunks = channel.chunks;
      channel.chunks = [];
      channel.messages = 0;
      for (const rec of chunks) this.release(rec);
      const sub = channel.subscriber;
      if (sub !== null) {
        channel.subscriber = null;
        this.subscriptions.delete(sub);
        sub.cleared();
        sub.close('the queue was cleared');
      }
    }
    // A put answered from now on must not be journaled before the journal is cleared: it would be wiped with it.
    const clearing = this.journal.clear();
    this.clearing = clearing.catch(() => undefined);
    try {
      await clearing;
    } catch (e) {
      this.log(`journal: cannot clear: ${(e as Error).message}`);
    }
    return counts;
  }

  length(name: string): number {
    const channel = this.channels.get(name);
    return channel === undefined ? 0 : this.held(channel);
  }

  stats(): Record<string, ChannelStats> {
    const out: Record<string, ChannelStats> = Object.create(null);
    for (const [name, channel] of this.channels) {
      const held = this.held(channel);
      if (held === 0 && channel.subscriber === null) continue;
      out[name] = { held, delivered: channel.deliveredMessages, subscribed: channel.subscriber !== null };
    }
    return out;
  }
}

function toJournaled(rec: ChunkRecord): JournaledChunk {
  return { id: rec.id, messages: rec.messages };
}
