/**
 * One DB's gossip as a pure state machine: the digest it will send to its
 * neighbour and the inbox it has received from its predecessor, with the
 * timers that move gossip no request has moved (docs/protocol.md, "Gossip").
 * No I/O and no clock of its own: the driver (db/replica.ts) feeds it events
 * with the time, asks what to send, and does the sending, the storing and
 * the timers.
 *
 * Step by step, as the contract orders it:
 *   - a stored write appends its tuple to the digest; the digest is due as
 *     soon as it holds digest-length tuples (then it starts again empty);
 *   - a request takes every chunk received so far and merges it (the
 *     driver does that), and the surviving tuples are appended the same way.
 * Background: a partial digest whose oldest tuple has waited flushAfterMs is
 * due; an inbox whose oldest chunk has waited flushAfterMs is applied by the
 * timer, and everything then in the digest is due. Nothing else moves.
 *
 * Positions are absolute counts (tuples ever appended, ever sent), so a
 * request can wait for "everything up to here has been sent".
 */

/** Messages the queue delivered together, named by the id it acknowledges them with. */
export interface Chunk {
  readonly id: string;
  readonly messages: readonly string[];
}

/** A send to perform: put these tuples on this DB's channel, in order, as one chunk. */
export interface Send {
  readonly seq: number;
  readonly tuples: readonly string[];
}

export interface GossipConfig {
  /** The contract's digest-length: a digest holding this many tuples is sent. */
  digestLength: number;
  /** A partial digest, or an unread inbox, moves by timer once it has waited this long. */
  flushAfterMs: number;
  /** After a failed send, wait this long before trying again. */
  retryMs?: number;
  /** The most one send carries; more due goes in the sends after it. */
  sendBudget?: Budget;
  /** A sent prefix is dropped from the stored digest by the next commit, or by itself this long after the send. */
  trimAfterMs?: number;
}

/** What the timer should do now. */
export interface TickResult {
  /** Apply the inbox now (it has waited flushAfterMs unread), then send the whole digest. */
  applyInbox: boolean;
  /** Drop the sent prefix of the stored digest now (no commit came to carry it). */
  trim: boolean;
}

interface Entry {
  readonly text: string;
  readonly at: number;
}

interface Held {
  readonly chunk: Chunk;
  readonly at: number;
  /** Its place among every chunk ever received: a request waits until everything before its own place is merged. */
  readonly seq: number;
  readonly chars: number;
}

/** How much gossip one send carries, or one commit merges, at most (at least one tuple or chunk, whatever its size). */
export interface Budget {
  readonly messages: number;
  readonly chars: number;
}

const UNBOUNDED: Budget = { messages: Infinity, chars: Infinity };

const charsOf = (messages: readonly string[]) => messages.reduce((n, m) => n + m.length, 0);

const DEFAULT_RETRY_MS = 500;
const DEFAULT_TRIM_AFTER_MS = 100;

export class GossipState {
  private readonly digestLength: number;
  private readonly flushAfterMs: number;
  private readonly retryMs: number;
  private readonly trimAfterMs: number;
  private readonly sendBudget: Budget;

  /** The stored digest less what has been sent: oldest first. */
  private entries: Entry[] = [];
  /** How many leading entries must be sent now (by the fill rule or a timer). */
  private due = 0;
  private inFlight: Send | null = null;
  private nextSeq = 1;
  private retryAt = -Infinity;
  /** Tuples ever sent successfully: the absolute position of entries[0]. */
  private sentCount = 0;
  /** Sent tuples still at the head of the stored digest. */
  private untrimmed = 0;
  private trimAt = Infinity;

  private inbox: Held[] = [];
  /** Chunk ids held or being applied: a redelivery after a reconnect is not taken twice. */
  private readonly heldIds = new Set<string>();
  /** Chunks taken by a commit under way, by id. */
  private readonly taken = new Map<string, Held>();
  private receivedCount = 0;

