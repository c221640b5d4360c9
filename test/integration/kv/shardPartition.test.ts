/**
 * A shard member cut off by a partition (network namespaces kvs-n1..4,
 * nodes at 10.213.78.11-14:8080, SHARD_COUNT=2: shard 0 is n1 and n3, shard
 * 1 is n2 and n4). n4 is cut from every other node: its shard keeps serving
 * from n2; n4 itself keeps taking its shard's writes and answers what it
 * cannot reach at once; healed, the shard's two members converge. Needs root
 * (ip netns), as CI has.
 */
import { expect } from 'chai';
import { door003 as kv, eventually, localWinner, shards003 as shards } from './support/client';
import { KvCluster, logDirFor } from './support/nodes';
import { NetNode, Scope, canUseNetns, heal, partition, setup, teardown } from './support/netns';

const SCOPE: Scope = { prefix: 'kvs', subnet: '10.213.78' };

/** A key name of shard `shard`, found by writing through `node` (PUT answers carry the shard). */
async function keyOfShard(node: string, shard: number, prefix: string): Promise<{ key: string; meta: Record<string, number> }> {
  for (let i = 0; ; i++) {
    const r = await kv.put(node, `${prefix}${i}`, `${prefix}-value`);
    if (r.body['shard-id'] === shard) return { key: `${prefix}${i}`, meta: r.body['causal-metadata'] };
  }
}

describe('integration kv: a shard member cut off (network namespaces)', function () {
  this.timeout(60_000);
  let net: NetNode[] = [];
  let cluster: KvCluster;

  before(async function () {
    if (!canUseNetns()) throw new Error('partition tests need root and iproute2 (ip netns): run as root, as CI does');
    net = setup(4, 8080, SCOPE);
    const nsOf = new Map(net.map((n) => [n.address, n.netns]));
    cluster = new KvCluster(net.map((n) => n.address), 'key-value-store', logDirFor('shardPartition'), (a) => nsOf.get(a), { SHARD_COUNT: '2' });
    await cluster.startAll();
  });

  after(async () => {
    await cluster?.stopAll();
    teardown(SCOPE);
  });

  it('the shard serves from its other member; the cut-off member takes its shard\'s writes and fails fast on the rest; healed, they converge', async () => {
    const [n1, n2, n3, n4] = net.map((n) => n.address);
    expect((await shards.members(n1, 1)).body['shard-id-members']).to.deep.equal([n2, n4]);
    partition([net[3]], net.slice(0, 3));
    await eventually('both sides see the cut', 5000, async () => {
      const [v1, v4] = await Promise.all([kv.view(n1), kv.view(n4)]);
      return v1.body.view === [n1, n2, n3].join(',') && v4.body.view === n4;
    });

    const onMajority: { key: string; value: string; meta: Record<string, number>; shard: number }[] = [];
    let slowest = 0;
    for (let i = 0; i < 60; i++) {
      const t0 = Date.now();
      const r = await kv.put([n1, n2, n3][i % 3], `maj${i}`, `m${i}`);
      slowest = Math.max(slowest, Date.now() - t0);
      expect(r.status, r.text).to.equal(201);
      onMajority.push({ key: `maj${i}`, value: `m${i}`, meta: r.body['causal-metadata'], shard: r.body['shard-id'] });
    }
    expect(onMajority.filter((w) => w.shard === 1).length, 'some keys of the cut shard').to.be.above(10);
    expect(slowest, 'no write waited on the cut-off member').to.be.below(1500);
    for (const w of onMajority) expect((await kv.get(n3, w.key)).body.value, w.key).to.equal(w.value);

    const alone = await keyOfShard(n4, 1, 'cut');
    expect((await kv.get(n4, alone.key, alone.meta)).status, 'the cut-off member serves its shard\'s writes').to.equal(200);
    const shard0 = onMajority.find((w) => w.shard === 0);
    const t0 = Date.now();
    const unreachable = await kv.get(n4, shard0?.key ?? '');
    expect(unreachable.status, `a key none of whose holders it can reach: ${unreachable.text}`).to.equal(503);
    expect(Date.now() - t0, 'answered at once').to.be.below(1000);
    const shard1 = onMajority.find((w) => w.shard === 1);
    const stale = await kv.get(n4, shard1?.key ?? '', shard1?.meta);
    expect(stale.status, '003: the cut-off member waits (bounded), then answers with what it has').to.equal(404);

    heal(net);
    const healedAt = Date.now();
    await eventually('the shard\'s two members hold the same keys', 10_000, async () => {
      for (const key of [...onMajority.filter((w) => w.shard === 1).map((w) => w.key), alone.key]) {
        const [a, b] = await Promise.all([localWinner(n2, key), localWinner(n4, key)]);
        if (a === null || JSON.stringify(a) !== JSON.stringify(b)) return false;
      }
      return true;
    });
    console.log(`      shard 1 converged ${Date.now() - healedAt} ms after healing`);
    const r = await kv.get(n1, alone.key);
    expect(r.body, 'the write the cut-off member took is read everywhere, with its metadata').to.deep.include({ value: 'cut-value', 'causal-metadata': alone.meta });
  });
});
