/**
 * RedisJournal (lib/queue/journal.ts) on a real redis-server: what it keeps
 * comes back exactly, in id order, on a new connection (a restarted queue);
 * and the previous version's layout (lists of chunks `q:C`, leased chunks in
 * `ql:C`) is converted on load, leased chunks first, its keys removed.
 */
import { expect } from 'chai';
import Redis from 'ioredis';
import { Managed } from '../../tools/cluster/processes';
import { Hub } from '../../lib/queue/hub';
import { JournaledChunk, RedisJournal } from '../../lib/queue/journal';
import { startOwnRedis, stopTracked } from '../support/cluster';
import { PORT_BLOCKS, TestLayout } from '../support/layout';

/** Messages a gossip link can carry (JSON objects, no raw newline) that are awkward to store. */
const AWKWARD = [
  '{"key":"茶 🍵","note":"½ – ü"}',
  '{"q":"say \\"hi\\"","path":"C:\\\\tea\\\\"}',
  '{"escaped":"line one\\nline two\\r\\n","tab":"\\t"}',
  '{"u":"\\u2028\\u0000"}',
  '{"spaces":"  leading and trailing  "}',
  '{"raw":"\u2028\u2029 (the characters themselves: legal inside JSON strings)"}',
  '{}',
];

const chunk = (id: number, ...messages: string[]): JournaledChunk => ({ id, messages });

/** Plain [id, messages] pairs per channel, for deep comparison. */
function flat(loaded: Map<string, JournaledChunk[]>): Record<string, [number, string[]][]> {
  return Object.fromEntries([...loaded].map(([ch, chunks]) => [ch, chunks.map((c) => [c.id, [...c.messages]] as [number, string[]])]));
}

