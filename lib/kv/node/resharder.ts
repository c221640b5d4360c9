/**
 * The operations that change the shard layout, run by the node a client
 * asked (the driver of core/reshardPlan.ts):
 *
 * add-member: a new layout with the node in its shard, settled at once (no
 * node loses keys); the new member receives its keys when it learns it.
 *
 * reshard:
 *  1. install the new layout everywhere (unsettled): from then on every node
 *     routes by it, and the old owners keep the keys they are losing;
 *  2. every node receives its new keys (the old owners have stopped taking
 *     writes for them, so nothing is written behind a pull); the client is
 *     answered once all have;
 *  3. settle: every node hands off and drops the keys it no longer owns.
 * A node that misses a step learns the layout from probes (which carry it)
 * and catches up from its new shard's members.
 */
import { Logger } from '../../log';
import { planReshard } from '../core/reshardPlan';
import { ShardLayout, layoutJson, shardOfNode, withMember } from '../core/shardMap';
import { ShardHost, Sharding } from './sharding';
import { Timing } from './timing';
import { Timers, Transport } from './transport';

export type AddMemberResult = 'done' | 'unchanged' | 'no-such-shard' | 'in-another-shard';
export type ReshardResult = { kind: 'done'; ms: number } | { kind: 'not-enough-nodes' | 'bad-count' | 'busy' } | { kind: 'incomplete'; unconfirmed: string[] };

export interface ResharderOptions {
  host: ShardHost;
  shards: Sharding;
  transport: Transport;
  timers: Timers;
  log: Logger;
  timing: Timing;
}

export class Resharder {
  private coordinating = false;

  constructor(private readonly o: ResharderOptions) {}

  private get shards(): Sharding {
    return this.o.shards;
  }

  isCoordinating(): boolean {
    return this.coordinating;
  }

  /** PUT add-member: `address` joins shard `id` everywhere; it receives the shard's keys when it learns so. */
  addMember(id: number, address: string): AddMemberResult {
    const layout = this.shards.layout();
    if (this.shards.membersOf(id) === null) return 'no-such-shard';
    if (layout === null) return this.o.host.addToView(address);
    const now = shardOfNode(layout, address);
    // A member removed from the view and added back keeps its shard.
    if (now === id) return this.o.host.members().includes(address) ? 'unchanged' : this.o.host.addToView(address);
    if (now !== null) return 'in-another-shard';
    if (!this.o.host.members().includes(address)) this.o.host.addToView(address);
    const next = withMember(layout, id, address, layout.epoch + 1, this.o.host.self);
    this.shards.adopt(next);
    this.shards.broadcast(next, [address]);
    this.o.log.info(`added ${address} to shard ${id}`);
    return 'done';
  }

  /** PUT reshard: move every key to its shard among `count`; resolves once every live node holds its new keys. */
  async reshard(count: number): Promise<ReshardResult> {
    if (this.coordinating) return { kind: 'busy' };
    const check = planReshard(this.shards.layout(), this.o.host.view(), count, 0, this.o.host.self);
    if (!check.ok) return { kind: check.error };
    this.coordinating = true;
    const t0 = this.o.timers.now();
    try {
      // A reshard left unsettled (its coordinator died) is finished first: its old owners still hold the keys it moves.
      const pending = this.shards.layout();
      if (pending !== null && !pending.settled) {
        this.o.log.warn(`finishing the unsettled reshard of epoch ${pending.epoch} first`);
        await this.moveKeys(pending);
      }
      const plan = planReshard(this.shards.layout(), this.o.host.view(), count, (this.shards.layout()?.epoch ?? 0) + 1, this.o.host.self);
      if (!plan.ok) return { kind: plan.error };
      this.o.log.info(`resharding into ${count} shards (epoch ${plan.layout.epoch})`);
      this.shards.adopt(plan.layout);
      const unconfirmed = await this.moveKeys(plan.layout);
      const ms = this.o.timers.now() - t0;
      this.o.log.info(`reshard into ${count} shards done in ${ms} ms${unconfirmed.length ? `; not confirmed by ${unconfirmed.join(', ')}` : ''}`);
      return unconfirmed.length ? { kind: 'incomplete', unconfirmed } : { kind: 'done', ms };
    } finally {
      this.coordinating = false;
    }
  }

  /** Steps 1 to 3 of a reshard for `layout`, adopted here already: install, receive, settle. Returns the nodes that did not confirm. */
  private async moveKeys(layout: ShardLayout): Promise<string[]> {
    const others = this.o.host.view().filter((n) => n !== this.o.host.self);
    await this.callAll(others, 'layout', { layout: layoutJson(layout) }, this.o.timing.requestWaitMs);
    const [own, unconfirmed] = await Promise.all([this.shards.receive(), this.callAll(others, 'transfer', { epoch: layout.epoch }, this.o.timing.transferWaitMs * 2)]);
    if (!own) unconfirmed.push(this.o.host.self);
    const settled = { ...layout, settled: true };
    this.shards.adopt(settled);
    this.shards.broadcast(settled);
    return unconfirmed;
  }

  /** Call every peer; a live peer that fails is asked once more. Returns the live peers that never answered. */
  private async callAll(peers: string[], method: 'layout' | 'transfer', body: object, timeoutMs: number): Promise<string[]> {
    const results = await Promise.all(
      peers.map(async (peer) => {
        for (let attempt = 0; attempt < 2; attempt++) {
          try {
            await this.o.transport.call(peer, method, body, timeoutMs);
            return null;
          } catch (e) {
            if (!this.o.host.isAlive(peer)) return null;
            this.o.log.warn(`${method} on ${peer} failed: ${(e as Error).message}`);
          }
        }
        return peer;
      }),
    );
    return results.filter((p): p is string => p !== null);
  }
}
