/**
 * Which nodes hold a key, and whose writes a node must hold: the one place
 * that says so. Without shards (seed 000; seed 003 without SHARD_COUNT) every
 * member holds every key; with a layout (core/shardMap.ts) a key's replicas
 * are its shard's members. `members` is the membership (not liveness): a
 * member that is down is still a replica, and catches up when back.
 */
import { ShardLayout, ownersOf, shardCount, shardOfKey, shardOfNode } from './shardMap';

export interface Placement {
  /** The shard count that partitions keys (1 without shards). */
  readonly count: number;
  shardOf(key: string): number;
  /** The nodes that must hold `key`, in layout order. */
  replicasOf(key: string, members: readonly string[]): string[];
  /** The nodes whose accepted writes `self` must hold: its shard's members. */
  groupOf(self: string, members: readonly string[]): string[];
}

export const fullReplication: Placement = {
  count: 1,
  shardOf: () => 0,
  replicasOf: (_key, members) => [...members],
  groupOf: (_self, members) => [...members],
};

export function placementFor(layout: ShardLayout | null): Placement {
  if (layout === null) return fullReplication;
  const count = shardCount(layout);
  const inMembers = (nodes: readonly string[], members: readonly string[]) => nodes.filter((n) => members.includes(n));
  return {
    count,
    shardOf: (key) => shardOfKey(key, count),
    replicasOf: (key, members) => inMembers(ownersOf(layout, key), members),
    groupOf: (self, members) => {
      const shard = shardOfNode(layout, self);
      return shard === null ? [] : inMembers(layout.shards[shard], members);
    },
  };
}
