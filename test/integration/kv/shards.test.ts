/**
 * Shards against real processes (docs/kv.md "Shards", issue 15): six nodes
 * at 127.0.0.61-66:8080 started with SHARD_COUNT=2 as containers would be,
 * 600 keys written round robin with chained metadata and read back from
 * every node; a seventh node (127.0.0.67, no SHARD_COUNT) that learns the
 * layout when it announces itself and is added to shard 1; reshards to 10
 * (refused), 3 and back to 2. The steps share one cluster and run in order.
 */
import { expect } from 'chai';
import { door003 as kv, eventually, forEachLimited, localWinner, shards003 as shards, status } from './support/client';
import { KvCluster, logDirFor } from './support/nodes';

const SIX = Array.from({ length: 6 }, (_, i) => `127.0.0.${61 + i}:8080`);
const SEVENTH = '127.0.0.67:8080';
const ALL = [...SIX, SEVENTH];
const KEYS = 600;

interface Written {
  key: string;
  value: string;
  meta: Record<string, number>;
  shard: number;
}

/**
 * Every key read from every node of `nodes` by a client whose metadata is
 * `context` (the last it received, naming every write): its value, and
 * exactly the metadata of its write, not the client's.
 */
async function expectEveryKeyEverywhere(written: Written[], nodes: string[], context: unknown): Promise<void> {
  const reads = written.flatMap((w) => nodes.map((node) => ({ w, node })));
  await forEachLimited(reads, 12, async ({ w, node }) => {
    const r = await kv.get(node, w.key, context);
    expect(r.status, `${w.key} on ${node}: ${r.text}`).to.equal(200);
    expect(r.body, `${w.key} on ${node}`).to.deep.equal({ message: 'Retrieved successfully', 'causal-metadata': w.meta, value: w.value });
  });
}

/** Each shard's key count, asked of every node: the same everywhere, and all of them together every key. */
async function expectCounts(shardCount: number, nodes: string[]): Promise<number[]> {
  const perShard: number[] = [];
  for (let id = 0; id < shardCount; id++) {
    const answers = await Promise.all(nodes.map(async (n) => (await shards.keyCount(n, id)).body['shard-id-key-count'] as number));
    expect(new Set(answers).size, `shard ${id} counts from ${nodes.join(' ')}: ${answers}`).to.equal(1);
    perShard.push(answers[0]);
  }
  expect(perShard.reduce((a, b) => a + b, 0)).to.equal(KEYS);
  const mean = KEYS / shardCount;
  for (const c of perShard) expect(Math.abs(c - mean) / mean, `counts ${perShard}`).to.be.at.most(0.25);
  return perShard;
}

/** Every member of each shard reports the same count for it (members converge within an anti-entropy round or so). */
async function expectMembersAgree(shardCount: number): Promise<void> {
  for (let id = 0; id < shardCount; id++) {
    const members = (await shards.members(SIX[0], id)).body['shard-id-members'] as string[];
    await eventually(`members of shard ${id} agree on its key count`, 5000, async () => {
      const own = await Promise.all(members.map(async (m) => (await shards.keyCount(m, id)).body['shard-id-key-count']));
      return new Set(own).size === 1;
    });
  }
}

