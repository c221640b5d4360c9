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
  now?: () => number;
}

/** One drain pass stops after this many messages, so a flood on the channel cannot starve a read forever. */
const MAX_MESSAGES_PER_DRAIN = 10_000;
/** Messages leased per queue round trip. */
const LEASE_BATCH = 256;
/**
 * How long the queue holds leased messages for us before handing them out
 * again. Far longer than applying a batch takes (milliseconds), short enough
 * that after a crash the messages return within the convergence bound.
 */
const LEASE_MS = 2000;

export class Replica {
  readonly name: string;
  /** The channel this DB publishes on. */
  readonly outbox: string;
  /** The channel this DB consumes: its predecessor's. */
  readonly inbox: string;
  /** False with ndb 1: there is no neighbour, so no gossip at all. */
  readonly gossips: boolean;

  private digest: Digest<GossipTuple>;
  private sending: Promise<void> = Promise.resolve();
  private readonly drainer = new SingleFlight(() => this.drainOnce());
  private readonly store: TeaStore;
  private readonly queue: QueueTransport;
  private readonly log: Logger;
  private readonly gossipIntervalMs: number;
  private readonly flushAfterMs: number;
  private readonly now: () => number;
  /** When the oldest own write in the digest arrived; null when there is none. */
  private digestSince: number | null = null;
  /** The digest holds tuples forwarded from the predecessor. */
  private forwarding = false;
  private timer: NodeJS.Timeout | null = null;

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
    this.now = options.now ?? Date.now;
  }

  /** Start the background gossip timer (when configured). */
  start(): void {
    if (!this.gossips || this.gossipIntervalMs <= 0 || this.timer) return;
    this.timer = setInterval(() => void this.tick(), this.gossipIntervalMs);
    this.timer.unref();
  }

  /** Stop the timer and try once to send what the digest holds. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.flush();
  }

  /** One background round: send the digest if its oldest tuple is old enough, then drain. */
  async tick(): Promise<void> {
    const due = this.forwarding || (this.digestSince !== null && this.now() - this.digestSince >= this.flushAfterMs);
    if (due) await this.flush();
    await this.drain();
  }

  /** A client's write, from the LB or sent directly: this DB is its tuple's primary. */
  async write(tea: string, version: Version): Promise<TeaState> {
    const { after } = await this.store.update(tea, (state) => mergeVersion(state, version));
    await this.publish(tupleOf(this.name, tea, after));
    await this.drain();
    return after;
  }

  async read(tea: string): Promise<TeaState> {
    await this.drain();
    return this.store.load(tea);
  }

  /** Delete every version held; null when this DB holds none (404). */
  async delete(tea: string): Promise<TeaState | null> {
    const { before, after } = await this.store.update(tea, deleteAll);
    if (!holds(before)) return null;
    await this.publish(tupleOf(this.name, tea, after));
    await this.drain();
    return after;
  }

  /** Apply everything waiting on the inbox. Never rejects: a queue outage leaves the data as it is. */
  drain(): Promise<number> {
    if (!this.gossips) return Promise.resolve(0);
    return this.drainer.run();
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
    let applied = 0;
    try {
      for (let n = 0; n < MAX_MESSAGES_PER_DRAIN; ) {
        const leased = await this.queue.lease(this.inbox, LEASE_BATCH, LEASE_MS);
        if (leased.length === 0) break;
        for (const { body } of leased) if (await this.receive(body)) applied++;
        await this.queue.ack(this.inbox, leased.map((m) => m.id));
        n += leased.length;
      }
    } catch (e) {
      this.log.warnEvery('drain', 5000, `cannot drain ${this.inbox}: ${(e as Error).message}`);
    }
    return applied;
  }

  /** Merge one gossip message; false when it is dropped. */
  private async receive(message: unknown): Promise<boolean> {
    const parsed = parseTuple(message);
    if (!parsed.ok) {
      this.log.warn(`dropped a malformed gossip message on ${this.inbox}: ${parsed.error}`);
      return false;
    }
    const tuple = parsed.value;
    if (tuple.primary === this.name) return false;
    const badName = checkTeaName(tuple.key);
    if (badName) {
      this.log.warn(`dropped a gossip message on ${this.inbox}: ${badName}`);
      return false;
    }
    const incoming = stateOfTuple(tuple);
    await this.store.update(tuple.key, (state) => mergeState(state, incoming));
    await this.publish(tuple, true);
    return true;
  }

  /** Append to the digest; when it is full, put everything on the outbox, in order. */
  private publish(tuple: GossipTuple, forwarded = false): Promise<void> {
    if (!this.gossips) return Promise.resolve();
    this.digest = append(this.digest, tuple);
    if (forwarded) this.forwarding = true;
    else this.digestSince ??= this.now();
    if (!isFull(this.digest)) return Promise.resolve();
    return this.flush();
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
