/**
 * One DB instance's logic, free of HTTP: the write, read and delete paths and
 * the gossip of SPEC.md. It talks to Redis through a TeaStore and to the
 * queue through a QueueTransport, so tests can run a whole ring in memory.
 *
 *   write:  merge and save, append to the digest (flush when full), drain
 *   read:   drain, then read
 *   drain:  take every message on the predecessor's channel; drop those that
 *           have come round to their primary; merge the others and append
 *           them, unchanged, to the digest
 *
 * That is exactly what happens with the background timer off (the scenario
 * runner's step-by-step mode). With it on (the default), gossip also moves
 * without traffic, a full digest goes at the timer's next tick rather than
 * with the write that filled it: see start(), publish(), and `inboxMayHold`
 * for when a request drains.
 */
import { Digest, append, emptyDigest, isFull, putBack, take } from '../core/digest';
import { Ring, dbName } from '../core/ring';
import { TeaState, Version, deleteAll, holds, mergeState, mergeVersion } from '../core/versions';
import { GossipTuple, checkTeaName, parseTuple, stateOfTuple, tupleOf } from '../core/wire';
import { Logger } from '../log';
import { QueueTransport } from '../queue/transport';
import { SingleFlight } from '../util/singleFlight';
import { TeaStore } from './store';

export interface ReplicaOptions {
  id: number;
  ndb: number;
  digestLength: number;
  store: TeaStore;
  queue: QueueTransport;
  log: Logger;
  /**
   * Every this many ms, drain the inbox and send a digest that is not full,
   * so gossip moves without traffic. 0 turns the timer off (the scenario
   * runner does, to step gossip by hand as SPEC.md describes).
   */
  gossipIntervalMs?: number;
  /**
   * The timer sends a digest that is not full once this DB's oldest own write
   * in it has waited this long, and at once when it holds tuples forwarded
   * from the predecessor. Holding a new write back keeps SPEC.md's batching
   * (and its "weak reads right after a write are mostly stale"); once a tuple
   * is travelling it should not wait again at every hop. Convergence after
   * the last write is then about flush-after-ms + ndb x gossip-interval-ms.
   */
  flushAfterMs?: number;
  /** How long a client's request waits for the queue; see REQUEST_QUEUE_WAIT_MS. */
  requestQueueWaitMs?: number;
  now?: () => number;
}

/** One drain pass stops after this many messages, so a flood on the channel cannot starve a read forever. */
const MAX_MESSAGES_PER_DRAIN = 10_000;
/** The watcher's long poll: it drains at least this often, however quiet the inbox. */
const WATCH_MS = 1000;
/** Messages leased per queue round trip. */
const LEASE_BATCH = 256;
/**
 * How long the queue holds leased messages for us before handing them out
 * again. Far longer than applying a batch takes (milliseconds), short enough
 * that after a crash the messages return within the convergence bound.
 */
const LEASE_MS = 2000;
/**
 * How long a client's write, read or delete waits for the queue (sending a
 * full digest, draining the inbox) before it is answered anyway. The queue
 * answers in milliseconds, so normally a request waits for all of it, as
 * SPEC.md describes. But a queue that hangs (its machine lost, a partition:
 * the HTTP client waits 5 s) or a long backlog after an outage must not hold
 * every request on every DB past the LB's 2 s timeout: that made writes fail
 * with "no DB is available" while no DB was down. The write is in Redis by
 * then; the send and the drain carry on in the background (a failed send is
 * kept and retried, a lease not acknowledged comes back).
 */
const REQUEST_QUEUE_WAIT_MS = 500;

export class Replica {
  readonly name: string;
  /** The channel this DB publishes on. */
  readonly outbox: string;
  /** The channel this DB consumes: its predecessor's. */
  readonly inbox: string;
  /** False with ndb 1: there is no neighbour, so no gossip at all. */
  readonly gossips: boolean;

