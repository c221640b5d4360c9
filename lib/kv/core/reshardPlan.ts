/**
 * Resharding and add-member, the pure part: the layout a reshard makes, and
 * which keys a node must receive when a layout changes what it owns.
 *
 * A node's ownership is (shard count, its shard): it must hold the keys
 * whose shard under that count is its shard. It also remembers what it
 * holds (the ownership of the last layout it finished receiving keys for);
 * keys it owns now but did not hold are "pending" until its transfer is done
 * and are fetched from their previous owners on demand meanwhile.
 */
import { KV_LIMITS } from './limits';
import { ShardLayout, Shards, initialLayout, shardOfKey, shardOfNode } from './shardMap';

export type ReshardPlan = { ok: true; layout: ShardLayout } | { ok: false; error: 'bad-count' | 'not-enough-nodes' };

/** Shard s gets floor(n/count) nodes, the first n mod count shards one more. */
function targetSize(nodes: number, count: number, shard: number): number {
  return Math.floor(nodes / count) + (shard < nodes % count ? 1 : 0);
}

/**
 * The nodes of `view` in `count` shards, moving as few as it can: each node
 * stays in its shard while that shard has room, then the rest fill the
 * shards with room, in view order. Without a previous layout: round robin.
 */
export function assignNodes(previous: Shards | null, view: readonly string[], count: number): string[][] {
  if (previous === null) return initialLayout(view, count).shards.map((m) => [...m]);
  const inView = new Set(view);
  const shards: string[][] = Array.from({ length: count }, () => []);
  const placed = new Set<string>();
  previous.forEach((members, s) => {
    if (s >= count) return;
    for (const node of members) {
      if (inView.has(node) && !placed.has(node) && shards[s].length < targetSize(view.length, count, s)) {
        shards[s].push(node);
        placed.add(node);
      }
    }
  });
  for (const node of view) {
    if (placed.has(node)) continue;
    shards[shards.findIndex((m, s) => m.length < targetSize(view.length, count, s))].push(node);
  }
  return shards;
}

/**
 * The layout that reshards the nodes of `view` (the live members) into
 * `count` shards of at least two members each; unsettled until the keys
 * have moved. `current` null is the store without shards: one shard of all.
 */
export function planReshard(current: ShardLayout | null, view: readonly string[], count: number, epoch: number, by: string): ReshardPlan {
  if (!Number.isSafeInteger(count) || count < 1 || count > KV_LIMITS.shards) return { ok: false, error: 'bad-count' };
  if (view.length < 2 * count) return { ok: false, error: 'not-enough-nodes' };
  const shards = assignNodes(current?.shards ?? null, view, count);
  return { ok: true, layout: { epoch, by, settled: false, shards, from: current?.shards ?? [[...view]] } };
}

/** What a node must hold: the keys of `shard` among `count` shards (shard null: none). */
export interface Ownership {
  readonly count: number;
  readonly shard: number | null;
}

export const OWNS_NOTHING: Ownership = Object.freeze({ count: 1, shard: null });

/** A node's ownership under a layout (null: no shards, every member holds every key). */
export function ownershipOf(layout: ShardLayout | null, self: string, isMember: boolean): Ownership {
  if (!isMember) return OWNS_NOTHING;
  if (layout === null) return { count: 1, shard: 0 };
  return { count: layout.shards.length, shard: shardOfNode(layout, self) };
}

export function ownsKey(o: Ownership, key: string): boolean {
  return o.shard !== null && shardOfKey(key, o.count) === o.shard;
}

export function sameOwnership(a: Ownership, b: Ownership): boolean {
  return a.count === b.count && a.shard === b.shard;
}

/**
 * Whether `now` owns keys `held` does not. Jump hashing only ever moves a
 * key to a shard added after it, so a shard that stays while shards are
 * added keeps a subset of its keys; any other change may bring new keys.
 */
export function gainsKeys(held: Ownership, now: Ownership): boolean {
  if (now.shard === null) return false;
  if (held.shard === null) return true;
  if (held.count === 1) return false;
  return !(now.shard === held.shard && now.count >= held.count);
}
