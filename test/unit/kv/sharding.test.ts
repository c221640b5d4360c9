/**
 * Shards in the node driver (lib/kv/node/sharding.ts), stepped in memory
 * with fake timers: where keys live, forwarding, add-member, a reshard and
 * its keys on their way, a member's failure.
 */
import { expect } from 'chai';
import { Clock, makeClock } from '../../../lib/core/clock';
import { OpResult } from '../../../lib/kv/core/ops';
import { initialLayout, layoutJson, ownersOf, shardOfKey } from '../../../lib/kv/core/shardMap';
import { planReshard } from '../../../lib/kv/core/reshardPlan';
import { get, put } from './support/ops';
import { TestCluster } from './support/testCluster';

const NODES = Array.from({ length: 7 }, (_, i) => `10.0.1.${i + 2}:8080`);
const SIX = NODES.slice(0, 6);
const SEVENTH = NODES[6];

/** Write `n` keys round robin over `via`, each PUT passing the last one's context on; returns each key's PUT result. */
async function writeKeys(cluster: TestCluster, via: string[], n: number, prefix = 'k'): Promise<Map<string, OpResult>> {
  const out = new Map<string, OpResult>();
  let context: Clock = makeClock();
  for (let i = 0; i < n; i++) {
    const r = await cluster.run(via[i % via.length], put(`${prefix}${i}`, `v${i}`, context));
    out.set(`${prefix}${i}`, r);
    context = r.context;
  }
  return out;
}

/** Every key read from every node of `readers` gives its value and exactly the clock its PUT returned. */
async function expectReadable(cluster: TestCluster, readers: string[], written: Map<string, OpResult>): Promise<void> {
  for (const [key, w] of written) {
    for (const n of readers) {
      const r = await cluster.run(n, get(key, w.context));
      expect(r.value, `${key} on ${n}`).to.equal(`v${key.slice(1)}`);
      expect(r.versionClock, `${key} on ${n}`).to.deep.equal(w.context);
    }
  }
}