  /** Tuples to send, as JSON text: a forwarded one exactly as it arrived. */
  private digest: Digest<string>;
  private sending: Promise<void> = Promise.resolve();
  private readonly drainer = new SingleFlight(() => this.drainOnce());
  private readonly store: TeaStore;
  private readonly queue: QueueTransport;
  private readonly log: Logger;
  private readonly gossipIntervalMs: number;
  private readonly flushAfterMs: number;
  private readonly requestQueueWaitMs: number;
  private readonly now: () => number;
  /** When the oldest own write in the digest arrived; null when there is none. */
  private digestSince: number | null = null;
  /** The digest holds tuples forwarded from the predecessor. */
  private forwarding = false;
  private timer: NodeJS.Timeout | null = null;
  private watching = false;
  /**
   * Whether the inbox may hold gossip, so a read or write must ask the queue.
   * Without the watcher it is always true: every request drains, exactly as
   * SPEC.md describes (the scenario runner steps gossip so). With the watcher
   * the queue says the moment a message arrives (a long poll), and requests
   * ask the queue only then: a read or write costs no queue round trip while
   * the inbox is empty, and still drains all gossip the DB has been told of.
   * What it can miss is a message that arrived within the notice's own
   * latency, well under a millisecond on one machine; gossip is asynchronous
   * anyway, and a weak read may be stale by definition.
   */
  private inboxMayHold = true;
  /**
   * The watcher found gossip at its last drain, so it drains again a tick
   * later without waiting to be told (see watch()); meanwhile the timer
   * leaves the digest to it.
   */
  private streaming = false;
  /** Lease ids applied but not yet acknowledged: the next lease acknowledges them. */
  private unacked: string[] = [];
  /** Messages leased since start: how the watcher tells that a drain found gossip. */
  private leasedCount = 0;
  /** When the inbox last held gossip, this DB's own returning tuples included; null if never. */
  private lastGossipAt: number | null = null;

  constructor(options: ReplicaOptions) {
    const ring = new Ring(options.ndb);
    this.name = dbName(options.id);
    this.outbox = dbName(options.id);
    this.inbox = dbName(ring.predecessorOf(options.id));
    this.gossips = options.ndb > 1;
    this.digest = emptyDigest(options.digestLength);
    this.store = options.store;
    this.queue = options.queue;
    this.log = options.log;
    this.gossipIntervalMs = options.gossipIntervalMs ?? 0;
    this.flushAfterMs = options.flushAfterMs ?? 0;
    this.requestQueueWaitMs = options.requestQueueWaitMs ?? REQUEST_QUEUE_WAIT_MS;
    this.now = options.now ?? Date.now;
  }

  /**
   * Start gossiping in the background (when configured): a timer sends the
   * digest when it is due, and a watcher waits on the queue for the inbox to
   * have messages and drains them a tick later, in one batch. The watcher
   * waits (a long poll) rather than polls, so an idle ring costs nothing; it
   * drains at least every WATCH_MS all the same, which also brings back
   * expired leases. A tuple thus spends at most about two ticks per hop.
   */
  start(): void {
    if (!this.gossips || this.gossipIntervalMs <= 0 || this.timer) return;
    this.timer = setInterval(() => {
      if (!this.streaming) void this.flushIfDue();
    }, this.gossipIntervalMs);
    this.timer.unref();
    this.watching = true;
    this.inboxMayHold = true;
    void this.watch();
  }

  /** Stop the background work and try once to send what the digest holds. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.watching = false;
    this.streaming = false;
    this.inboxMayHold = true;
    await this.flush();
    // A drain still under way acknowledges at once when it ends, as the watcher has stopped.
    await this.ackNow();
  }

  /** One background round by hand (tests): send the digest if it is due, then drain. */
  async tick(): Promise<void> {
    await this.flushIfDue();
    await this.drain();
  }

  private async flushIfDue(): Promise<void> {
    const aged = this.digestSince !== null && this.now() - this.digestSince >= this.flushAfterMs;
    const due = this.forwarding || isFull(this.digest) || aged;
    if (due) await this.flush();
  }

  private async watch(): Promise<void> {
    while (this.watching) {
      let ready = false;
      let failed = false;
      if (!this.streaming) {
        try {
          ready = await this.queue.waitFor(this.inbox, WATCH_MS);
        } catch (e) {
          failed = true;
          this.log.warnEvery('watch', 5000, `cannot wait on ${this.inbox}: ${(e as Error).message}`);
        }
        if (!this.watching) break;
      }
      // Told, streaming, or a quiet WATCH_MS has passed (a missed word, expired leases): drain.
      this.inboxMayHold = true;
      // Let a batch gather for one tick before taking it: under a steady trickle of writes this
      // turns one queue round trip per message into one per tick, for a tick of latency per hop.
      // A read or write that comes meanwhile drains at once, since it knows the inbox holds gossip.
      if (ready || this.streaming) await new Promise((r) => setTimeout(r, this.gossipIntervalMs).unref());
      const leasedBefore = this.leasedCount;
      const applied = await this.drain();
      // While gossip flows, the next tick's lease is the wait: it costs no extra round trip, and
      // carries this round's acknowledgement. An empty lease goes back to waiting (a long poll).
      this.streaming = this.watching && this.leasedCount > leasedBefore;
      // Own writes and forwarded tuples leave together, once per round (the timer leaves them to us while streaming).
      await this.flushIfDue();
      // Never spin: when the queue is unreachable, or says "ready" but nothing could be applied, pause.
      if (failed || (ready && applied === 0 && !this.streaming)) await new Promise((r) => setTimeout(r, Math.max(this.gossipIntervalMs, 100)).unref());
    }
    await this.ackNow();
  }

