/**
 * A partition between real processes in network namespaces: the node cut
 * off keeps answering, and a read whose payload it cannot satisfy is 400
 * "Payload out of date" (seed 000) or, after the bounded wait, answered with
 * what it has (seed 003); the other side keeps working; after healing,
 * everything converges within 10 s. Needs root (ip netns), as CI has; nodes
 * live at 10.213.77.11-13 (port 8080 seed 000, 8081 seed 003) inside
 * namespaces kvt-n1..3.
 */
import { expect } from 'chai';
import { door000 as kv, door003, eventually, localWinner } from './support/client';
import { KvCluster, logDirFor } from './support/nodes';
import { NetNode, canUseNetns, heal, partition, setup, teardown } from './support/netns';

describe('integration kv: a partition (network namespaces)', function () {
  this.timeout(60_000);
  let net: NetNode[] = [];
  let cluster: KvCluster;
  /** Seed-003 nodes in the same namespaces, on another port. */
  let cluster003: KvCluster;

  before(async function () {
    if (!canUseNetns()) throw new Error('partition tests need root and iproute2 (ip netns): run as root, as CI does');
    net = setup(3, 8080);
    const nsOf = new Map(net.map((n) => [n.address, n.netns]));
    cluster = new KvCluster(net.map((n) => n.address), 'keyValue-store', logDirFor('partition'), (a) => nsOf.get(a));
    const nsOf003 = new Map(net.map((n) => [`${n.host}:8081`, n.netns]));
    cluster003 = new KvCluster([...nsOf003.keys()], 'key-value-store', logDirFor('partition003'), (a) => nsOf003.get(a));
    await Promise.all([cluster.startAll(), cluster003.startAll()]);
  });

  after(async () => {
    await Promise.all([cluster?.stopAll(), cluster003?.stopAll()]);
    teardown();
  });

  it('cut off, a node keeps answering and refuses stale reads; the other side works; healed, all converge within 10 s', async () => {
    const [A, B, C] = net.map((n) => n.address);
    const before = await kv.put(A, 'shared', 'before the cut');
    expect((await kv.get(C, 'shared', before.body.payload)).body.value).to.equal('before the cut');

    partition([net[2]], [net[0], net[1]]);
    const [A3, , C3] = cluster003.addresses;
    const put003 = await door003.put(A3, 'x3', 'majority');
    expect(put003.status).to.equal(201);
    const read003 = await door003.get(C3, 'x3', put003.body['causal-metadata']);
    expect(read003.status, '003: the cut-off node waits (bounded), then answers with what it has').to.equal(404);
    const onMajority = await kv.put(A, 'x', 'written on the majority side');
    expect(onMajority.status).to.equal(200);

    const t0 = Date.now();
    const stale = await kv.get(C, 'x', onMajority.body.payload);
    const waited = Date.now() - t0;
    expect(stale.status, stale.text).to.equal(400);
    expect(stale.body).to.include({ result: 'Error', msg: 'Payload out of date' });
    expect(stale.body).not.to.have.property('value');
    expect(waited, 'a bounded wait, not a hang').to.be.below(5000);

    const onMinority = await kv.put(C, 'y', 'written on the cut-off node');
    expect(onMinority.status, 'the cut-off node accepts writes').to.equal(200);
    expect((await kv.get(C, 'y', onMinority.body.payload)).body.value).to.equal('written on the cut-off node');
    await kv.put(C, 'shared', 'minority side');
    await new Promise((r) => setTimeout(r, 20));
    const majorityShared = await kv.put(B, 'shared', 'majority side, later');

    await eventually('both sides drop the other from their views', 5000, async () => {
      const [va, vc] = await Promise.all([kv.view(A), kv.view(C)]);
      return va.body.view === [A, B].join(',') && vc.body.view === C;
    });
    const r = await kv.get(B, 'x', onMajority.body.payload);
    expect(r.body.value, 'the other side keeps working').to.equal('written on the majority side');
    expect((await kv.put(B, 'z', 'during', r.body.payload)).status).to.equal(200);

    heal(net);
    const healedAt = Date.now();
    await eventually('views complete again', 10_000, async () => {
      const views = await Promise.all([A, B, C].map((n) => kv.view(n)));
      return views.every((v) => v.body.view === [A, B, C].join(','));
    });
    await eventually('every node holds the same winners', 10_000 - (Date.now() - healedAt), async () => {
      for (const key of ['x', 'y', 'z', 'shared']) {
        const winners = await Promise.all([A, B, C].map((n) => localWinner(n, key)));
        if (winners[0] === null || new Set(winners.map((w) => JSON.stringify(w))).size !== 1) return false;
      }
      return true;
    });
    console.log(`      converged ${Date.now() - healedAt} ms after healing`);
    expect((await kv.get(C, 'x', onMajority.body.payload)).body.value, 'the stale read now succeeds').to.equal('written on the majority side');
    expect((await kv.get(A, 'y', onMinority.body.payload)).body.value).to.equal('written on the cut-off node');
    expect((await kv.get(A, 'shared', majorityShared.body.payload)).body.value, 'the later concurrent write wins').to.equal('majority side, later');
    const healed003 = await door003.get(C3, 'x3', put003.body['causal-metadata']);
    expect(healed003.status, '003: healed, the same read catches up').to.equal(200);
    expect(healed003.body.value).to.equal('majority');
  });
});
