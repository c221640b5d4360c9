/**
 * Causal consistency and convergence against real processes: a client's
 * write is never missing or stale on the next node it reads from, chains of
 * writes across nodes carry their history, concurrent writes settle on one
 * winner everywhere, and a delete followed by a write re-creates the key.
 * Seed 000 nodes at 127.0.0.20-22:8080, seed 003 nodes at 127.0.0.23-25:8080.
 */
import { expect } from 'chai';
import { door000, door003, eventually, localWinner } from './support/client';
import { KvCluster, logDirFor } from './support/nodes';

const N000 = ['127.0.0.20:8080', '127.0.0.21:8080', '127.0.0.22:8080'];
const N003 = ['127.0.0.23:8080', '127.0.0.24:8080', '127.0.0.25:8080'];

describe('integration kv: causal consistency and convergence', function () {
  this.timeout(60_000);
  const c000 = new KvCluster(N000, 'keyValue-store', logDirFor('causal000'));
  const c003 = new KvCluster(N003, 'key-value-store', logDirFor('causal003'));
  before(() => Promise.all([c000.startAll(), c003.startAll()]));
  after(() => Promise.all([c000.stopAll(), c003.stopAll()]));

  it('000: a write on A is read on B at once, never stale or missing (100 rounds, one key overwritten)', async () => {
    const [A, B, C] = N000;
    let payload = '';
    for (let i = 0; i < 100; i++) {
      const w = await door000.put(A, 'rw', `v${i}`, payload);
      expect([200, 201]).to.include(w.status);
      const reader = i % 2 === 0 ? B : C;
      const r = await door000.get(reader, 'rw', w.body.payload);
      expect(r.status, `round ${i} on ${reader}: ${r.text}`).to.equal(200);
      expect(r.body.value, `round ${i} on ${reader}`).to.equal(`v${i}`);
      payload = r.body.payload;
    }
  });

  it('003: a write on A is read on B at once, never stale or missing (100 rounds, fresh keys)', async () => {
    const [A, B, C] = N003;
    let meta: unknown = '';
    for (let i = 0; i < 100; i++) {
      const w = await door003.put(A, `fresh${i}`, i, meta);
      expect(w.status).to.equal(201);
      const r = await door003.get(i % 2 === 0 ? B : C, `fresh${i}`, w.body['causal-metadata']);
      expect(r.status, `round ${i}: ${r.text}`).to.equal(200);
      expect(r.body.value).to.equal(i);
      meta = r.body['causal-metadata'];
    }
  });

  for (const [door, nodes] of [['000', N000], ['003', N003]] as const) {
    it(`${door}: the chain write on A, read on B, write on B, read on C: C sees both writes`, async () => {
      const [A, B, C] = nodes;
      for (let i = 0; i < 20; i++) {
        if (door === '000') {
          const w1 = await door000.put(A, `cx${i}`, 'from A');
          const r1 = await door000.get(B, `cx${i}`, w1.body.payload);
          expect(r1.body.value).to.equal('from A');
          const w2 = await door000.put(B, `cy${i}`, 'from B', r1.body.payload);
          const onC = await door000.get(C, `cx${i}`, w2.body.payload);
          expect(onC.status, onC.text).to.equal(200);
          expect(onC.body.value).to.equal('from A');
          expect((await door000.get(C, `cy${i}`, onC.body.payload)).body.value).to.equal('from B');
        } else {
          const w1 = await door003.put(A, `cx${i}`, 'from A');
          const r1 = await door003.get(B, `cx${i}`, w1.body['causal-metadata']);
          expect(r1.body.value).to.equal('from A');
          const w2 = await door003.put(B, `cy${i}`, 'from B', r1.body['causal-metadata']);
          const onC = await door003.get(C, `cx${i}`, w2.body['causal-metadata']);
          expect(onC.status, onC.text).to.equal(200);
          expect(onC.body.value).to.equal('from A');
          expect((await door003.get(C, `cy${i}`, onC.body['causal-metadata'])).body.value).to.equal('from B');
        }
      }
    });
  }

  it('000: concurrent writes on two nodes converge to the same winner everywhere', async () => {
    const [A, B, C] = N000;
    for (let i = 0; i < 10; i++) {
      const key = `conc${i}`;
      await Promise.all([door000.put(A, key, `a${i}`), door000.put(B, key, `b${i}`)]);
      let agreed: unknown = null;
      await eventually(`${key} converges`, 10_000, async () => {
        const winners = await Promise.all([A, B, C].map((n) => localWinner(n, key)));
        const texts = new Set(winners.map((w) => JSON.stringify(w)));
        agreed = winners[0]?.value;
        return texts.size === 1 && winners[0] !== null;
      });
      expect([`a${i}`, `b${i}`]).to.include(agreed);
      for (const n of [A, B, C]) expect((await door000.get(n, key)).body.value, `${key} on ${n}`).to.equal(agreed);
    }
  });

  it('000: delete then re-create: the key is gone everywhere, never comes back, and the new write is read everywhere', async () => {
    const [A, B, C] = N000;
    const w = await door000.put(A, 'phoenix', 'first life');
    const d = await door000.del(B, 'phoenix', w.body.payload);
    expect(d.status).to.equal(200);
    await new Promise((r) => setTimeout(r, 1500)); // an anti-entropy round or so: a stale copy would come back now
    for (const n of [A, B, C]) expect((await door000.get(n, 'phoenix', d.body.payload)).status, n).to.equal(404);
    const again = await door000.put(C, 'phoenix', 'second life', d.body.payload);
    expect(again.status).to.equal(200);
    expect(again.body.msg).to.equal('Added successfully');
    for (const n of [A, B, C]) expect((await door000.get(n, 'phoenix', again.body.payload)).body.value, n).to.equal('second life');
  });

  it('003: delete then re-create through the 003 door', async () => {
    const [A, B, C] = N003;
    const w = await door003.put(A, 'phoenix', 1);
    const d = await door003.del(B, 'phoenix', w.body['causal-metadata']);
    expect(d.status).to.equal(200);
    expect((await door003.get(C, 'phoenix', d.body['causal-metadata'])).status).to.equal(404);
    const again = await door003.put(C, 'phoenix', 2, d.body['causal-metadata']);
    expect(again.status).to.equal(201);
    for (const n of [A, B, C]) expect((await door003.get(n, 'phoenix', again.body['causal-metadata'])).body.value, n).to.equal(2);
  });
});