describe('kv shards, stepped in memory', () => {
  let cluster: TestCluster;
  afterEach(() => cluster.stopAll());

  it('a key lives on its shard\'s members only; any node answers it, and a GET gives the PUT\'s clock whatever the client sent', async () => {
    cluster = new TestCluster(SIX, initialLayout(SIX, 2));
    await cluster.startAll();
    const written = await writeKeys(cluster, SIX, 40);
    await cluster.timers.advance(500);
    for (const [key, w] of written) {
      const owners = ownersOf(initialLayout(SIX, 2), key);
      expect(w.shardId).to.equal(shardOfKey(key, 2));
      for (const n of SIX) expect(cluster.node(n).localVersions(key).winner !== null, `${key} on ${n}`).to.equal(owners.includes(n));
    }
    await expectReadable(cluster, SIX, written);
    const [last] = [...written.values()].slice(-1);
    const first = await cluster.run(SIX[3], get('k0', last.context));
    expect(first.versionClock, 'a client that knows more still gets the version\'s clock').to.deep.equal(written.get('k0')?.context);
    expect(Object.keys(last.context).length, 'metadata passed on over 40 keys and both shards: one entry per node at most').to.be.at.most(6);
  });

  it('a seventh node learns the layout when it announces itself, and added to shard 1 receives its keys', async () => {
    cluster = new TestCluster(SIX, initialLayout(SIX, 2));
    await cluster.startAll();
    const written = await writeKeys(cluster, SIX, 60);
    const g = await cluster.start(SEVENTH, NODES, true, null);
    expect(layoutJson(g.shards.layout())).to.deep.equal(layoutJson(initialLayout(SIX, 2)));
    expect(g.shards.ownership().shard, 'in no shard until added').to.equal(null);
    expect((await cluster.run(SEVENTH, get('k1'))).value, 'it forwards meanwhile').to.equal('v1');
    expect(cluster.node(SIX[0]).resharder.addMember(1, SEVENTH)).to.equal('done');
    expect(cluster.node(SIX[0]).resharder.addMember(1, SEVENTH)).to.equal('unchanged');
    expect(cluster.node(SIX[0]).resharder.addMember(0, SEVENTH)).to.equal('in-another-shard');
    expect(cluster.node(SIX[0]).resharder.addMember(2, SEVENTH)).to.equal('no-such-shard');
    await cluster.timers.advance(1000);
    for (const n of NODES) expect(cluster.node(n).shards.membersOf(1), n).to.deep.equal([SIX[1], SIX[3], SIX[5], SEVENTH]);
    for (const [key] of written) expect(g.localVersions(key).winner !== null, key).to.equal(shardOfKey(key, 2) === 1);
    expect(await g.shards.keyCount(1)).to.equal(await cluster.node(SIX[1]).shards.keyCount(1));
  });

  it('reshard 2 -> 3 with seven nodes: 3/2/2, every key readable from every node, then held by its new shard only', async () => {
    cluster = new TestCluster(SIX, initialLayout(SIX, 2));
    await cluster.startAll();
    await cluster.start(SEVENTH, NODES, true, null);
    cluster.node(SIX[0]).resharder.addMember(1, SEVENTH);
    const written = await writeKeys(cluster, NODES, 90);
    await cluster.timers.advance(500);
    expect(await cluster.timers.during(cluster.node(SIX[2]).resharder.reshard(10))).to.deep.equal({ kind: 'not-enough-nodes' });
    const result = await cluster.timers.during(cluster.node(SIX[2]).resharder.reshard(3));
    expect(result.kind).to.equal('done');
    const layout = cluster.node(SIX[4]).shards.layout();
    expect(layout?.shards.map((m) => m.length)).to.deep.equal([3, 2, 2]);
    await expectReadable(cluster, NODES, written);
    await cluster.timers.advance(3000); // settled: every node hands off and drops what it left
    for (const [key] of written) {
      const owners = layout ? ownersOf(layout, key) : [];
      for (const n of NODES) expect(cluster.node(n).localVersions(key).winner !== null, `${key} on ${n}`).to.equal(owners.includes(n));
    }
    for (let s = 0; s < 3; s++) {
      const counts = await Promise.all(NODES.map((n) => cluster.timers.during(cluster.node(n).shards.keyCount(s))));
      expect(new Set(counts).size, `shard ${s}: ${counts}`).to.equal(1);
    }
  });

  it('during a reshard, a key on its way to a node is fetched from its old owners before the node answers it', async () => {
    cluster = new TestCluster(SIX, initialLayout(SIX, 2));
    await cluster.startAll();
    const written = await writeKeys(cluster, SIX, 60);
    await cluster.timers.advance(500);
    const plan = planReshard(initialLayout(SIX, 2), SIX, 3, 1, SIX[0]);
    if (!plan.ok) throw new Error('no plan');
    // Step 1 only (installed everywhere, nothing received yet), as if the coordinator were slow to send step 2.
    for (const n of SIX) await cluster.node(n).handlePeer('layout', { layout: layoutJson(plan.layout) });
    const movingToShard2 = [...written.keys()].filter((k) => shardOfKey(k, 3) === 2 && shardOfKey(k, 2) === 0);
    expect(movingToShard2.length).to.be.above(3);
    // A node of the new shard 2 that was in shard 1: it never held shard 0's keys.
    const newOwner = plan.layout.shards[2].find((n) => initialLayout(SIX, 2).shards[1].includes(n)) ?? '';
    // Checked before any read: reads let time pass, and anti-entropy with a new shard-mate may then bring keys too.
    for (const key of movingToShard2) expect(cluster.node(newOwner).localVersions(key).winner, `${key} not received yet`).to.equal(null);
    for (const key of movingToShard2) {
      const r = await cluster.run(newOwner, get(key));
      expect(r.value, key).to.equal(`v${key.slice(1)}`);
      expect(r.versionClock).to.deep.equal(written.get(key)?.context);
    }
    expect((cluster.node(newOwner).status() as { shards: { fetchedKeys: number } }).shards.fetchedKeys).to.be.above(0);
  });

  it('a probe answer carrying a malformed layout counts as no answer: the node carries on (no unhandled rejection)', async () => {
    const four = SIX.slice(0, 4);
    cluster = new TestCluster(four, initialLayout(four, 2));
    await cluster.startAll();
    const liar = cluster.node(four[3]);
    cluster.net.attach(four[3], {
      handlePeer: async (method, body) => {
        const reply = (await liar.handlePeer(method, body)) as Record<string, unknown>;
        return method === 'probe' ? { ...reply, layout: { epoch: -1, shards: 'none' } } : reply;
      },
    });
    const unhandled: unknown[] = [];
    const listener = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', listener);
    try {
      await cluster.timers.advance(2000);
    } finally {
      process.off('unhandledRejection', listener);
    }
    expect(unhandled.map(String)).to.deep.equal([]);
    expect(layoutJson(cluster.node(four[0]).shards.layout())).to.deep.equal(layoutJson(initialLayout(four, 2)));
    expect((await cluster.run(four[0], put('after', 'v'))).found).to.equal(true);
  });

  it('a member down: its shard keeps answering; restarted, it catches up before it serves', async () => {
    cluster = new TestCluster(SIX, initialLayout(SIX, 2));
    await cluster.startAll();
    const victim = SIX[3]; // shard 1
    cluster.kill(victim);
    const written = await writeKeys(cluster, SIX.filter((n) => n !== victim), 40);
    await expectReadable(cluster, SIX.filter((n) => n !== victim), written);
    const back = await cluster.start(victim);
    for (const [key] of written) if (shardOfKey(key, 2) === 1) expect(back.localVersions(key).winner, key).to.not.equal(null);
  });
});
