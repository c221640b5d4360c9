/**
 * Comparing and exchanging one shard's keys with a peer, bucket by bucket:
 * anti-entropy, catching up, state transfer, the keys a reshard moves and
 * the hand-off of keys a node no longer owns all go through here. Both
 * sides name the partition (shard id) and the shard count that partitions
 * it; a peer that partitions by another count refuses, and the caller tries
 * again once the layouts agree.
 */
import { BUCKETS, differingBuckets } from '../../core/antiEntropy';
import { Clock } from '../../core/clock';
import { clockJson } from '../core/context';
import { Progress } from '../core/progress';
import { VersionStore } from '../core/store';
import { versionBytes } from '../core/versions';
import { entryJson, parseEntry, parseKey, parseSums } from '../core/wire';
import { PeerRequestError, Timers, Transport } from './transport';

/** Replies of a pull are cut at about this many bytes; the puller asks again for the rest. */
const PULL_REPLY_BYTES = 8 * 1024 * 1024;
/** Keys one fetch may ask for. */
const FETCH_KEYS = 1000;
/** Key digests one pull may name (about 40 bytes each on the wire, well under the internal body bound). */
const HAVE_KEYS = 1_000_000;

export interface SyncMode {
  partition: number;
  /** 'all' differing buckets; 'settled': only those that also differed last time (writes in flight are left to replication); 'none'. */
  pull: 'all' | 'settled' | 'none';
  push: boolean;
  deadline: number;
  /** The peer holds this partition as its own shard: a complete pull lets this node take on its applied clock. */
  trustClock: boolean;
}

export interface SyncOutcome {
  /** Keys that changed here. */
  merged: number;
  /** Every differing bucket was pulled: this node holds all the peer held of the partition. */
  complete: boolean;
  /** The peer's applied clock when it computed its sums. */
  applied: Clock;
  /** Buckets in which the two differed. */
  differing: number;
  /** Keys pushed to the peer. */
  pushed: number;
}

export interface BucketSyncOptions {
  self: string;
  store: VersionStore;
  progress: Progress;
  transport: Transport;
  timers: Timers;
  /** The shard count that partitions the store now. */
  count(): number;
  /** A peer asked for sums: it is about to hold all this node holds (a broken replication chain may start again). */
  onSumsAsked(peer: string): void;
}

function numberField(b: Record<string, unknown>, name: string): number {
  const n = b[name];
  if (!Number.isSafeInteger(n) || (n as number) < 0) throw new PeerRequestError(`${name} must be a non-negative integer`);
  return n as number;
}

/** The puller's key digests (absent: it holds nothing the source may skip). */
function parseHave(raw: unknown): Map<string, string> {
  const have = new Map<string, string>();
  if (raw === undefined) return have;
  if (!Array.isArray(raw) || raw.length > HAVE_KEYS) throw new PeerRequestError(`have must be a list of at most ${HAVE_KEYS} [key, digest, digest]`);
  for (const item of raw) {
    if (!Array.isArray(item) || item.length !== 3 || typeof item[0] !== 'string' || !Number.isSafeInteger(item[1]) || !Number.isSafeInteger(item[2])) {
      throw new PeerRequestError('have entries are [key, digest, digest]');
    }
    have.set(item[0], `${item[1]}.${item[2]}`);
  }
  return have;
}

export class BucketSync {
  private readonly lastDiff = new Map<string, Set<number>>();
  /** Entries received by pulls, for the status page and the benchmark. */
  received = 0;

  constructor(private readonly o: BucketSyncOptions) {}

  /**
   * Compare one partition's bucket sums with `peer`, pull the buckets that
   * differ as `mode` says, push ours back if asked.
   */
  async syncWith(peer: string, mode: SyncMode): Promise<SyncOutcome> {
    const remaining = () => Math.max(1, mode.deadline - this.o.timers.now());
    const where = { count: this.o.count(), partition: mode.partition };
    const parsed = parseSums(await this.o.transport.call(peer, 'sums', { from: this.o.self, ...where }, remaining()), BUCKETS);
    if (!parsed.ok) throw new Error(`${peer} sent bad sums: ${parsed.error}`);
    const differing = differingBuckets(this.o.store.bucketSums(mode.partition), parsed.value.sums);
    const key = `${peer}/${mode.partition}`;
    const before = this.lastDiff.get(key) ?? new Set<number>();
    this.lastDiff.set(key, new Set(differing));
    const chosen = mode.pull === 'all' ? differing : mode.pull === 'settled' ? differing.filter((b) => before.has(b)) : [];
    let merged = 0;
    for (let todo = chosen; todo.length > 0; ) {
      const have = this.digestsOf(mode.partition, todo);
      const reply = (await this.o.transport.call(peer, 'pull', { ...where, buckets: todo, have }, remaining())) as { entries?: unknown[]; done?: unknown[] };
      if (!Array.isArray(reply?.entries) || !Array.isArray(reply.done) || reply.done.length === 0) throw new Error(`${peer} sent a bad pull reply`);
      merged += this.mergeEntries(reply.entries);
      this.received += reply.entries.length;
      const done = new Set(reply.done);
      todo = todo.filter((b) => !done.has(b));
    }
    const complete = chosen.length === differing.length;
    if (complete && mode.trustClock) this.o.progress.joinClock(parsed.value.applied);
    let pushed = 0;
    if (mode.push && differing.length > 0) {
      for (const chunk of this.entryChunks(mode.partition, differing)) {
        await this.o.transport.call(peer, 'push', { from: this.o.self, entries: chunk }, remaining());
        pushed += chunk.length;
      }
    }
    return { merged, complete, applied: parsed.value.applied, differing: differing.length, pushed };
  }

