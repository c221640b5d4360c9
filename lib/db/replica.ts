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
}

/** One drain pass stops after this many messages, so a flood on the channel cannot starve a read forever. */
const MAX_MESSAGES_PER_DRAIN = 10_000;

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

  private async drainOnce(): Promise<number> {
    let applied = 0;
    try {
      for (let n = 0; n < MAX_MESSAGES_PER_DRAIN; n++) {
        const message = await this.queue.take(this.inbox);
        if (message === null) break;
        if (await this.receive(message)) applied++;
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
    await this.publish(tuple);
    return true;
  }

  /** Append to the digest; when it is full, put everything on the outbox, in order. */
  private publish(tuple: GossipTuple): Promise<void> {
    if (!this.gossips) return Promise.resolve();
    this.digest = append(this.digest, tuple);
    if (!isFull(this.digest)) return Promise.resolve();
    const taken = take(this.digest);
    this.digest = taken.digest;
    // Sends are chained so that batches reach the channel in the order they were taken.
    const send = this.sending.then(() => this.send(taken.tuples));
    this.sending = send;
    return send;
  }

  private async send(tuples: readonly GossipTuple[]): Promise<void> {
    for (let k = 0; k < tuples.length; k++) {
      try {
        await this.queue.put(this.outbox, tuples[k]);
      } catch (e) {
        // Keep what was not sent; it goes out with the next flush.
        this.digest = putBack(this.digest, tuples.slice(k));
        this.log.warnEvery('send', 5000, `cannot put gossip on ${this.outbox}, keeping ${tuples.length - k} tuples: ${(e as Error).message}`);
        return;
      }
    }
  }
}
