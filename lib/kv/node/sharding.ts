/**
 * The shard side of a node, the driver around core/shardMap.ts and
 * core/reshardPlan.ts: which layout it follows, receiving the keys a new
 * layout gives it, and handing off the keys it lost. The operations that
 * make a new layout (add-member, reshard) are in resharder.ts.
 *
 * Receiving keys. When a layout makes a node own keys it did not hold, it
 * pulls its shard's partition from every node that may hold some of it (a
 * transfer): at once for a settled layout, on the coordinator's word during a
 * reshard. Meanwhile a request for one of those keys first fetches that key
 * from its previous and current owners, so it is read, not missed.
 *
 * Handing off. Once a layout is settled, a node pushes the keys of shards it
 * left to a member of each (only what differs) and drops them.
 */
import { Clock, makeClock } from '../../core/clock';
import { Logger } from '../../log';
import { isAddress } from '../core/address';
import { Placement, placementFor } from '../core/placement';
import { Progress } from '../core/progress';
import { OWNS_NOTHING, Ownership, gainsKeys, ownershipOf, ownsKey, sameOwnership } from '../core/reshardPlan';
import { ShardLayout, layoutJson, layoutNewer, ownersOf, parseLayout, previousOwnersOf, shardCount, shardOfNode } from '../core/shardMap';
import { VersionStore } from '../core/store';
import { BucketSync } from './bucketSync';
import { Timing } from './timing';
import { PeerRequestError, Timers, Transport } from './transport';

/** What the sharding driver needs of its node. */
export interface ShardHost {
  readonly self: string;
  /** Members in view order (dead ones included). */
  members(): readonly string[];
  /** Live members in view order. */
  view(): string[];
  isMember(): boolean;
  isReady(): boolean;
  isAlive(peer: string): boolean;
  isServing(peer: string): boolean;
  addToView(address: string): 'done' | 'unchanged';
}

export interface ShardingOptions {
  host: ShardHost;
  layout: ShardLayout | null;
  store: VersionStore;
  sync: BucketSync;
  progress: Progress;
  transport: Transport;
  timers: Timers;
  log: Logger;
  timing: Timing;
}

/** Attempts per source in a transfer: a source may not have installed the layout yet. */
const TRANSFER_ATTEMPTS = 3;

function unique(nodes: Iterable<string>): string[] {
  return [...new Set(nodes)];
}

export class Sharding {
  private current: ShardLayout | null;
  private placementNow: Placement;
  /** What the store holds for sure: the ownership of the last finished transfer (conservative). */
  private held: Ownership = OWNS_NOTHING;
  private readonly fetched = new Set<string>();
  private transfer: Promise<boolean> | null = null;
  readonly counters = { transfers: 0, fetchedKeys: 0, handedOff: 0, dropped: 0 };

  constructor(private readonly o: ShardingOptions) {
    this.current = o.layout;
    this.placementNow = placementFor(o.layout);
  }

  layout(): ShardLayout | null {
    return this.current;
  }

  placement(): Placement {
    return this.placementNow;
  }

  ownership(): Ownership {
    return ownershipOf(this.current, this.o.host.self, this.o.host.isMember());
  }

  /** Shard ids, in order. */
  shardIds(): number[] {
    return Array.from({ length: shardCount(this.current) }, (_, s) => s);
  }

  /** The members of shard `id` (dead ones included), or null for an unknown id. */
  membersOf(id: number): string[] | null {
    if (!Number.isInteger(id) || id < 0 || id >= shardCount(this.current)) return null;
    const members = this.o.host.members();
    return this.current === null ? [...members] : this.current.shards[id].filter((n) => members.includes(n));
  }

  // ---- adopting layouts ----

  /**
   * Follow `layout` if it is newer than this node's. A node still starting
   * also takes a peer's layout of its own epoch: it defers to the nodes that
   * were there first (its SHARD_COUNT and VIEW may be from an earlier day).
   */
  adopt(layout: ShardLayout): boolean {
    const mine = this.current;
    const deferring = !this.o.host.isReady() && mine !== null && layout.epoch === mine.epoch && JSON.stringify(layoutJson(layout)) !== JSON.stringify(layoutJson(mine));
    if (!layoutNewer(layout, mine) && !deferring) return false;
    if (mine !== null && layout.epoch === 0 && mine.epoch === 0 && !deferring) {
      this.o.log.warn('a peer was started with another SHARD_COUNT or VIEW: its start-up layout differs from this node\'s');
    }
    this.current = layout;
    this.placementNow = placementFor(layout);
    if (shardCount(mine) !== shardCount(layout)) this.o.store.repartition(this.placementNow.shardOf);
    const shard = shardOfNode(layout, this.o.host.self);
    const what = layout.settled ? 'layout' : 'reshard layout (keys moving)';
    this.o.log.info(`${what} epoch ${layout.epoch}: ${layout.shards.length} shards [${layout.shards.map((m) => m.length).join('/')} members]; this node in ${shard === null ? 'none' : `shard ${shard}`}`);
    this.reconsider();
    return true;
  }