  /** Send acknowledgements still held for the next lease (stopping: there is no next lease). */
  private async ackNow(): Promise<void> {
    const ids = this.unacked;
    if (ids.length === 0) return;
    this.unacked = [];
    try {
      await this.queue.ack(this.inbox, ids);
    } catch (e) {
      // The leases expire and their messages come back: applied twice, harmlessly.
      this.log.warnEvery('ack', 5000, `cannot acknowledge on ${this.inbox}: ${(e as Error).message}`);
    }
  }

  /**
   * A client's write, from the LB or sent directly: this DB is its tuple's
   * primary. The write, then the drain, as SPEC.md orders them; the answer
   * waits for neither the drain, which cannot change it, nor (with the
   * background watcher running) for a full digest to reach the queue: the
   * write is in Redis, and the digest goes at the next tick (publish()), kept
   * and retried if the queue cannot take it. Without the
   * watcher (the scenario runner's step-by-step mode) the answer waits for
   * the digest, so gossip a client provoked is on the queue when it hears back.
   */
  async write(tea: string, version: Version): Promise<TeaState> {
    const { after } = await this.store.update(tea, (state) => mergeVersion(state, version));
    await this.publishAfterWrite(tea, after);
    this.drainAfterWrite();
    return after;
  }

  async read(tea: string): Promise<TeaState> {
    await this.awaitQueue(this.drain());
    return this.store.load(tea);
  }

  /** Delete every version held; null when this DB holds none (404). */
  async delete(tea: string): Promise<TeaState | null> {
    const { before, after } = await this.store.update(tea, deleteAll);
    if (!holds(before)) return null;
    await this.publishAfterWrite(tea, after);
    this.drainAfterWrite();
    return after;
  }