  constructor(config: GossipConfig) {
    if (!Number.isInteger(config.digestLength) || config.digestLength < 1) {
      throw new RangeError(`digest-length must be a positive integer, got ${config.digestLength}`);
    }
    this.digestLength = config.digestLength;
    this.flushAfterMs = config.flushAfterMs;
    this.retryMs = config.retryMs ?? DEFAULT_RETRY_MS;
    this.trimAfterMs = config.trimAfterMs ?? DEFAULT_TRIM_AFTER_MS;
    this.sendBudget = config.sendBudget ?? UNBOUNDED;
  }

  // ---- the digest ----

  /**
   * The stored digest found at start-up (a restart resumes sending it). Like
   * any digest, it is due at once when it holds digest-length tuples or more.
   */
  restore(tuples: readonly string[], now: number): void {
    this.reset();
    this.entries = tuples.map((text) => ({ text, at: now }));
    if (this.entries.length >= this.digestLength) this.due = this.entries.length;
  }

  /**
   * Tuples just stored at the end of the digest, in order, one at a time as
   * the contract says: each time the part not yet due reaches digest-length,
   * everything so far becomes due. Returns the position the sends must reach
   * for the tuples this made due (compare with sentThrough()).
   */
  append(tuples: readonly string[], now: number): number {
    for (const text of tuples) {
      this.entries.push({ text, at: now });
      if (this.entries.length - this.due >= this.digestLength) this.due = this.entries.length;
    }
    return this.dueThrough();
  }

  /** Make the whole digest due (the timer's apply of an unread inbox). Returns dueThrough(). */
  flushAll(): number {
    this.due = this.entries.length;
    return this.dueThrough();
  }

  /** The absolute position up to which tuples are due. */
  dueThrough(): number {
    return this.sentCount + this.due;
  }

  /** The absolute position up to which tuples have been sent. */
  sentThrough(): number {
    return this.sentCount;
  }

  /** Tuples in the digest not yet sent (for /health). */
  get pending(): number {
    return this.entries.length;
  }

  /** The send to start now, if any is due and none is in flight: the due tuples, oldest first, as many as the send budget allows. */
  nextSend(now: number): Send | null {
    if (this.inFlight !== null || this.due === 0 || now < this.retryAt) return null;
    const tuples: string[] = [];
    let chars = 0;
    for (let k = 0; k < this.due; k++) {
      const text = this.entries[k].text;
      if (k > 0 && (k >= this.sendBudget.messages || chars + text.length > this.sendBudget.chars)) break;
      tuples.push(text);
      chars += text.length;
    }
    this.inFlight = { seq: this.nextSeq++, tuples };
    return this.inFlight;
  }

  /** The queue has the send's tuples. A late answer to a send from before reset() is ignored. */
  sendSucceeded(seq: number, now: number): void {
    if (this.inFlight?.seq !== seq) return;
    const n = this.inFlight.tuples.length;
    this.inFlight = null;
    this.entries.splice(0, n);
    this.due -= n;
    this.sentCount += n;
    this.untrimmed += n;
    this.retryAt = -Infinity;
    if (this.trimAt === Infinity) this.trimAt = now + this.trimAfterMs;
  }

  /** The send failed: its tuples stay first in the digest and go again after retryMs. */
  sendFailed(seq: number, now: number): void {
    if (this.inFlight?.seq !== seq) return;
    this.inFlight = null;
    this.retryAt = now + this.retryMs;
  }

  /** The sent prefix to drop from the stored digest with the next commit; 0 when none. */
  takeTrim(): number {
    const n = this.untrimmed;
    this.untrimmed = 0;
    this.trimAt = Infinity;
    return n;
  }

  /** The commit that carried a trim failed: it is still owed. */
  returnTrim(n: number, now: number): void {
    if (n === 0) return;
    this.untrimmed += n;
    this.trimAt = Math.min(this.trimAt, now + this.retryMs);
  }

  // ---- the inbox ----

  /** A chunk from the queue, in the channel's order. A chunk already held is ignored. */
  receive(chunk: Chunk, now: number): void {
    if (this.heldIds.has(chunk.id)) return;
    this.heldIds.add(chunk.id);
    this.inbox.push({ chunk, at: now, seq: ++this.receivedCount, chars: charsOf(chunk.messages) });
  }

