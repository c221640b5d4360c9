/**
 * Who belongs to the store, as every node converges on it. Each address has
 * an entry {member, epoch, by, rank}: a change (PUT or DELETE on the view)
 * takes an epoch one above every epoch this node has seen (a Lamport clock),
 * and merging two memberships keeps, per address, the entry with the greater
 * (epoch, by). Nodes exchange their memberships on every probe, so a change
 * reaches every member however briefly one was unreachable.
 *
 * Entries of epoch 0 are what a node's own VIEW variable said: beliefs, never
 * taught to others (a node started with the new view in its VIEW is not a
 * member until someone adds it, as seed 000 expects).
 *
 * The order is the original VIEW's, then added nodes in order of addition:
 * rank [0, position] for the VIEW, [epoch, address] for an added node.
 */
import { KV_LIMITS } from './limits';

export interface MemberEntry {
  readonly address: string;
  readonly member: boolean;
  readonly epoch: number;
  /** Who made the change ('' for the start-up VIEW): the tie-break between equal epochs. */
  readonly by: string;
  readonly rank: readonly [number, string];
}

export type MembershipJson = MemberEntry[];

export interface MembershipChange {
  address: string;
  member: boolean;
}

function newer(a: MemberEntry, b: MemberEntry): boolean {
  return a.epoch !== b.epoch ? a.epoch > b.epoch : a.by > b.by;
}

function rankOrder(a: MemberEntry, b: MemberEntry): number {
  if (a.rank[0] !== b.rank[0]) return a.rank[0] - b.rank[0];
  return a.rank[1] < b.rank[1] ? -1 : a.rank[1] > b.rank[1] ? 1 : 0;
}

export class Membership {
  private readonly entries = new Map<string, MemberEntry>();
  private maxEpoch = 0;
  /** members() runs on every request: sorted once per change. */
  private sortedMembers: readonly string[] | null = null;

  /** The start-up VIEW, in its order. */
  constructor(view: readonly string[]) {
    view.forEach((address, i) => {
      this.entries.set(address, { address, member: true, epoch: 0, by: '', rank: [0, String(i).padStart(6, '0')] });
    });
  }

  /** Members in view order. */
  members(): readonly string[] {
    this.sortedMembers ??= Object.freeze([...this.entries.values()].filter((e) => e.member).sort(rankOrder).map((e) => e.address));
    return this.sortedMembers;
  }

  isMember(address: string): boolean {
    return this.entries.get(address)?.member === true;
  }

  /** Everyone ever known, member or removed: who is told about a change. */
  known(): string[] {
    return [...this.entries.keys()];
  }

  epochOf(address: string): number {
    return this.entries.get(address)?.epoch ?? -1;
  }

  /** Make `address` a member (again): a change by `by`. */
  add(address: string, by: string): MembershipChange[] {
    const epoch = ++this.maxEpoch;
    return this.put({ address, member: true, epoch, by, rank: [epoch, address] });
  }

  /** Take `address` out: a change by `by`. Its rank is kept, should it come back. */
  remove(address: string, by: string): MembershipChange[] {
    const epoch = ++this.maxEpoch;
    const rank = this.entries.get(address)?.rank ?? [epoch, address];
    return this.put({ address, member: false, epoch, by, rank });
  }

  /** Merge a peer's entries; returns what changed in who is a member. */
  merge(remote: readonly MemberEntry[]): MembershipChange[] {
    const changes: MembershipChange[] = [];
    for (const entry of remote) {
      if (entry.epoch === 0) continue;
      const local = this.entries.get(entry.address);
      if (local && !newer(entry, local)) continue;
      if (!local && this.entries.size >= KV_LIMITS.members) continue;
      changes.push(...this.put(entry));
    }
    return changes;
  }

  private put(entry: MemberEntry): MembershipChange[] {
    this.maxEpoch = Math.max(this.maxEpoch, entry.epoch);
    const before = this.entries.get(entry.address)?.member ?? false;
    this.entries.set(entry.address, entry);
    this.sortedMembers = null;
    return before === entry.member ? [] : [{ address: entry.address, member: entry.member }];
  }

  toJson(): MembershipJson {
    return [...this.entries.values()];
  }

  /** A short text equal for equal memberships: a probe sends the whole list only when it differs. */
  fingerprint(): string {
    return [...this.entries.values()]
      .filter((e) => e.epoch > 0)
      .map((e) => `${e.address}/${e.member ? 1 : 0}/${e.epoch}/${e.by}`)
      .sort()
      .join(',');
  }
}

/** Entries from a peer's JSON; malformed ones are a message. */
export function parseMembership(raw: unknown, isAddress: (a: unknown) => boolean): MemberEntry[] | string {
  if (!Array.isArray(raw)) return 'membership must be an array';
  if (raw.length > KV_LIMITS.members) return `membership lists more than ${KV_LIMITS.members} entries`;
  const out: MemberEntry[] = [];
  for (const e of raw as Record<string, unknown>[]) {
    const rank = e?.rank as unknown[];
    if (
      !e || !isAddress(e.address) || typeof e.member !== 'boolean' || !Number.isSafeInteger(e.epoch) || (e.epoch as number) < 0 ||
      typeof e.by !== 'string' || e.by.length > KV_LIMITS.addressLength || !Array.isArray(rank) || rank.length !== 2 ||
      !Number.isSafeInteger(rank[0]) || typeof rank[1] !== 'string' || (rank[1] as string).length > KV_LIMITS.addressLength
    ) {
      return 'membership has a malformed entry';
    }
    out.push({ address: e.address as string, member: e.member, epoch: e.epoch as number, by: e.by, rank: [rank[0] as number, rank[1] as string] });
  }
  return out;
}