  /** Wait for queue work (which never rejects) at most requestQueueWaitMs; it goes on regardless. */
  private async awaitQueue(work: Promise<unknown>): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.requestQueueWaitMs);
    });
    try {
      await Promise.race([work, limit]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * SPEC.md's "write, then drain". With the watcher running it drains within
   * a tick anyway, in one batch; a drain after every write would cut those
   * batches into single messages (measured: most of the DBs' CPU under a
   * write load went to queue round trips) and change no answer.
   */
  private drainAfterWrite(): void {
    if (!this.watching) void this.drain();
  }

  /** See write(): measured, waiting for the queue was most of a sequential write's latency. */
  private async publishAfterWrite(tea: string, after: TeaState): Promise<void> {
    if (!this.gossips) return; // ndb 1: nobody to tell, so no tuple to build
    const sent = this.publish([JSON.stringify(tupleOf(this.name, tea, after))]);
    if (!this.watching) await this.awaitQueue(sent);
  }

  /** Apply everything waiting on the inbox. Never rejects: a queue outage leaves the data as it is. */
  drain(): Promise<number> {
    if (!this.gossips || !this.inboxMayHold) return Promise.resolve(0);
    return this.drainer.run();
  }

  /** Milliseconds since this DB last took gossip from its inbox, its own returning tuples included (Infinity if never). */
  gossipQuietForMs(): number {
    return this.lastGossipAt === null ? Infinity : this.now() - this.lastGossipAt;
  }

  /** Tuples waiting in the digest: for tests and the health endpoint. */
  get pending(): number {
    return this.digest.tuples.length;
  }

  /**
   * Lease messages, apply them, and only then acknowledge them: a crash in
   * between leaves them on the queue, to be applied again (harmlessly: the
   * merge is idempotent).
   */
  private async drainOnce(): Promise<number> {
    // Cleared before taking: word of a message that arrives during this drain sets it again.
    if (this.watching) this.inboxMayHold = false;
    let applied = 0;
    try {
      for (let n = 0; n < MAX_MESSAGES_PER_DRAIN; ) {
        // The previous round's acknowledgement rides on this lease. If the lease fails, whether
        // the queue took it is unknown: it is sent again (acknowledging twice is harmless).
        const leased = await this.queue.lease(this.inbox, LEASE_BATCH, LEASE_MS, this.unacked);
        this.unacked = [];
        if (leased.length === 0) break;
        const messages = leased.flatMap((chunk) => chunk.messages);
        this.leasedCount += messages.length;
        applied += await this.receive(messages);
        const ids = leased.map((chunk) => chunk.id);
        // With the watcher, the next lease comes within a tick and acknowledges these; without
        // it (step by step), nothing may follow, so acknowledge now.
        if (this.watching) this.unacked = ids;
        else await this.queue.ack(this.inbox, ids);
        n += messages.length;
        // A short batch emptied the channel when it was taken: no need to ask again.
        if (messages.length < LEASE_BATCH) break;
      }
    } catch (e) {
      this.log.warnEvery('drain', 5000, `cannot drain ${this.inbox}: ${(e as Error).message}`);
    }
    return applied;
  }

  /**
   * Merge a batch of gossip messages (JSON texts) and forward them, unchanged
   * (the very text) and in order. The store merges the whole batch in one
   * step (one Redis call for the lot rather than one per message: measured,
   * the per-command cost was a fifth of applying a tuple). Returns how
   * many were applied; malformed messages and those back at their primary
   * are dropped.
   */
  private async receive(messages: string[]): Promise<number> {
    const tuples: GossipTuple[] = [];
    const texts: string[] = [];
    for (const text of messages) {
      let message: unknown;
      try {
        message = JSON.parse(text);
      } catch (e) {
        this.log.warn(`dropped a gossip message on ${this.inbox} that is not JSON: ${(e as Error).message}`);
        continue;
      }
      const parsed = parseTuple(message);
      if (!parsed.ok) {
        this.log.warn(`dropped a malformed gossip message on ${this.inbox}: ${parsed.error}`);
        continue;
      }
      if (parsed.value.primary === this.name) continue;
      const badName = checkTeaName(parsed.value.key);
      if (badName) {
        this.log.warn(`dropped a gossip message on ${this.inbox}: ${badName}`);
        continue;
      }
      tuples.push(parsed.value);
      texts.push(text);
    }
    // A tea whose stored value is corrupt cannot take the merge: say so and pass its tuple on
    // regardless (the other replicas can apply it); holding the batch back would stop all gossip
    // through this DB. A store that cannot be reached rejects, and the batch comes back.
    const skipped = await this.store.updateMany(tuples.map((tuple) => [tuple.key, (state) => mergeState(state, stateOfTuple(tuple))]));
    for (const { tea, error } of skipped) this.log.warn(`could not merge gossip about ${JSON.stringify(tea)} on ${this.inbox}: ${error.message}`);
    await this.publish(texts, true);
    // With the timer on, a full digest waits for its tick (see publish()); but a drain is
    // already one batch, so its tuples travel on at once and do not wait a tick at every hop.
    if (this.timer !== null && tuples.length > 0) await this.flush();
    // Gossip is flowing whenever messages come, even when every one is this DB's own, back from
    // round the ring (all writes sent to this DB): anti-entropy would only race that gossip.
    if (messages.length > 0) this.lastGossipAt = this.now();
    return tuples.length;
  }

  /**
   * Append to the digest; when it is full, put everything on the outbox, in
   * order: at once without the background timer, as SPEC.md says, and at the
   * timer's next tick with it. Nobody waits for that send with the timer on
   * (see write()), so a tick's writes can share one queue round trip instead
   * of paying one each: measured, sending every full digest at once made the
   * queue traffic of a write load most of the ring's CPU, and that load
   * slowed every request on a 2-core machine (README "Performance").
   */
  private publish(tuples: string[], forwarded = false): Promise<void> {
    if (!this.gossips || tuples.length === 0) return Promise.resolve();
    if (forwarded) this.forwarding = true;
    else this.digestSince ??= this.now();
    if (this.timer !== null) {
      // The tick sends them: a drained batch goes in with one copy of the digest, not one per tuple.
      this.digest = append(this.digest, ...tuples);
      return Promise.resolve();
    }
    // Step by step, exactly as SPEC.md says: append each, and send whenever the digest is full.
    const sends: Promise<void>[] = [];
    for (const tuple of tuples) {
      this.digest = append(this.digest, tuple);
      if (isFull(this.digest)) sends.push(this.flush());
    }
    return Promise.all(sends).then(() => undefined);
  }

  /** Put everything in the digest on the outbox, full or not. */
  private flush(): Promise<void> {
    if (this.digest.tuples.length === 0) return this.sending;
    // Sends are chained, and each takes the digest only when its turn comes: so a batch that
    // failed and went back in front is sent before tuples made after it, and the channel
    // keeps their order even when flushes overlap.
    const send = this.sending.then(() => this.send());
    this.sending = send;
    return send;
  }

  /** Everything in the digest, in order. On failure the tuples go back in front of the digest for the next flush. */
  private async send(): Promise<void> {
    const { tuples, digest } = take(this.digest);
    if (tuples.length === 0) return;
    this.digest = digest;
    this.digestSince = null;
    this.forwarding = false;
    try {
      await this.queue.put(this.outbox, [...tuples]);
    } catch (e) {
      this.digest = putBack(this.digest, tuples);
      this.forwarding = true; // retry on the next tick
      this.log.warnEvery('send', 5000, `cannot put gossip on ${this.outbox}, keeping ${tuples.length} tuples: ${(e as Error).message}`);
    }
  }
}
