/**
 * Anti-entropy between two DBs, the pure part. Teas fall into BUCKETS
 * buckets; each DB keeps, per bucket, the sum (mod 2^32, two independent
 * words) of a digest of every tea it holds there. Two DBs compare the 256
 * sums, and exchange only the teas of buckets that differ. Sums, unlike a
 * Merkle tree, update in O(1) per changed tea: add the new entry's digest,
 * subtract the old one.
 */
import { canonicalKey } from './clock';
import { stableHash } from './ring';
import { TeaState, canonicalVersions } from './versions';

export const BUCKETS = 256;

export type Words = readonly [number, number];

const SEED_A = 0x811c9dc5;
const SEED_B = 0x2c1b3c6d;
const MOD = 2 ** 32;

/** The bucket of a tea: different hash bits from the ring's, so a bucket spans every primary. */
export function bucketOf(tea: string): number {
  return stableHash(tea, SEED_B) % BUCKETS;
}

/** A digest of one tea's whole state; [0, 0] for a tea never written, so it adds nothing. */
export function entryDigest(tea: string, state: TeaState): Words {
  if (state.versions.length === 0 && state.tombstone === null) return [0, 0];
  const text = `${tea}\n${canonicalVersions(state).join('\n')}\n${state.tombstone ? canonicalKey(state.tombstone) : ''}`;
  return [stableHash(text, SEED_A), stableHash(text, SEED_B)];
}

export function normalize(n: number): number {
  return ((n % MOD) + MOD) % MOD;
}

/** Buckets whose sums differ between two DBs. */
export function differingBuckets(mine: readonly Words[], theirs: readonly Words[]): number[] {
  const out: number[] = [];
  for (let b = 0; b < BUCKETS; b++) {
    const m = mine[b] ?? [0, 0];
    const t = theirs[b] ?? [0, 0];
    if (normalize(m[0]) !== normalize(t[0]) || normalize(m[1]) !== normalize(t[1])) out.push(b);
  }
  return out;
}

/**
 * One DB's anti-entropy index, in memory: per bucket the sums of its teas'
 * digests and the teas themselves, and when each tea last changed, for as
 * long as that is recent. The DB is the only writer of its Redis (db/redisStore.ts
 * fences out any other), so what it has committed is what Redis holds, and
 * keeping the index here costs no Redis command per write. It is built at
 * start-up by a scan (found) while commits keep it current (changed).
 *
 * Digests are computed when the sums are asked for, not on every change: a
 * tea written many times between two anti-entropy rounds is hashed once.
 */
export class BucketIndex {
  private sumsByBucket: [number, number][] = [];
  private members: Set<string>[] = [];
  /** The digest each tea has in the sums. */
  private counted = new Map<string, Words>();
  /** Teas changed since the sums were last brought up to date, with their latest state. */
  private pending = new Map<string, TeaState>();
  /** Tea -> when it last changed, oldest first; entries older than recentMs are dropped as they are passed. */
  private recent = new Map<string, number>();

  constructor(
    /** A change younger than this is gossip's to deliver, not anti-entropy's. */
    private readonly recentMs: number,
    private readonly maxRecent = 200_000,
  ) {
    this.clear();
  }

  clear(): void {
    this.sumsByBucket = Array.from({ length: BUCKETS }, () => [0, 0]);
    this.members = Array.from({ length: BUCKETS }, () => new Set<string>());
    this.counted.clear();
    this.pending.clear();
    this.recent.clear();
  }

  /** A commit left the tea in `state` at `now`; null for a repair, which is not a recent change. */
  changed(tea: string, state: TeaState, now: number | null): void {
    this.members[bucketOf(tea)].add(tea);
    this.pending.set(tea, state);
    if (now === null) return;
    this.recent.delete(tea);
    this.recent.set(tea, now);
    this.prune(now);
  }

  /** The tea as the start-up scan found it in storage; ignored when a commit has indexed it already. */
  found(tea: string, state: TeaState): void {
    if (this.counted.has(tea) || this.pending.has(tea)) return;
    this.members[bucketOf(tea)].add(tea);
    this.pending.set(tea, state);
  }

  sums(): Words[] {
    for (const [tea, state] of this.pending) {
      const [n0, n1] = entryDigest(tea, state);
      const [o0, o1] = this.counted.get(tea) ?? [0, 0];
      const sums = this.sumsByBucket[bucketOf(tea)];
      sums[0] = normalize(sums[0] + n0 - o0);
      sums[1] = normalize(sums[1] + n1 - o1);
      this.counted.set(tea, [n0, n1]);
    }
    this.pending.clear();
    return this.sumsByBucket.map(([a, b]) => [a, b] as const);
  }
  teasOf(bucket: number): string[] {
    return [...this.members[bucket]];
  }

  /** Milliseconds since the tea last changed here, or null when that is not recent (or unknown). */
  ageOf(tea: string, now: number): number | null {
    const at = this.recent.get(tea);
    if (at === undefined || now - at >= this.recentMs) return null;
    return now - at;
  }

  private prune(now: number): void {
    for (const [tea, at] of this.recent) {
      if (now - at < this.recentMs && this.recent.size <= this.maxRecent) break;
      this.recent.delete(tea);
    }
  }
}