describe('integration kv: shards of replica groups (seed 003, SHARD_COUNT)', function () {
  this.timeout(120_000);
  const cluster = new KvCluster(SIX, 'key-value-store', logDirFor('shards'), undefined, { SHARD_COUNT: '2' });
  const written: Written[] = [];
  /** The metadata the writing client holds after its last PUT. */
  let lastMeta: unknown = '';
  before(() => cluster.startAll());
  after(() => cluster.stopAll());

  it('started with SHARD_COUNT=2: every node lists shards 0 and 1, its own shard, and members round robin over VIEW', async () => {
    for (const n of SIX) {
      expect((await shards.ids(n)).body).to.deep.equal({ message: 'Shard IDs retrieved successfully', 'shard-ids': [0, 1] });
      expect((await shards.nodeShardId(n)).body).to.deep.equal({ message: 'Shard ID of the node retrieved successfully', 'shard-id': SIX.indexOf(n) % 2 });
    }
    for (const [id, members] of [[0, [SIX[0], SIX[2], SIX[4]]], [1, [SIX[1], SIX[3], SIX[5]]]] as const) {
      const r = await shards.members(SIX[5], id);
      expect(r.body).to.deep.equal({ message: 'Members of shard ID retrieved successfully', 'shard-id-members': members });
    }
    const unknown = await shards.members(SIX[0], 2);
    expect(unknown.status).to.equal(404);
    expect(unknown.body).to.deep.equal({ error: 'Shard ID does not exist', message: 'Error in GET' });
    expect((await shards.keyCount(SIX[0], 7)).status).to.equal(404);
    expect((await shards.members(SIX[0], 'one')).status, 'a shard id that is not a number').to.equal(400);
  });

  it('600 keys written round robin with chained metadata: each read back from every node with its write\'s metadata; counts balanced and equal on every node', async () => {
    let meta: unknown = '';
    let widest = 0;
    for (let i = 0; i < KEYS; i++) {
      const value = `value-${i}`;
      const r = await kv.put(SIX[i % SIX.length], `key${i}`, value, meta);
      expect(r.status, `PUT key${i}: ${r.text}`).to.equal(201);
      expect([0, 1]).to.include(r.body['shard-id']);
      written.push({ key: `key${i}`, value, meta: r.body['causal-metadata'], shard: r.body['shard-id'] });
      meta = r.body['causal-metadata'];
      widest = Math.max(widest, JSON.stringify(meta).length);
    }
    expect(Object.keys(meta as object).length, 'metadata passed on across 600 keys and both shards: one entry per node at most').to.be.at.most(SIX.length);
    expect(widest).to.be.below(300);
    lastMeta = meta;
    await expectEveryKeyEverywhere(written, SIX, lastMeta);
    for (const w of written.slice(0, 60)) {
      const owners = (await shards.members(SIX[0], w.shard)).body['shard-id-members'] as string[];
      for (const n of SIX) expect((await localWinner(n, w.key)) !== null, `${w.key} held by ${n}`).to.equal(owners.includes(n));
    }
    await expectMembersAgree(2);
    console.log(`      key counts per shard: ${(await expectCounts(2, SIX)).join(' / ')}`);
  });

  it('a seventh node without SHARD_COUNT learns the layout when it announces itself; added to shard 1 it holds the shard\'s keys within 5 s', async () => {
    await cluster.start(SEVENTH, ALL);
    await eventually('the seventh node is in every view', 5000, async () => (await Promise.all(ALL.map((n) => kv.view(n)))).every((v) => v.body.view === ALL.join(',')));
    expect((await shards.ids(SEVENTH)).body['shard-ids']).to.deep.equal([0, 1]);
    const none = await shards.nodeShardId(SEVENTH);
    expect(none.status, 'in no shard until added').to.equal(404);
    expect((await kv.get(SEVENTH, written[1].key)).body.value, 'it answers every key by forwarding').to.equal(written[1].value);

    const t0 = Date.now();
    const added = await shards.addMember(SIX[0], 1, SEVENTH);
    expect(added.status, added.text).to.equal(200);
    const shard1 = written.filter((w) => w.shard === 1);
    const held = await eventually('the seventh node holds every key of shard 1', 5000, async () => {
      for (const w of shard1) if ((await localWinner(SEVENTH, w.key))?.value !== w.value) return false;
      return true;
    });
    console.log(`      add-member: the new member held all ${shard1.length} keys of its shard ${Date.now() - t0} ms after the PUT (polled every 50 ms; ${held} ms of polling)`);
    for (const n of ALL) {
      await eventually(`${n} lists the seventh node in shard 1`, 3000, async () => (await shards.members(n, 1)).body['shard-id-members'].includes(SEVENTH));
    }
    expect((await shards.nodeShardId(SEVENTH)).body['shard-id']).to.equal(1);
    for (const w of written.filter((x) => x.shard === 0).slice(0, 30)) expect(await localWinner(SEVENTH, w.key), `${w.key} of shard 0`).to.equal(null);
    expect((await shards.addMember(SIX[2], 5, SEVENTH)).status, 'an unknown shard').to.equal(404);
    expect((await shards.addMember(SIX[2], 0, SEVENTH)).status, 'a member of another shard').to.equal(400);
  });

  it('reshard to 10 with seven nodes: 400; to 3: 200 once every key is readable from every node, 3/2/2 members, counts balanced', async () => {
    const refused = await shards.reshard(SIX[3], 10);
    expect(refused.status).to.equal(400);
    expect(refused.body).to.deep.equal({ message: 'Not enough nodes to provide fault-tolerance with the given shard count!' });
    expect((await shards.reshard(SIX[3], 'three')).status, 'not a number').to.equal(400);

    const t0 = Date.now();
    const r = await shards.reshard(SIX[3], 3);
    expect(r.status, r.text).to.equal(200);
    expect(r.body).to.deep.equal({ message: 'Resharding done successfully' });
    console.log(`      reshard 2 -> 3 of ${KEYS} keys: ${Date.now() - t0} ms`);
    await expectEveryKeyEverywhere(written, ALL, lastMeta);
    for (const n of ALL) expect((await shards.ids(n)).body['shard-ids'], n).to.deep.equal([0, 1, 2]);
    const sizes = await Promise.all([0, 1, 2].map(async (id) => ((await shards.members(SEVENTH, id)).body['shard-id-members'] as string[]).length));
    expect(sizes).to.deep.equal([3, 2, 2]);
    await expectMembersAgree(3);
    console.log(`      key counts per shard: ${(await expectCounts(3, ALL)).join(' / ')}`);
  });

  it('and back to 2: every key readable from every node, each held by its new shard\'s members only', async () => {
    const r = await shards.reshard(SEVENTH, 2);
    expect(r.status, r.text).to.equal(200);
    await expectEveryKeyEverywhere(written, ALL, lastMeta);
    await expectMembersAgree(2);
    await expectCounts(2, ALL);
    const members = await Promise.all([0, 1].map(async (id) => (await shards.members(SIX[0], id)).body['shard-id-members'] as string[]));
    expect(members.map((m) => m.length)).to.deep.equal([4, 3]);
    // A node holding keys of a shard it left would hold more live keys than its shard has.
    await eventually('every node holds its shard\'s keys and no others', 5000, async () => {
      for (const [id, nodes] of members.entries()) {
        const count = (await shards.keyCount(nodes[0], id)).body['shard-id-key-count'];
        for (const n of nodes) if ((await status(n)).liveKeys !== count) return false;
      }
      return true;
    });
  });
});
