/**
 * A cluster of in-memory nodes (memoryTransport.ts) driven by fake timers:
 * no sockets and no real waiting, for tests of the node driver.
 */
import { silentLogger } from '../../../../lib/log';
import { Op, OpResult } from '../../../../lib/kv/core/ops';
import { ShardLayout } from '../../../../lib/kv/core/shardMap';
import { MemoryNetwork } from '../../../../lib/kv/node/memoryTransport';
import { KvNode } from '../../../../lib/kv/node/node';
import { FakeTimers } from './fakeTimers';

export class TestCluster {
  readonly net = new MemoryNetwork();
  readonly timers = new FakeTimers();
  readonly nodes = new Map<string, KvNode>();

  /** `layout`: the start-up shard layout every node of `view` gets (SHARD_COUNT), none by default. */
  constructor(
    readonly view: string[],
    readonly layout: ShardLayout | null = null,
  ) {}

  node(address: string): KvNode {
    const n = this.nodes.get(address);
    if (!n) throw new Error(`no node ${address}`);
    return n;
  }

  /** Start a node (again) at `address`, as a fresh process with an empty store. */
  async start(address: string, view = this.view, announceAdds = false, layout = this.view.includes(address) ? this.layout : null): Promise<KvNode> {
    this.nodes.get(address)?.stop();
    const node = new KvNode({ self: address, view, announceAdds, transport: this.net.transport(address), log: silentLogger, timers: this.timers, layout });
    this.nodes.set(address, node);
    this.net.attach(address, node);
    await this.timers.during(node.start());
    return node;
  }

  async startAll(): Promise<void> {
    for (const a of this.view) await this.start(a);
  }

  kill(address: string): void {
    this.node(address).stop();
    this.net.detach(address);
  }

  run(address: string, op: Op): Promise<OpResult> {
    return this.timers.during(this.node(address).execute(op));
  }

  stopAll(): void {
    for (const n of this.nodes.values()) n.stop();
  }
}
