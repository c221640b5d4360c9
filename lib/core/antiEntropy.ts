/**
 * Anti-entropy between two DBs, the pure part. Teas fall into BUCKETS
 * buckets; each DB keeps, per bucket, the sum (mod 2^32, two independent
 * words) of a digest of every tea it holds there. Two DBs compare the 256
 * sums, and exchange only the teas of buckets that differ. Sums, unlike a
 * Merkle tree, update in O(1) on every write: add the new entry's digest,
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

/**
 * Digests already computed, by state (states are immutable). Every write
 * needs the digest of the state it replaces, which was the state written
 * last time: remembering it halves the hashing of a write, which was a
 * tenth of a DB's CPU for applying gossip (measured, profile of a replica).
 */
const digests = new WeakMap<TeaState, { tea: string; words: Words }>();

/** A digest of one tea's whole state; [0, 0] for a tea never written, so it adds nothing. */
export function entryDigest(tea: string, state: TeaState): Words {
  if (state.versions.length === 0 && state.tombstone === null) return [0, 0];
  const known = digests.get(state);
  if (known !== undefined && known.tea === tea) return known.words;
  const text = `${tea}\n${canonicalVersions(state).join('\n')}\n${state.tombstone ? canonicalKey(state.tombstone) : ''}`;
  const words: Words = [stableHash(text, SEED_A), stableHash(text, SEED_B)];
  digests.set(state, { tea, words });
  return words;
}

/** What to add to a bucket's sums when a tea goes from `before` to `after`. */
export function digestDelta(tea: string, before: TeaState, after: TeaState): Words {
  const b = entryDigest(tea, before);
  const a = entryDigest(tea, after);
  return [a[0] - b[0], a[1] - b[1]];
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