describe('integration: RedisJournal on a real redis-server', function () {
  this.timeout(20_000);
  let layout: TestLayout;
  let port: number;
  let redisProcess: Managed | null = null;
  let raw: Redis;
  const clients: Redis[] = [];

  /** A journal on a connection of its own, as a (re)started queue process has. */
  const journal = (now?: () => number) => {
    const client = new Redis({ host: layout.host, port, maxRetriesPerRequest: 1 });
    clients.push(client);
    return new RedisJournal(client, now);
  };

  before(async function () {
    // Block 3 was the deleted channelStore test's; this file inherits it.
    ({ layout, port, process: redisProcess } = await startOwnRedis('journal', PORT_BLOCKS.journal));
    raw = new Redis({ host: layout.host, port, maxRetriesPerRequest: 1 });
  });

  after(async function () {
    for (const c of clients) c.disconnect();
    raw?.disconnect();
    await stopTracked(redisProcess);
  });

  beforeEach(async function () {
    await raw.flushall();
  });

  it('add and addMany keep awkward messages byte for byte, and load returns them on a new connection, by channel, in id order', async function () {
    const j = journal();
    await j.add('db0', chunk(20, AWKWARD[0]));
    await j.addMany('db0', [chunk(10, ...AWKWARD.slice(1, 4)), chunk(30, AWKWARD[4])]);
    await j.add('db1', chunk(5, AWKWARD[5]));
    expect(flat(await journal().load())).to.deep.equal({
      db0: [[10, AWKWARD.slice(1, 4)], [20, [AWKWARD[0]]], [30, [AWKWARD[4]]]],
      db1: [[5, [AWKWARD[5]]]],
    });
  });

  it('keeps the sorted set qz:<channel>, one member per chunk, scored by its id', async function () {
    await journal().addMany('db2', [chunk(7, '{"a":1}', '{"b":2}')]);
    expect(await raw.type('qz:db2')).to.equal('zset');
    expect(await raw.zrange('qz:db2', 0, -1, 'WITHSCORES')).to.deep.equal(['7\n{"a":1}\n{"b":2}', '7']);
  });

  it('ids as the hub makes them (milliseconds x 1000 + a counter) come back exactly', async function () {
    const base = Date.now() * 1000;
    const ids = [base, base + 1, base + 999_999];
    await journal().addMany('c', ids.map((id) => chunk(id, '{"n":1}')));
    expect((await journal().load()).get('c')!.map((c) => c.id)).to.deep.equal(ids);
  });

  it('a backlog of 150,000 chunks is added and removed whole (one command for all of them overflowed the stack)', async function () {
    const j = journal();
    const backlog = Array.from({ length: 150_000 }, (_, k) => chunk(k + 1, '{"n":1}'));
    await j.addMany('backlog', backlog);
    expect(await raw.zcard('qz:backlog')).to.equal(150_000);
    await j.remove('backlog', backlog.slice(0, 149_999));
    expect(flat(await j.load())).to.deep.equal({ backlog: [[150_000, ['{"n":1}']]] });
  });

  it('identical messages in two chunks stay two chunks, and removing one leaves the other', async function () {
    const j = journal();
    const same = '{"same":true}';
    await j.add('c', chunk(1, same));
    await j.add('c', chunk(2, same));
    expect(flat(await j.load())).to.deep.equal({ c: [[1, [same]], [2, [same]]] });
    await j.remove('c', [chunk(1, same)]);
    expect(flat(await j.load())).to.deep.equal({ c: [[2, [same]]] });
  });

  it('remove forgets exactly the chunks given, in any channel, and an emptied channel is not loaded', async function () {
    const j = journal();
    await j.addMany('c', [chunk(1, AWKWARD[1]), chunk(2, AWKWARD[2]), chunk(3, AWKWARD[3])]);
    await j.add('d', chunk(4, AWKWARD[0]));
    await j.remove('c', [chunk(1, AWKWARD[1]), chunk(3, AWKWARD[3])]);
    await j.remove('d', [chunk(4, AWKWARD[0])]);
    await j.remove('d', []);
    expect(flat(await journal().load())).to.deep.equal({ c: [[2, [AWKWARD[2]]]] });
  });

  it('replace swaps a chunk for what a take() left of it, keeping its place', async function () {
    const j = journal();
    await j.addMany('c', [chunk(1, '{"first":1}'), chunk(2, ...AWKWARD.slice(0, 3)), chunk(3, '{"last":1}')]);
    await j.replace('c', chunk(2, ...AWKWARD.slice(0, 3)), chunk(2, ...AWKWARD.slice(1, 3)));
    expect(flat(await journal().load())).to.deep.equal({
      c: [[1, ['{"first":1}']], [2, AWKWARD.slice(1, 3)], [3, ['{"last":1}']]],
    });
  });

  it('clear removes every channel it keeps and nothing else', async function () {
    const j = journal();
    for (let k = 0; k < 600; k++) await j.add(`ch${k}`, chunk(k, '{"n":1}'));
    await raw.set('unrelated', 'kept');
    await j.clear();
    expect(await raw.keys('qz:*')).to.deep.equal([]);
    expect(await raw.get('unrelated')).to.equal('kept');
    expect((await journal().load()).size).to.equal(0);
  });

  describe('under the hub', function () {
    it('a put answered while a clear is under way is still in the journal when the clear is over', async function () {
      const hub = new Hub(journal());
      await hub.put('c', ['{"old":1}']); // nobody subscribed: journaled, so qz:c exists
      // Hold Redis for a moment, as a slow SCAN round would: the clear's SCAN then answers after the put's ZADD went out.
      await raw.call('CLIENT', 'PAUSE', '300', 'ALL');
      const clearing = hub.clear();
      await hub.put('c', ['{"new":1}']);
      await clearing;
      expect(hub.length('c'), 'the hub holds the new message').to.equal(1);
      // What a queue restarted now (after a SIGKILL) would have: the answered put must be there.
      expect([...((await journal().load()).get('c') ?? [])].map((c) => [...c.messages])).to.deep.equal([['{"new":1}']]);
    });
  });

  describe("the previous version's layout", function () {
    const NOW = 1_700_000_000_000;
    const one = (n: number) => `{"n":${n}}`;
    /** A chunk as the previous version stored it: one message's JSON, or `n\n<m1>\n...\n<mn>`. */
    const legacy = (...messages: string[]) => (messages.length === 1 ? messages[0] : `${messages.length}\n${messages.join('\n')}`);

    it('is converted on load: leased chunks first (by lease id), then the waiting ones, multi-message chunks kept whole; old keys gone', async function () {
      await raw.rpush('q:db0', legacy(one(4)), legacy(one(5), AWKWARD[0], one(6)));
      await raw.set('qn:db0', '4');
      // Lease 12 sorts after lease 9 as a number, before it as a string.
      await raw.hset('ql:db0', '12', legacy(one(2), one(3)), '9', legacy(one(1)));
      await raw.zadd('qd:db0', NOW + 5000, '9', NOW + 5000, '12');
      await raw.rpush('q:db1', legacy(AWKWARD[1]));
      await raw.set('qn:db1', '1');
      await raw.hset('ql:db2', '3', legacy(AWKWARD[2], AWKWARD[3]));
      await raw.set('qseq', '12');

      const loaded = await journal(() => NOW).load();
      const messages = (ch: string) => loaded.get(ch)!.map((c) => [...c.messages]);
      expect(messages('db0')).to.deep.equal([[one(1)], [one(2), one(3)], [one(4)], [one(5), AWKWARD[0], one(6)]]);
      expect(messages('db1')).to.deep.equal([[AWKWARD[1]]]);
      expect(messages('db2')).to.deep.equal([[AWKWARD[2], AWKWARD[3]]]);
      // Older than any id a hub starting now makes (now x 1000), and increasing within a channel.
      const ids = [...loaded.values()].flat().map((c) => c.id);
      for (const id of ids) expect(id).to.be.below(NOW * 1000);
      const db0 = loaded.get('db0')!.map((c) => c.id);
      expect(db0).to.deep.equal([...db0].sort((a, b) => a - b));
      expect(new Set(ids).size).to.equal(ids.length);

      expect((await raw.keys('*')).sort()).to.deep.equal(['qz:db0', 'qz:db1', 'qz:db2']);
      expect(flat(await journal(() => NOW + 1).load()), 'converted once, then read as it is').to.deep.equal(flat(loaded));
    });

    it('a drained channel, of which only its count qn:<channel> is left, leaves no old key behind', async function () {
      // The previous version kept `qn:C` (SET to 0) when its list `q:C` emptied, and Redis drops an empty list.
      await raw.set('qn:drained', '0');
      await raw.rpush('q:busy', legacy(one(1)));
      await raw.set('qn:busy', '1');
      const loaded = await journal(() => NOW).load();
      expect([...loaded.keys()]).to.deep.equal(['busy']);
      expect((await raw.keys('*')).sort()).to.deep.equal(['qz:busy']);
    });
  });
});