  /**
   * What this node holds in `buckets`, as [key, digest words]: the peer sends
   * only keys whose set differs, so a bucket that differs because this node
   * holds more (keys from another source, during a transfer) costs no copies.
   */
  private digestsOf(partition: number, buckets: number[]): [string, number, number][] {
    const out: [string, number, number][] = [];
    for (const b of buckets) {
      for (const { key } of this.o.store.bucketEntries(partition, b)) {
        const d = this.o.store.digestOf(key);
        if (d && out.length < HAVE_KEYS) out.push([key, d[0], d[1]]);
      }
    }
    return out;
  }

  /** Merge entries a peer sent; returns how many keys changed. */
  mergeEntries(entries: unknown[]): number {
    let changed = 0;
    for (const raw of entries) {
      const entry = parseEntry(raw);
      if (!entry.ok) throw new PeerRequestError(`bad entry: ${entry.error}`);
      if (this.o.store.merge(entry.value.key, entry.value.versions)) changed++;
    }
    return changed;
  }

  /** This node's entries of one partition's `buckets`, in chunks of about PULL_REPLY_BYTES. */
  private *entryChunks(partition: number, buckets: number[]): Generator<object[]> {
    let chunk: object[] = [];
    let bytes = 0;
    for (const b of buckets) {
      for (const e of this.o.store.bucketEntries(partition, b)) {
        chunk.push(entryJson(e.key, e.versions));
        bytes += e.key.length + e.versions.reduce((n, v) => n + versionBytes(v), 0);
        if (bytes >= PULL_REPLY_BYTES) {
          yield chunk;
          chunk = [];
          bytes = 0;
        }
      }
    }
    if (chunk.length > 0) yield chunk;
  }

  /** The partition a peer names, checked against this node's shard count. */
  private partitionOf(b: Record<string, unknown>): number {
    const count = numberField(b, 'count');
    if (count !== this.o.count()) throw new PeerRequestError(`shard count differs: this node partitions by ${this.o.count()}, the asker by ${count}`);
    return numberField(b, 'partition');
  }

  answerSums(b: Record<string, unknown>): object {
    const partition = this.partitionOf(b);
    if (typeof b.from === 'string') this.o.onSumsAsked(b.from);
    return { from: this.o.self, sums: this.o.store.bucketSums(partition), applied: clockJson(this.o.progress.clock()) };
  }

  answerPull(b: Record<string, unknown>): object {
    const partition = this.partitionOf(b);
    const raw = b.buckets;
    if (!Array.isArray(raw) || raw.length > BUCKETS || !raw.every((n) => Number.isInteger(n) && n >= 0 && n < BUCKETS)) {
      throw new PeerRequestError('pull needs a list of bucket numbers');
    }
    const have = parseHave(b.have);
    const entries: object[] = [];
    const done: number[] = [];
    let bytes = 0;
    for (const bucket of raw as number[]) {
      if (done.length > 0 && bytes >= PULL_REPLY_BYTES) break;
      for (const e of this.o.store.bucketEntries(partition, bucket)) {
        const d = this.o.store.digestOf(e.key);
        if (d && have.get(e.key) === `${d[0]}.${d[1]}`) continue;
        entries.push(entryJson(e.key, e.versions));
        bytes += e.key.length + e.versions.reduce((n, v) => n + versionBytes(v), 0);
      }
      done.push(bucket);
    }
    return { entries, done };
  }

  answerPush(b: Record<string, unknown>): object {
    if (!Array.isArray(b.entries)) throw new PeerRequestError('push needs entries');
    return { merged: this.mergeEntries(b.entries) };
  }

  /** What this node holds of some keys, whatever their shard (a new owner fetching a key on its way). */
  answerFetch(b: Record<string, unknown>): object {
    if (!Array.isArray(b.keys) || b.keys.length > FETCH_KEYS) throw new PeerRequestError(`fetch needs a list of at most ${FETCH_KEYS} keys`);
    const entries: object[] = [];
    for (const raw of b.keys) {
      const key = parseKey(raw);
      if (!key.ok) throw new PeerRequestError(key.error);
      const versions = this.o.store.get(key.value);
      if (versions.length > 0) entries.push(entryJson(key.value, versions));
    }
    return { entries };
  }
}
