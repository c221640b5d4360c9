/**
 * Which nodes must hold a key. Today every node holds every key (seed 000,
 * seed 003 without SHARD_COUNT); shards (the next issue) replace this with a
 * shard map computed from the view, and everything that asks "who holds this
 * key?" or "whose writes must I have?" already goes through here.
 */
export interface Placement {
  /** The nodes that must hold `key`, in view order. */
  replicasOf(key: string, members: readonly string[]): string[];
  /** The nodes whose accepted writes `self` must hold: its replica group. */
  groupOf(self: string, members: readonly string[]): string[];
}

export const fullReplication: Placement = {
  replicasOf: (_key, members) => [...members],
  groupOf: (_self, members) => [...members],
};
