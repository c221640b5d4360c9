/**
 * The shard map (docs/kv.md, the contract's "Shards"): which shard a key lives on, and which
 * nodes make up each shard. Pure and the same on every node.
 *
 * Keys go to shards by jump consistent hashing (Lamping and Veach, 2014): as
 * even as hash-mod, but going from n to n+1 shards moves only the keys the new
 * shard must take (1/(n+1) of them), where hash-mod moves n/(n+1).
 *
 * Nodes go to shards by a layout, a register every node converges on: the
 * start-up layout is computed from VIEW and SHARD_COUNT (node i of VIEW in
 * shard i mod count), and each add-member or reshard makes a new one with an
 * epoch above every epoch seen. Merging keeps the newer (epoch, settled, by).
 * A reshard's layout is first unsettled (keys are moving, the old owners still
 * hold them) and then settled; `from` keeps the shards it replaced, so every
 * node knows where moving keys come from.
 */
import { stableHash } from '../../core/ring';
import { KV_LIMITS } from './limits';

const SHARD_SEED = 0x9e3779b9;

/** Murmur3's finalizer: FNV-1a of similar short keys ("x1", "x2") gives seeds too alike for the stream below. */
function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** A deterministic stream of doubles in (0, 1] from a 32-bit seed (mulberry32). */
function uniformStream(seed: number): () => number {
  let state = mix32(seed) | 0;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + 1) / 4294967296;
  };
}

/** The shard of `key` among `count` shards (jump consistent hash). */
export function shardOfKey(key: string, count: number): number {
  if (count <= 1) return 0;
  const next = uniformStream(stableHash(key, SHARD_SEED));
  let shard = 0;
  for (let jump = 0; jump < count; ) {
    shard = jump;
    jump = Math.floor((shard + 1) / next());
  }
  return shard;
}

export type Shards = readonly (readonly string[])[];

export interface ShardLayout {
  readonly epoch: number;
  /** The node that made it ('' for the start-up layout): the tie-break between equal epochs. */
  readonly by: string;
  /** False while a reshard moves keys to their new shards. */
  readonly settled: boolean;
  /** Members of each shard, by shard id (0, 1, ...). */
  readonly shards: Shards;
  /** The shards this layout replaced (null for the start-up layout): where moving keys come from. */
  readonly from: Shards | null;
}

export function shardCount(layout: ShardLayout | null): number {
  return layout ? layout.shards.length : 1;
}

/** The start-up layout: node i of VIEW in shard i mod count. */
export function initialLayout(view: readonly string[], count: number): ShardLayout {
  const shards = Array.from({ length: count }, (_, s) => view.filter((_, i) => i % count === s));
  return { epoch: 0, by: '', settled: true, shards, from: null };
}

/** The shard `node` belongs to, or null. */
export function shardOfNode(layout: ShardLayout, node: string): number | null {
  const s = layout.shards.findIndex((members) => members.includes(node));
  return s < 0 ? null : s;
}

/** The nodes that must hold `key` under the layout. */
export function ownersOf(layout: ShardLayout, key: string): readonly string[] {
  return layout.shards[shardOfKey(key, layout.shards.length)];
}

/** The nodes that held `key` under the layout this one replaced (none for a start-up layout). */
export function previousOwnersOf(layout: ShardLayout, key: string): readonly string[] {
  return layout.from ? layout.from[shardOfKey(key, layout.from.length)] : [];
}

/** Text equal for equal layouts: the last tie-break, so every node picks the same one. */
function layoutText(l: ShardLayout): string {
  return JSON.stringify([l.shards, l.from]);
}

/** True when `a` replaces `b`: a greater epoch, then settled over unsettled, then the greater `by`, then the greater text. */
export function layoutNewer(a: ShardLayout, b: ShardLayout | null): boolean {
  if (b === null) return true;
  if (a.epoch !== b.epoch) return a.epoch > b.epoch;
  if (a.settled !== b.settled) return a.settled;
  if (a.by !== b.by) return a.by > b.by;
  return layoutText(a) > layoutText(b);
}

/** The layout with `node` added to `shard` (an add-member): settled at once, as no key leaves a node. */
export function withMember(layout: ShardLayout, shard: number, node: string, epoch: number, by: string): ShardLayout {
  const shards = layout.shards.map((members, s) => (s === shard ? [...members, node] : members));
  return { epoch, by, settled: true, shards, from: layout.shards };
}

export function layoutJson(layout: ShardLayout | null): object | null {
  return layout && { epoch: layout.epoch, by: layout.by, settled: layout.settled, shards: layout.shards, from: layout.from };
}

function parseShards(raw: unknown, isAddress: (a: unknown) => boolean): Shards | string {
  if (!Array.isArray(raw) || raw.length < 1 || raw.length > KV_LIMITS.shards) return `shards must be 1 to ${KV_LIMITS.shards} lists`;
  let total = 0;
  for (const members of raw) {
    if (!Array.isArray(members) || !members.every(isAddress)) return 'a shard must be a list of node addresses';
    total += members.length;
  }
  if (total > KV_LIMITS.members) return `a layout lists more than ${KV_LIMITS.members} members`;
  return raw as string[][];
}

/** A layout from a peer's JSON (null stays null: a store without shards), or a message. */
export function parseLayout(raw: unknown, isAddress: (a: unknown) => boolean): ShardLayout | null | string {
  if (raw === null) return null;
  const l = raw as Record<string, unknown>;
  if (typeof l !== 'object' || !Number.isSafeInteger(l.epoch) || (l.epoch as number) < 0) return 'a layout needs a non-negative epoch';
  if (typeof l.by !== 'string' || l.by.length > KV_LIMITS.addressLength || typeof l.settled !== 'boolean') return 'a layout needs by and settled';
  const shards = parseShards(l.shards, isAddress);
  if (typeof shards === 'string') return shards;
  const from = l.from === null ? null : parseShards(l.from, isAddress);
  if (typeof from === 'string') return `from: ${from}`;
  return { epoch: l.epoch as number, by: l.by, settled: l.settled, shards, from };
}