  /** Send `layout` to every member (and `also`) at once; probes carry it too, so one lost message is no loss. */
  broadcast(layout: ShardLayout, also: string[] = []): void {
    const body = { layout: layoutJson(layout) };
    for (const peer of unique([...this.o.host.members(), ...also])) {
      if (peer !== this.o.host.self) this.o.transport.call(peer, 'layout', body, this.o.timing.requestWaitMs).catch(() => undefined);
    }
  }

  /** Adopt a layout a peer sent (a probe, a join, a broadcast); a malformed one is refused. */
  adoptJson(raw: unknown): boolean {
    if (raw === undefined || raw === null) return false;
    const layout = parseLayout(raw, isAddress);
    if (typeof layout === 'string') throw new PeerRequestError(`bad layout: ${layout}`);
    return layout !== null && this.adopt(layout);
  }

  /**
   * This node's ownership may have changed (a layout, its own membership):
   * keys it now owns but does not hold are received, at once when the layout
   * is settled, on the coordinator's word during a reshard.
   */
  reconsider(): void {
    if (!this.o.host.isReady()) return; // the start-up catch-up receives what it owns
    const now = this.ownership();
    if (!gainsKeys(this.held, now)) {
      if (this.transfer === null) this.setHeld(now);
      return;
    }
    if (this.current === null || this.current.settled) void this.receive();
  }

  /** The start-up catch-up is done: the store holds what this node owns. */
  markCaughtUp(): void {
    this.setHeld(this.ownership());
  }

  /** Added to the view: whatever it held, it may have missed writes since its start, so it receives its keys anew. */
  forgetHeld(): void {
    this.setHeld(OWNS_NOTHING);
  }

  private setHeld(o: Ownership): void {
    this.held = o;
    this.fetched.clear();
  }

  // ---- receiving keys ----

  /** A key this node owns but may not hold yet. */
  private isPending(key: string): boolean {
    const now = this.ownership();
    if (sameOwnership(now, this.held) || this.fetched.has(key)) return false;
    return ownsKey(now, key) && !ownsKey(this.held, key);
  }

  /** Nodes that may hold `key`: its previous owners and its current ones. */
  private holdersOf(key: string): string[] {
    const members = this.o.host.members();
    const nodes = this.current === null ? members : [...previousOwnersOf(this.current, key), ...ownersOf(this.current, key)];
    return unique(nodes).filter((n) => n !== this.o.host.self && this.o.host.isAlive(n));
  }

  /** Before serving a key on its way here, fetch it from the nodes that may hold it (bounded by `deadline`). */
  async ensureHeld(key: string, deadline: number): Promise<void> {
    if (!this.isPending(key)) return;
    const wait = Math.max(1, deadline - this.o.timers.now());
    const replies = await Promise.allSettled(this.holdersOf(key).map((peer) => this.o.transport.call(peer, 'fetch', { keys: [key] }, wait)));
    let answered = false;
    for (const r of replies) {
      if (r.status !== 'fulfilled') continue;
      const entries = (r.value as { entries?: unknown })?.entries;
      if (!Array.isArray(entries)) continue;
      this.o.sync.mergeEntries(entries);
      answered = true;
    }
    if (answered) {
      this.fetched.add(key);
      this.counters.fetchedKeys++;
    }
  }

  /** Receive every key this node owns and does not hold; resolves true once it holds them (at once if it does). */
  receive(): Promise<boolean> {
    this.transfer ??= this.receiveAll().finally(() => (this.transfer = null));
    return this.transfer;
  }

  private async receiveAll(): Promise<boolean> {
    for (let round = 0; round < 3; round++) {
      const target = this.ownership();
      if (!gainsKeys(this.held, target)) {
        this.setHeld(target);
        return true;
      }
      if (!(await this.pullPartition(target))) return false;
      if (sameOwnership(target, this.ownership())) return true;
    }
    return false;
  }

