/**
 * A key's versions and the winner rule of docs/kv.md. A key holds a set of
 * pairwise concurrent versions (a value or a tombstone, each with a clock,
 * the first accepting node's timestamp and that node's address): a version
 * whose clock another's dominates is dropped, as the tea store drops
 * superseded siblings. What a client reads is the winner of the set.
 *
 * Merging is a join on a semilattice (idempotent, commutative, associative),
 * so replicas that receive the same versions in any order hold the same set
 * and report the same winner.
 */
import { Clock, canonicalKey, compare } from '../../core/clock';
import { KV_LIMITS } from './limits';

/** Any JSON value a door stores (seed 000 stores strings; seed 003 whatever JSON value the client sent). */
export type Value = unknown;

export interface KvVersion {
  /** True for a tombstone: the key was deleted by a write with this clock. */
  readonly deleted: boolean;
  /** The value; undefined for a tombstone. */
  readonly value: Value;
  readonly clock: Clock;
  /** Wall-clock ms given by the first node that accepted the write. */
  readonly timestamp: number;
  /** The address of that node. */
  readonly origin: string;
}

export type VersionSet = readonly KvVersion[];

const EMPTY_SET: VersionSet = Object.freeze([]);

/** The tie-break among concurrent versions: later timestamp, then greater origin, then a fixed order of clock and value. */
function ranksAbove(a: KvVersion, b: KvVersion): boolean {
  if (a.timestamp !== b.timestamp) return a.timestamp > b.timestamp;
  if (a.origin !== b.origin) return a.origin > b.origin;
  const ka = canonicalKey(a.clock);
  const kb = canonicalKey(b.clock);
  if (ka !== kb) return ka > kb;
  return versionText(a) > versionText(b);
}

function versionText(v: KvVersion): string {
  return v.deleted ? '' : `=${JSON.stringify(v.value)}`;
}

/**
 * Merge one version into a set. Returns the same array when nothing changes,
 * so callers can skip work with `===`. Equal clocks mean the same write (a
 * clock holds its writer's own new sequence number), so a copy is dropped;
 * should a peer ever send two different versions with one clock, the one
 * that ranks above is kept, so every replica still agrees.
 */
export function mergeVersion(set: VersionSet, incoming: KvVersion): VersionSet {
  const kept: KvVersion[] = [];
  for (const stored of set) {
    const order = compare(incoming.clock, stored.clock);
    if (order === 'before') return set;
    if (order === 'equal') {
      if (!ranksAbove(incoming, stored)) return set;
      continue;
    }
    if (order === 'concurrent') kept.push(stored);
  }
  kept.push(incoming);
  // A key with more concurrent versions than the bound keeps the highest-ranked ones.
  if (kept.length > KV_LIMITS.versionsPerKey) {
    kept.sort((a, b) => (ranksAbove(a, b) ? -1 : 1));
    kept.length = KV_LIMITS.versionsPerKey;
  }
  return kept;
}

export function mergeSets(set: VersionSet, incoming: VersionSet): VersionSet {
  let merged = set;
  for (const v of incoming) merged = mergeVersion(merged, v);
  return merged;
}

/** The version a client reads: the one that ranks above every other (the set's clocks are pairwise concurrent). */
export function winner(set: VersionSet): KvVersion | undefined {
  let best: KvVersion | undefined;
  for (const v of set) if (best === undefined || ranksAbove(v, best)) best = v;
  return best;
}

/** The winner when it is a value, else undefined (never written, or deleted). */
export function liveWinner(set: VersionSet): KvVersion | undefined {
  const w = winner(set);
  return w && !w.deleted ? w : undefined;
}

/** The set as text independent of order: equal for replicas holding the same set. */
export function canonicalSet(set: VersionSet): string {
  return set
    .map((v) => `${canonicalKey(v.clock)}@${v.timestamp}@${v.origin}${versionText(v)}`)
    .sort()
    .join('\n');
}

export function emptySet(): VersionSet {
  return EMPTY_SET;
}

/** Rough bytes a version costs in memory and on the wire: for outbox and store bounds. */
export function versionBytes(v: KvVersion): number {
  const value = v.deleted ? 0 : typeof v.value === 'string' ? v.value.length : JSON.stringify(v.value).length;
  return 64 + value + Object.keys(v.clock).length * 40;
}
