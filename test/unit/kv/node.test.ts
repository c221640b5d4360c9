/**
 * The node driver stepped with in-memory transport and hand-driven timers:
 * no sockets, no real waiting. Each test builds a small cluster, cuts links
 * as it needs, and checks what clients would see.
 */
import { expect } from 'chai';
import { get, put } from './support/ops';
import { TestCluster } from './support/testCluster';

const [A, B, C, D] = ['10.0.0.2:8080', '10.0.0.3:8080', '10.0.0.4:8080', '10.0.0.5:8080'];

describe('kv node, stepped in memory', () => {
  let cluster: TestCluster;
  afterEach(() => cluster.stopAll());

  it('a value written on A is read on B with the writer\'s context, and the context identifies the version', async () => {
    cluster = new TestCluster([A, B, C]);
    await cluster.startAll();
    const w = await cluster.run(A, put('x', '1'));
    expect(w).to.deep.include({ found: true, replaced: false });
    const r = await cluster.run(B, get('x', w.context));
    expect(r).to.deep.include({ found: true, value: '1', caughtUp: true });
    expect(r.context).to.deep.equal(w.context);
    const again = await cluster.run(C, put('x', '2', r.context));
    expect(again.replaced).to.equal(true);
  });

  it('a node that missed a write pulls it from a peer that has it before answering', async () => {
    cluster = new TestCluster([A, B, C]);
    await cluster.startAll();
    cluster.net.partition(A, B);
    const w = await cluster.run(A, put('x', 'from-a'));
    expect(cluster.node(B).localVersions('x').winner, 'B has not received it').to.equal(null);
    const r = await cluster.run(B, get('x', w.context));
    expect(r).to.deep.include({ found: true, value: 'from-a', caughtUp: true });
  });

  it('a node cut off from everyone keeps answering: it accepts writes, and a read it cannot satisfy says so within the bounded wait', async () => {
    cluster = new TestCluster([A, B, C]);
    await cluster.startAll();
    cluster.net.partition(C, A);
    cluster.net.partition(C, B);
    const w = await cluster.run(A, put('x', 'a'));
    const t0 = cluster.timers.now();
    const stale = await cluster.run(C, get('x', w.context));
    expect(stale.caughtUp).to.equal(false);
    expect(cluster.timers.now() - t0).to.be.at.most(cluster.node(C).timing.requestWaitMs + 50);
    const local = await cluster.run(C, put('y', 'c'));
    expect(local.found).to.equal(true);
    cluster.net.heal();
    await cluster.timers.advance(3000);
    expect((await cluster.run(C, get('x', w.context))).value).to.equal('a');
    expect((await cluster.run(A, get('y', local.context))).value).to.equal('c');
  });

  it('concurrent writes on two sides of a partition converge to the later one everywhere after healing', async () => {
    cluster = new TestCluster([A, B, C]);
    await cluster.startAll();
    cluster.net.partition(A, B);
    cluster.net.partition(A, C);
    await cluster.run(B, put('x', 'first'));
    await cluster.timers.advance(5);
    await cluster.run(A, put('x', 'second'));
    cluster.net.heal();
    await cluster.timers.advance(4000);
    for (const n of [A, B, C]) {
      expect(cluster.node(n).localVersions('x').winner, n).to.deep.include({ value: 'second', origin: A });
    }
  });

  it('delete hides a key, a stale copy never brings it back, and a write after the delete re-creates it', async () => {
    cluster = new TestCluster([A, B, C]);
    await cluster.startAll();
    const w = await cluster.run(A, put('x', 'v'));
    const d = await cluster.run(B, { kind: 'delete', key: 'x', context: w.context });
    expect(d.found).to.equal(true);
    await cluster.timers.advance(3000);
    for (const n of [A, B, C]) expect((await cluster.run(n, get('x', d.context))).found, n).to.equal(false);
    const gone = await cluster.run(C, { kind: 'delete', key: 'x', context: d.context });
    expect(gone.found, 'deleting a deleted key').to.equal(false);
    const again = await cluster.run(C, put('x', 'back', d.context));
    expect(again.replaced).to.equal(false);
    expect((await cluster.run(A, get('x', again.context))).value).to.equal('back');
  });

  it('a peer that stops answering leaves the view within downAfterMs, and a restarted one catches up before it serves', async () => {
    cluster = new TestCluster([A, B, C]);
    await cluster.startAll();
    await cluster.run(A, put('k', 'v'));
    cluster.kill(C);
    await cluster.timers.advance(cluster.node(A).timing.downAfterMs + 400);
    expect(cluster.node(A).view()).to.deep.equal([A, B]);
    const restarted = await cluster.start(C);
    expect(restarted.localVersions('k').winner).to.deep.include({ value: 'v' });
    await cluster.timers.advance(1000);
    expect(cluster.node(A).view()).to.deep.equal([A, B, C]);
    expect(cluster.node(B).view()).to.deep.equal([A, B, C]);
  });

  it('a node added to the view receives every key; a removed node is sent no more writes', async () => {
    cluster = new TestCluster([A, B, C]);
    await cluster.startAll();
    for (let i = 0; i < 50; i++) await cluster.run(A, put(`k${i}`, `v${i}`));
    const d = await cluster.start(D, [A, B, C, D]);
    expect(cluster.node(A).view(), 'a node started with the new VIEW is not a member until added').to.deep.equal([A, B, C]);
    await cluster.run(B, put('late', 'after-start'));
    expect(cluster.node(A).addToView(D)).to.equal('done');
    expect(cluster.node(A).addToView(D)).to.equal('unchanged');
    await cluster.timers.advance(1000);
    for (let i = 0; i < 50; i++) expect(d.localVersions(`k${i}`).winner, `k${i}`).to.deep.include({ value: `v${i}` });
    expect(d.localVersions('late').winner).to.deep.include({ value: 'after-start' });
    for (const n of [A, B, C, D]) expect(cluster.node(n).view(), n).to.deep.equal([A, B, C, D]);

    expect(cluster.node(B).removeFromView(C)).to.equal('done');
    await cluster.timers.advance(1000);
    expect(cluster.node(C).isMember()).to.equal(false);
    await cluster.run(A, put('after-removal', 'x'));
    await cluster.timers.advance(3000);
    expect(cluster.node(C).localVersions('after-removal').winner).to.equal(null);
    const viaC = await cluster.run(C, get('after-removal'));
    expect(viaC.value, 'a removed node forwards to members').to.equal('x');
  });
});
