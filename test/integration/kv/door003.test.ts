/**
 * Seed 003's door without shards against real processes: every row of
 * docs/kv.md's "Door key-value-store" view and key tables, errors included,
 * and the shard routes of a store without SHARD_COUNT,
 * on three nodes at 127.0.0.10-12:8080 started with VIEW and SOCKET_ADDRESS
 * only (a fourth, .13, joins).
 */
import { expect } from 'chai';
import { door003 as kv, eventually, send, shards003 as shards } from './support/client';
import { KvCluster, logDirFor } from './support/nodes';

const [A, B, C, D] = ['127.0.0.10:8080', '127.0.0.11:8080', '127.0.0.12:8080', '127.0.0.13:8080'];

describe('integration kv: seed 003 door, one shard (/key-value-store, /key-value-store-view)', function () {
  this.timeout(30_000);
  const cluster = new KvCluster([A, B, C], 'key-value-store', logDirFor('door003'));
  before(() => cluster.startAll());
  after(() => cluster.stopAll());

  it('PUT a new key: 201 Added with metadata and a shard id; an existing key: 200 Updated', async () => {
    const added = await kv.put(A, 'x', 1);
    expect(added.status).to.equal(201);
    expect(added.body).to.include({ message: 'Added successfully', 'shard-id': 0 });
    expect(added.body['causal-metadata']).to.be.an('object').with.property(A);
    const updated = await kv.put(B, 'x', 2, added.body['causal-metadata']);
    expect(updated.status).to.equal(200);
    expect(updated.body).to.include({ message: 'Updated successfully', 'shard-id': 0 });
  });

  it('GET with no body and no Content-Type: 200 Retrieved, and the metadata equals the PUT\'s from every replica', async () => {
    const w = await kv.put(C, 'y', 'why');
    for (const n of [A, B, C]) {
      const r = await kv.get(n, 'y', w.body['causal-metadata']);
      expect(r.status, n).to.equal(200);
      expect(r.body, n).to.deep.equal({ message: 'Retrieved successfully', 'causal-metadata': w.body['causal-metadata'], value: 'why' });
    }
    const bare = await send(A, { method: 'GET', path: '/key-value-store/y' });
    expect(bare.status).to.equal(200);
    expect(bare.body['causal-metadata']).to.deep.equal(w.body['causal-metadata']);
  });

  it('GET a missing key: 404 doesExist false', async () => {
    const r = await kv.get(B, 'missing');
    expect(r.status).to.equal(404);
    expect(r.body).to.deep.include({ doesExist: false, error: 'Key does not exist', message: 'Error in GET' });
  });

  it('DELETE: 200 Deleted with metadata and shard id; a missing key: 404 Error in DELETE', async () => {
    const w = await kv.put(A, 'z', 'zed');
    const d = await kv.del(B, 'z', w.body['causal-metadata']);
    expect(d.status).to.equal(200);
    expect(d.body).to.include({ message: 'Deleted successfully', 'shard-id': 0 });
    expect(d.body['causal-metadata']).to.be.an('object');
    expect((await kv.get(C, 'z', d.body['causal-metadata'])).status).to.equal(404);
    const again = await kv.del(C, 'z', d.body['causal-metadata']);
    expect(again.status).to.equal(404);
    expect(again.body).to.deep.include({ doesExist: false, error: 'Key does not exist', message: 'Error in DELETE' });
  });

  it('PUT without a value: 400 Value is missing; a key over 50 characters: 400 Key is too long', async () => {
    const noValue = await send(A, { method: 'PUT', path: '/key-value-store/nv', json: { 'causal-metadata': '' } });
    expect(noValue.status).to.equal(400);
    expect(noValue.body).to.deep.equal({ error: 'Value is missing', message: 'Error in PUT' });
    expect((await kv.put(A, 'k'.repeat(50), 'ok')).status).to.equal(201);
    const long = await kv.put(A, 'k'.repeat(51), 'v');
    expect(long.status).to.equal(400);
    expect(long.body).to.deep.equal({ error: 'Key is too long', message: 'Error in PUT' });
    const notJson = await send(A, { method: 'PUT', path: '/key-value-store/nj', raw: '{"value": ', headers: { 'Content-Type': 'application/json' } });
    expect(notJson.status).to.equal(400);
    expect(notJson.body.message).to.equal('Error in PUT');
    // A body declared larger than the bound is refused before it is read (a short one is sent: the node must not wait for it).
    const huge = await send(A, { method: 'PUT', path: '/key-value-store/huge', raw: '{"value": "v"}', headers: { 'Content-Type': 'application/json', 'Content-Length': String(4 * 1024 * 1024) } });
    expect(huge.status, 'a body over the bound').to.equal(400);
    expect(huge.body.message).to.equal('Error in PUT');
    expect(huge.body.error).to.match(/larger than/);
    const tooLarge = await kv.put(A, 'large', 'v'.repeat(1024 * 1024 + 1));
    expect(tooLarge.status, 'a value over 1 MB').to.equal(400);
    expect(tooLarge.body.error).to.match(/too large/);
    const badMeta = await kv.put(A, 'bm', 'v', { 'not an address': 1 });
    expect(badMeta.status).to.equal(400);
    expect(badMeta.body.error).to.match(/causal-metadata/);
  });

  it('a PUT whose metadata names a write the node may not have seen yet: 200 Updated once it has caught up (30 fresh keys)', async () => {
    for (let i = 0; i < 30; i++) {
      const first = await kv.put(A, `upd${i}`, 'on A');
      const second = await kv.put(i % 2 ? B : C, `upd${i}`, 'on the next node', first.body['causal-metadata']);
      expect(second.status, `key ${i}: ${second.text}`).to.equal(200);
      expect(second.body.message).to.equal('Updated successfully');
    }
  });

  it('metadata passed from PUT to PUT over hundreds of keys stays bounded (one entry per node)', async () => {
    let meta: unknown = '';
    const nodes = [A, B, C];
    for (let i = 0; i < 300; i++) {
      const r = await kv.put(nodes[i % 3], `chain${i}`, i, meta);
      expect(r.status, `PUT ${i}`).to.equal(201);
      meta = r.body['causal-metadata'];
    }
    expect(Object.keys(meta as object).length).to.be.at.most(3);
    expect(JSON.stringify(meta).length).to.be.below(200);
  });

  it('without SHARD_COUNT the shard routes answer as one shard, 0, of every member; a reshard needs two nodes per shard', async () => {
    expect((await shards.ids(A)).body).to.deep.equal({ message: 'Shard IDs retrieved successfully', 'shard-ids': [0] });
    expect((await shards.nodeShardId(B)).body['shard-id']).to.equal(0);
    expect((await shards.members(C, 0)).body['shard-id-members']).to.deep.equal([A, B, C]);
    const counts = await Promise.all([A, B, C].map(async (n) => (await shards.keyCount(n, 0)).body['shard-id-key-count']));
    expect(counts[0]).to.be.above(0);
    expect(new Set(counts).size, `${counts}`).to.equal(1);
    expect((await shards.reshard(A, 2)).status, 'three nodes cannot make two shards of two').to.equal(400);
  });

  it('view: GET in the order of VIEW; PUT adds (201, 404 if there); DELETE removes (200, 404 if not there)', async () => {
    // Eventually: on a loaded machine a slow probe may keep a peer out of the view for a moment.
    await eventually('C lists A, B, C', 3000, async () => {
      const v = await kv.view(C);
      expect(v.status).to.equal(200);
      expect(v.body).to.deep.equal({ message: 'View retrieved successfully', view: [A, B, C].join(',') });
      return true;
    });
    const dup = await kv.addNode(A, B);
    expect(dup.status).to.equal(404);
    expect(dup.body).to.deep.equal({ error: 'Socket address already exists in the view', message: 'Error in PUT' });
    const del = await kv.removeNode(A, C);
    expect(del.status).to.equal(200);
    expect(del.body).to.deep.equal({ message: 'Replica deleted successfully from the view' });
    await eventually('B drops C', 3000, async () => (await kv.view(B)).body.view === [A, B].join(','));
    const missing = await kv.removeNode(B, C);
    expect(missing.status).to.equal(404);
    expect(missing.body).to.deep.equal({ error: 'Socket address does not exist in the view', message: 'Error in DELETE' });
    const add = await kv.addNode(B, C);
    expect(add.status).to.equal(201);
    expect(add.body).to.deep.equal({ message: 'Replica added successfully to the view' });
    for (const n of [A, B, C]) {
      await eventually(`${n} lists C again, added after the others`, 3000, async () => (await kv.view(n)).body.view === [A, B, C].join(','));
    }
  });

  it('a node that starts announces itself: it is in every view without a client PUT', async () => {
    await cluster.start(D, [A, B, C, D]);
    for (const n of [A, B, C, D]) {
      await eventually(`${n} lists ${D}`, 3000, async () => (await kv.view(n)).body.view === [A, B, C, D].join(','));
    }
    expect((await kv.get(D, 'y')).body.value, 'and it has the keys').to.equal('why');
  });
});