  /** How many chunks have been received: a request's place, to wait for with mergedThrough(). */
  get received(): number {
    return this.receivedCount;
  }

  /** Every chunk received up to this place is merged (or was dropped by a clear of the queue). */
  mergedThrough(): number {
    let first = this.inbox.length > 0 ? this.inbox[0].seq : this.receivedCount + 1;
    for (const held of this.taken.values()) first = Math.min(first, held.seq);
    return first - 1;
  }

  /** Chunks received and not yet taken. */
  get inboxSize(): number {
    return this.inbox.length;
  }

  /**
   * The oldest chunks received, for the next commit, as many as `budget`
   * allows (always one): one commit's work is bounded, and the rest waits
   * for the next. They stay held (see applied, unapplied).
   */
  takeInbox(budget: Budget = UNBOUNDED): Chunk[] {
    let messages = 0;
    let chars = 0;
    let n = 0;
    for (const held of this.inbox) {
      if (n > 0 && (messages + held.chunk.messages.length > budget.messages || chars + held.chars > budget.chars)) break;
      messages += held.chunk.messages.length;
      chars += held.chars;
      this.taken.set(held.chunk.id, held);
      n++;
    }
    return this.inbox.splice(0, n).map((h) => h.chunk);
  }

  /** Taken chunks are merged: forget them (the driver tells the queue). */
  applied(chunks: readonly Chunk[]): void {
    for (const c of chunks) {
      this.heldIds.delete(c.id);
      this.taken.delete(c.id);
    }
  }

  /** The commit that took them failed: back in front, for the timer to try again after retryMs if no request does. */
  unapplied(chunks: readonly Chunk[], now: number): void {
    const at = now - this.flushAfterMs + this.retryMs;
    const back: Held[] = [];
    for (const c of chunks) {
      const held = this.taken.get(c.id);
      this.taken.delete(c.id);
      if (held !== undefined) back.push({ ...held, at });
    }
    this.inbox = [...back, ...this.inbox];
  }

  /** The queue was cleared: what it held for us is gone from it, so drop it here too. */
  clearInbox(): void {
    for (const h of this.inbox) this.heldIds.delete(h.chunk.id);
    this.inbox = [];
  }

  // ---- timers ----

  /**
   * What has waited long enough with no request to move it. A partial
   * digest whose oldest tuple has waited flushAfterMs becomes due here; the
   * caller then asks nextSend().
   */
  tick(now: number): TickResult {
    const partial = this.entries[this.due];
    if (partial !== undefined && now - partial.at >= this.flushAfterMs) this.due = this.entries.length;
    return {
      applyInbox: this.inbox.length > 0 && now - this.inbox[0].at >= this.flushAfterMs,
      trim: this.untrimmed > 0 && now >= this.trimAt,
    };
  }

  /** When tick() next has something to do; null when nothing waits. */
  nextDeadline(): number | null {
    let next = Infinity;
    const partial = this.entries[this.due];
    if (partial !== undefined) next = Math.min(next, partial.at + this.flushAfterMs);
    if (this.inbox.length > 0) next = Math.min(next, this.inbox[0].at + this.flushAfterMs);
    if (this.due > 0 && this.inFlight === null) next = Math.min(next, this.retryAt);
    if (this.untrimmed > 0) next = Math.min(next, this.trimAt);
    return next === Infinity ? null : next;
  }

  /**
   * Forget the digest: its stored copy is gone (an external FLUSHALL). A send
   * in flight completes into nothing. The inbox is the queue's, and stays.
   */
  reset(): void {
    // Whoever waits for these tuples to be sent must not wait for ever: they are gone.
    this.sentCount += this.entries.length;
    this.entries = [];
    this.due = 0;
    this.inFlight = null;
    this.untrimmed = 0;
    this.trimAt = Infinity;
    this.retryAt = -Infinity;
  }
}
