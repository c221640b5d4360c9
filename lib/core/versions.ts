/**
 * The merge rule of the contract (docs/protocol.md, "The merge rule"): a tea's value is a set of (choice, clock) pairs
 * whose clocks are pairwise concurrent, plus, once the tea has been deleted, a
 * tombstone clock that every surviving or future pair must not be <= to.
 *
 * One decision beyond the contract (docs/decisions.md): two pairs with *equal* clocks but different
 * choices can only come from a client that reused a clock. The contract says the
 * later one is stale, but then two replicas that saw them in opposite orders
 * would never agree. So among equal clocks the larger choice wins; for every
 * other input the rule is exactly the contract's. With that tie-break the merge is
 * a join on a semilattice: idempotent, commutative and associative.
 */
import { Clock, canonicalKey, compare, counter, join, leq } from './clock';

export interface Version {
  readonly choice: number;
  readonly clock: Clock;
}

export interface TeaState {
  /** Pairwise concurrent versions, in the order the contract's worked example shows. */
  readonly versions: readonly Version[];
  /** Join of the clocks of everything deleted so far, or null if never deleted. */
  readonly tombstone: Clock | null;
}

export const EMPTY: TeaState = Object.freeze({ versions: Object.freeze([]), tombstone: null });

/** True when `incoming` adds nothing that `stored` lacks: older, or equal and not larger. */
function isCoveredBy(incoming: Version, stored: Version): boolean {
  const order = compare(incoming.clock, stored.clock);
  return order === 'before' || (order === 'equal' && incoming.choice <= stored.choice);
}

function isBuriedBy(version: Version, tombstone: Clock | null): boolean {
  return tombstone !== null && leq(version.clock, tombstone);
}

/** True when the tea has at least one live version. */
export function holds(state: TeaState): boolean {
  return state.versions.length > 0;
}

/**
 * Merge one version into a state. Returns the same object when nothing
 * changes, so callers can skip a write with `===`.
 *
 * The new version takes the place of the first version it supersedes and the
 * other superseded ones are dropped; with none superseded it is appended.
 * That is the order the contract's worked example prints.
 */
export function mergeVersion(state: TeaState, incoming: Version): TeaState {
  if (isBuriedBy(incoming, state.tombstone)) return state;
  if (state.versions.some((stored) => isCoveredBy(incoming, stored))) return state;
  const versions: Version[] = [];
  let placed = false;
  for (const stored of state.versions) {
    if (isCoveredBy(stored, incoming)) {
      if (!placed) versions.push(incoming);
      placed = true;
    } else {
      versions.push(stored);
    }
  }
  if (!placed) versions.push(incoming);
  return { versions, tombstone: state.tombstone };
}

/** Raise the tombstone to include `tombstone` and drop every version it buries. */
export function mergeTombstone(state: TeaState, tombstone: Clock | null): TeaState {
  if (tombstone === null) return state;
  if (state.tombstone !== null && leq(tombstone, state.tombstone)) return state;
  const raised = state.tombstone === null ? tombstone : join(state.tombstone, tombstone);
  return { versions: state.versions.filter((v) => !isBuriedBy(v, raised)), tombstone: raised };
}

/** Merge a whole state (a gossiped one, say) pair by pair. */
export function mergeState(state: TeaState, incoming: TeaState): TeaState {
  let merged = mergeTombstone(state, incoming.tombstone);
  for (const version of incoming.versions) merged = mergeVersion(merged, version);
  return merged;
}

/**
 * Delete every version held: they go into the tombstone, so no copy of them
 * can come back through gossip, while a later write with a newer or
 * concurrent clock still can.
 */
export function deleteAll(state: TeaState): TeaState {
  if (!holds(state)) return state;
  // One clock raised in place, not a join per version: a tea may hold many versions of large clocks.
  const tombstone: Record<string, number> = Object.create(null);
  for (const clock of [...(state.tombstone ? [state.tombstone] : []), ...state.versions.map((v) => v.clock)]) {
    for (const id of Object.keys(clock)) tombstone[id] = Math.max(counter(tombstone, id), clock[id]);
  }
  return { versions: [], tombstone };
}

/**
 * Arithmetic mean of the choices, 0 when there are none. The sum runs in
 * ascending order so that replicas holding the same set in a different order
 * report bit-for-bit the same rating.
 */
export function rating(state: TeaState): number {
  if (state.versions.length === 0) return 0;
  const sorted = state.versions.map((v) => v.choice).sort((a, b) => a - b);
  let sum = 0;
  for (const choice of sorted) sum += choice;
  if (Number.isFinite(sum) || !sorted.every(Number.isFinite)) return sum / sorted.length;
  // The sum of finite choices overflowed (e.g. two near Number.MAX_VALUE): their mean is
  // finite, so add the choices already divided, which cannot overflow.
  let mean = 0;
  for (const choice of sorted) mean += choice / sorted.length;
  return mean;
}

/** The versions as a set, independent of order: for comparing replicas. */
export function canonicalVersions(state: TeaState): string[] {
  return state.versions.map((v) => `${JSON.stringify(v.choice)}@${canonicalKey(v.clock)}`).sort();
}