  /**
   * Pull `target`'s partition from every live node that may hold some of it:
   * the previous layout's nodes and this shard's members. The first brings
   * most; the others only what differs.
   */
  private async pullPartition(target: Ownership): Promise<boolean> {
    const layout = this.current;
    const group = this.placementNow.groupOf(this.o.host.self, this.o.host.members());
    const sources = unique([...(layout?.from ?? []).flat(), ...group, ...(layout === null ? this.o.host.members() : [])]).filter((n) => n !== this.o.host.self);
    const t0 = this.o.timers.now();
    this.counters.transfers++;
    let merged = 0;
    const failed: string[] = [];
    const trusted: Clock[] = [];
    for (const peer of sources) {
      const outcome = await this.pullFrom(peer, target);
      if (outcome === 'down') continue;
      if (outcome === null) failed.push(peer);
      else {
        merged += outcome.merged;
        if (outcome.complete) trusted.push(outcome.applied);
      }
    }
    if (failed.length > 0) {
      this.o.log.warnEvery('receive', 10_000, `receiving shard ${target.shard}: ${failed.join(', ')} could not be read; keys on their way are fetched one by one, and it tries again`);
      return false;
    }
    // Having pulled from every node that held part of this shard, this node holds their shard members' writes.
    const inGroup = new Set(group);
    for (const applied of trusted) this.o.progress.joinClock(makeClock(Object.entries(applied).filter(([origin]) => inGroup.has(origin))));
    this.setHeld(target);
    this.o.log.info(`received shard ${target.shard} of ${target.count}: ${merged} keys merged from ${sources.length} nodes in ${this.o.timers.now() - t0} ms`);
    return true;
  }

  private async pullFrom(peer: string, target: Ownership): Promise<Awaited<ReturnType<BucketSync['syncWith']>> | 'down' | null> {
    for (let attempt = 1; attempt <= TRANSFER_ATTEMPTS; attempt++) {
      if (!this.o.host.isAlive(peer)) return 'down';
      try {
        const deadline = this.o.timers.now() + this.o.timing.transferWaitMs;
        return await this.o.sync.syncWith(peer, { partition: target.shard ?? 0, pull: 'all', push: false, deadline, trustClock: false });
      } catch (e) {
        if (attempt === TRANSFER_ATTEMPTS) this.o.log.warn(`pulling shard ${target.shard} from ${peer} failed: ${(e as Error).message}`);
        else await new Promise((r) => this.o.timers.setTimeout(() => r(undefined), this.o.timing.probeIntervalMs));
      }
    }
    return null;
  }

  // ---- handing off ----

  /**
   * Once a layout is settled, hand the keys of shards this node left to a
   * live member of each (only what differs is sent) and drop them.
   */
  async handOff(deadline: number): Promise<void> {
    const layout = this.current;
    if (layout === null || !layout.settled || !this.o.host.isMember() || this.transfer !== null) return;
    const own = this.ownership().shard;
    for (const partition of this.o.store.heldPartitions()) {
      if (partition === own) continue;
      const owner = layout.shards[partition]?.find((n) => n !== this.o.host.self && this.o.host.isServing(n));
      if (!owner) continue;
      const outcome = await this.o.sync.syncWith(owner, { partition, pull: 'none', push: true, deadline, trustClock: false });
      const dropped = this.o.store.dropPartition(partition);
      this.counters.handedOff += outcome.pushed;
      this.counters.dropped += dropped;
      this.o.log.info(`left shard ${partition}: pushed ${outcome.pushed} of its keys that ${owner} might lack, and dropped its ${dropped} keys here`);
    }
  }

  /** The coordinator asks this node to receive its keys of layout `epoch`. */
  async answerTransfer(body: Record<string, unknown>): Promise<object> {
    if (this.current?.epoch !== body.epoch) throw new PeerRequestError(`this node follows layout epoch ${this.current?.epoch ?? 'none'}, not ${String(body.epoch)}`);
    if (!(await this.receive())) throw new PeerRequestError('some keys of this node\'s new shard could not be received');
    return { ok: true };
  }

  /** The number of live keys of shard `id` (asked of a member when this node is not one), or null for an unknown id. */
  async keyCount(id: number): Promise<number | null> {
    const members = this.membersOf(id);
    if (members === null) return null;
    if (this.ownership().shard === id) return this.o.store.liveCount(id);
    const candidates = members.filter((n) => this.o.host.isServing(n));
    for (const peer of candidates) {
      try {
        const reply = (await this.o.transport.call(peer, 'keyCount', { count: shardCount(this.current), shard: id }, this.o.timing.requestWaitMs)) as { keys?: unknown };
        if (Number.isSafeInteger(reply?.keys)) return reply.keys as number;
      } catch {
        // the next member
      }
    }
    throw new Error(`no member of shard ${id} answered`);
  }

  answerKeyCount(body: Record<string, unknown>): object {
    if (body.count !== shardCount(this.current) || !Number.isInteger(body.shard)) throw new PeerRequestError('keyCount needs this node\'s shard count and a shard');
    return { keys: this.o.store.liveCount(body.shard as number) };
  }

  status(): object {
    return {
      layout: layoutJson(this.current),
      ownership: this.ownership(),
      held: this.held,
      receiving: this.transfer !== null,
      ...this.counters,
    };
  }
}
