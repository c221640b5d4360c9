/**
 * The version store: every key this node holds, with its version set, and
 * the per-bucket digest sums that anti-entropy compares (the tea store's
 * scheme, lib/core/antiEntropy: sums update in O(1) on every write). Memory
 * only: a restarted node recovers from its peers.
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

export class VersionStore {
  private readonly sets = new Map<string, VersionSet>();
  private readonly digests = new Map<string, [number, number]>();
  private readonly buckets: Set<string>[] = Array.from({ length: BUCKETS }, () => new Set());
  private readonly sums: [number, number][] = Array.from({ length: BUCKETS }, () => [0, 0]);
  private bytes = 0;

  get(key: string): VersionSet {
    return this.sets.get(key) ?? emptySet();
  }

  /** Merge versions into a key. Returns true when the key's set changed. */
  merge(key: string, incoming: VersionSet): boolean {
    const before = this.get(key);
    const after = mergeSets(before, incoming);
    if (after === before) return false;
    this.sets.set(key, after);
    const bucket = bucketOf(key);
    this.buckets[bucket].add(key);
    const old = this.digests.get(key) ?? [0, 0];
    const now = setDigest(key, after);
    this.digests.set(key, now);
    const sum = this.sums[bucket];
    sum[0] = normalize(sum[0] - old[0] + now[0]);
    sum[1] = normalize(sum[1] - old[1] + now[1]);
    this.bytes += after.reduce((n, v) => n + versionBytes(v), 0) - before.reduce((n, v) => n + versionBytes(v), 0);
    return true;
  }

  /** True when the key's winner is a value (not missing, not deleted). */
  holdsLive(key: string): boolean {
    return liveWinner(this.get(key)) !== undefined;
  }

  bucketSums(): Words[] {
    return this.sums.map(([a, b]) => [a, b] as const);
  }

  bucketEntries(bucket: number): KeyEntry[] {
    const keys = this.buckets[bucket];
    if (!keys) return [];
    return [...keys].map((key) => ({ key, versions: this.get(key) }));
  }

  /** Keys held, tombstones included. */
  get size(): number {
    return this.sets.size;
  }

  /** Keys whose winner is a value. */
  liveCount(): number {
    let n = 0;
    for (const set of this.sets.values()) if (liveWinner(set) !== undefined) n++;
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
