/**
 * The version store: every key this node holds, with its version set, and
 * the per-bucket digest sums that anti-entropy compares (the tea store's
 * scheme, lib/core/antiEntropy: sums update in O(1) on every write). Memory
 * only: a restarted node recovers from its peers.
 *
 * Keys are partitioned by shard (partitionOf, from the shard count), each
 * partition with its own buckets and sums, so two nodes can compare one
 * shard's keys in O(buckets) while a node still holds keys of shards it left
 * (during a reshard) or is receiving them. Changing the shard count
 * re-partitions in one pass over the keys.
 */
import { BUCKETS, Words, bucketOf, normalize } from '../../core/antiEntropy';
import { stableHash } from '../../core/ring';
import { VersionSet, canonicalSet, emptySet, liveWinner, mergeSets, versionBytes } from './versions';

const SEED_A = 0x811c9dc5;
const SEED_B = 0x2c1b3c6d;

export interface KeyEntry {
  key: string;
  versions: VersionSet;
}

function setDigest(key: string, set: VersionSet): [number, number] {
  if (set.length === 0) return [0, 0];
  const text = `${key}\n${canonicalSet(set)}`;
  return [stableHash(text, SEED_A), stableHash(text, SEED_B)];
}

interface Partition {
  readonly buckets: Set<string>[];
  readonly sums: [number, number][];
}

function emptyPartition(): Partition {
  return { buckets: Array.from({ length: BUCKETS }, () => new Set()), sums: Array.from({ length: BUCKETS }, () => [0, 0]) };
}

const ZERO_SUMS: Words[] = Array.from({ length: BUCKETS }, () => [0, 0] as const);

export class VersionStore {
  private readonly sets = new Map<string, VersionSet>();
  private readonly digests = new Map<string, [number, number]>();
  private readonly partitions = new Map<number, Partition>();
  private bytes = 0;

  constructor(private partitionOf: (key: string) => number = () => 0) {}

  get(key: string): VersionSet {
    return this.sets.get(key) ?? emptySet();
  }

  /** Merge versions into a key. Returns true when the key's set changed. */
  merge(key: string, incoming: VersionSet): boolean {
    const before = this.get(key);
    const after = mergeSets(before, incoming);
    if (after === before) return false;
    this.sets.set(key, after);
    const old = this.digests.get(key) ?? [0, 0];
    const now = setDigest(key, after);
    this.digests.set(key, now);
    this.index(key, old, now);
    this.bytes += after.reduce((n, v) => n + versionBytes(v), 0) - before.reduce((n, v) => n + versionBytes(v), 0);
    return true;
  }

  private partition(p: number): Partition {
    let part = this.partitions.get(p);
    if (!part) this.partitions.set(p, (part = emptyPartition()));
    return part;
  }

  /** Move a key's digest in its bucket's sums from `old` to `now`. */
  private index(key: string, old: readonly [number, number], now: readonly [number, number]): void {
    const part = this.partition(this.partitionOf(key));
    const bucket = bucketOf(key);
    part.buckets[bucket].add(key);
    const sum = part.sums[bucket];
    sum[0] = normalize(sum[0] - old[0] + now[0]);
    sum[1] = normalize(sum[1] - old[1] + now[1]);
  }

  /** Partition the keys anew (the shard count changed): one pass over every key. */
  repartition(partitionOf: (key: string) => number): void {
    this.partitionOf = partitionOf;
    this.partitions.clear();
    for (const [key, digest] of this.digests) this.index(key, [0, 0], digest);
  }

  /** Forget every key of partition `p` (a shard this node no longer belongs to, handed off). */
  dropPartition(p: number): number {
    const part = this.partitions.get(p);
    if (!part) return 0;
    let n = 0;
    for (const keys of part.buckets) {
      for (const key of keys) {
        this.bytes -= this.get(key).reduce((sum, v) => sum + versionBytes(v), 0);
        this.sets.delete(key);
        this.digests.delete(key);
        n++;
      }
    }
    this.partitions.delete(p);
    return n;
  }

  /** Partitions that hold keys. */
  heldPartitions(): number[] {
    return [...this.partitions].filter(([, part]) => part.buckets.some((b) => b.size > 0)).map(([p]) => p);
  }

  /** The digest of a key's version set (equal on two nodes holding the same set), or undefined for a key not held. */
  digestOf(key: string): readonly [number, number] | undefined {
    return this.digests.get(key);
  }

  /** True when the key's winner is a value (not missing, not deleted). */
  holdsLive(key: string): boolean {
    return liveWinner(this.get(key)) !== undefined;
  }

  bucketSums(p = 0): Words[] {
    const part = this.partitions.get(p);
    return part ? part.sums.map(([a, b]) => [a, b] as const) : ZERO_SUMS;
  }

  bucketEntries(p: number, bucket: number): KeyEntry[] {
    const keys = this.partitions.get(p)?.buckets[bucket];
    if (!keys) return [];
    return [...keys].map((key) => ({ key, versions: this.get(key) }));
  }

  /** Keys held, tombstones included. */
  get size(): number {
    return this.sets.size;
  }

  /** Keys whose winner is a value, in partition `p` or in all. */
  liveCount(p?: number): number {
    let n = 0;
    if (p === undefined) {
      for (const set of this.sets.values()) if (liveWinner(set) !== undefined) n++;
      return n;
    }
    for (const keys of this.partitions.get(p)?.buckets ?? []) for (const key of keys) if (this.holdsLive(key)) n++;
    return n;
  }

  /** Approximate bytes of all versions held. */
  get approximateBytes(): number {
    return this.bytes;
  }

  keys(): IterableIterator<string> {
    return this.sets.keys();
  }
}
