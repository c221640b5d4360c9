/**
 * The ChannelStore contract (lib/queue/channelStore.ts), run against both
 * implementations: MemoryChannelStore, and RedisChannelStore on a real
 * redis-server. Both get the same controllable clock, so lease expiry is
 * exact: a lease taken at `now` with `leaseMs` expires when the clock reaches
 * now + leaseMs (deadline <= now is expired).
 *
 * The Redis suite also checks the store's Redis layout, data written by the
 * previous version (one message per list element, no `qn:` count), and that
 * a store on a fresh connection (a restarted queue process) sees the same
 * channels and leases.
 */
import { expect } from 'chai';
import Redis from 'ioredis';
import { Managed } from '../../tools/cluster/processes';
import { ChannelStore, Leased, MemoryChannelStore } from '../../lib/queue/channelStore';
import { RedisChannelStore } from '../../lib/queue/redisChannelStore';
import { startOwnRedis, stopTracked } from '../support/cluster';
import { PORT_BLOCKS, TestLayout } from '../support/layout';

/** A message as the store sees it: the JSON text of an object. */
const msg = (o: object): string => JSON.stringify(o);
/** The n-th test message. */
const m = (n: number): string => msg({ n });
const ms = (...ns: number[]): string[] => ns.map(m);

const flat = (leased: Leased[]): string[] => leased.flatMap((l) => l.messages);
const sizes = (leased: Leased[]): number[] => leased.map((l) => l.messages.length);

/** Take until the channel is empty (at most `limit`, so a broken store cannot loop forever). */
async function takeAll(store: ChannelStore, channel: string, limit = 5000): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < limit; i++) {
    const next = await store.take(channel);
    if (next === null) return out;
    out.push(next);
  }
  throw new Error(`take on ${channel} still returned messages after ${limit}`);
}

for (const kind of ['memory', 'redis'] as const) {
  describe(`integration: ChannelStore contract (${kind})`, function () {
    this.timeout(30_000);

    let now = 0;
    const clock = () => now;
    /** The store under test, fresh for each test. */
    let store: ChannelStore;

    // Redis only: the server, a raw client to inspect and plant keys, and every store opened.
    let layout: TestLayout;
    let port: number;
    let redisProcess: Managed | null = null;
    let raw: Redis | undefined;
    const opened: ChannelStore[] = [];
    const client = () => new Redis({ host: layout.host, port, maxRetriesPerRequest: 1 });

    /** Another store on the same data: for Redis a new store on a fresh connection (a restarted queue process). */
    function freshStore(): ChannelStore {
      if (kind === 'memory') throw new Error('a memory store has no shared data to reopen');
      const s = new RedisChannelStore(client(), clock);
      opened.push(s);
      return s;
    }

    if (kind === 'redis') {
      before(async function () {
        ({ layout, port, process: redisProcess } = await startOwnRedis('channelStore', PORT_BLOCKS.channelStore));
        raw = client();
      });

      after(async function () {
        for (const s of opened.splice(0)) await s.close().catch(() => undefined);
        raw?.disconnect();
        await stopTracked(redisProcess);
      });
    }

    beforeEach(async function () {
      now = 0;
      if (kind === 'redis') {
        await raw!.flushall();
        store = freshStore();
      } else {
        store = new MemoryChannelStore(clock);
      }
    });

    afterEach(async function () {
      for (const s of opened.splice(0)) await s.close().catch(() => undefined);
    });

    it('put returns how many messages wait on the channel, counting every message of each chunk', async function () {
      expect(await store.put('c', ms(1))).to.equal(1);
      expect(await store.put('c', ms(2, 3, 4))).to.equal(4);
      expect(await store.put('c', ms(5, 6))).to.equal(6);
      expect(await store.waiting('c')).to.equal(6);
      expect(await store.put('other', ms(7))).to.equal(1, 'another channel counts on its own');
      expect(await store.take('c')).to.equal(m(1));
      expect(await store.put('c', ms(8))).to.equal(6);
    });

    it('messages come out in FIFO order across several puts', async function () {
      await store.put('c', ms(1));
      await store.put('c', ms(2, 3));
      await store.put('c', ms(4));
      await store.put('c', ms(5, 6, 7));
      expect(await takeAll(store, 'c')).to.deep.equal(ms(1, 2, 3, 4, 5, 6, 7));
      expect(await store.take('c')).to.equal(null);
    });

    it('take splits a multi-message chunk and keeps order; the rest of the chunk stays waiting', async function () {
      await store.put('c', ms(1, 2, 3));
      await store.put('c', ms(4, 5));
      expect(await store.take('c')).to.equal(m(1));
      expect(await store.waiting('c')).to.equal(4);
      // A lease now starts with the rest of the split chunk, and hands out no message twice.
      const leased = await store.lease('c', 1, 1000);
      expect(leased).to.have.length.greaterThan(0);
      const got = flat(leased);
      expect(got).to.deep.equal(ms(2, 3, 4, 5).slice(0, got.length));
      expect(await store.waiting('c')).to.equal(4 - got.length);
      expect([...got, ...(await takeAll(store, 'c'))]).to.deep.equal(ms(2, 3, 4, 5));

      // Takes interleaved with puts.
      await store.put('d', ms(1, 2, 3));
      expect(await store.take('d')).to.equal(m(1));
      await store.put('d', ms(4));
      expect(await store.take('d')).to.equal(m(2));
      await store.put('d', ms(5, 6));
      expect(await takeAll(store, 'd')).to.deep.equal(ms(3, 4, 5, 6));
    });

    it('take on an empty or never-used channel is null; waiting is 0 and lease is empty', async function () {
      expect(await store.take('never-used')).to.equal(null);
      expect(await store.waiting('never-used')).to.equal(0);
      expect(await store.lease('never-used', 5, 1000)).to.deep.equal([]);
      await store.put('drained', ms(1, 2));
      expect(await takeAll(store, 'drained')).to.deep.equal(ms(1, 2));
      expect(await store.take('drained')).to.equal(null);
      expect(await store.waiting('drained')).to.equal(0);
      expect(await store.lease('drained', 5, 1000)).to.deep.equal([]);
    });

    it('lease hands out whole chunks, oldest first, until they hold at least max messages', async function () {
      await store.put('a', ms(1, 2, 3));
      await store.put('a', ms(4, 5));
      const one = await store.lease('a', 1, 1000);
      expect(one.map((l) => l.messages)).to.deep.equal([ms(1, 2, 3)], 'max 1: the whole first chunk');
      expect(await store.waiting('a')).to.equal(2);
      const next = await store.lease('a', 1, 1000);
      expect(next.map((l) => l.messages)).to.deep.equal([ms(4, 5)]);
      expect(await store.waiting('a')).to.equal(0);

      await store.put('b', ms(1, 2, 3));
      await store.put('b', ms(4, 5));
      await store.put('b', ms(6));
      const four = await store.lease('b', 4, 1000);
      expect(four.map((l) => l.messages)).to.deep.equal([ms(1, 2, 3), ms(4, 5)], 'max 4: 3 < 4, so the next chunk too, then stop');
      expect(await store.waiting('b')).to.equal(1);

      await store.put('c', ms(1, 2, 3));
      await store.put('c', ms(4));
      expect(sizes(await store.lease('c', 3, 1000))).to.deep.equal([3], 'exactly max: stop');

      await store.put('d', ms(1));
      await store.put('d', ms(2, 3));
      await store.put('d', ms(4));
      const all = await store.lease('d', 100, 1000);
      expect(all.map((l) => l.messages)).to.deep.equal([ms(1), ms(2, 3), ms(4)], 'more than waits: every chunk');

      const ids = [...one, ...next, ...four, ...all].map((l) => l.id);
      for (const id of ids) expect(id).to.be.a('string').and.not.equal('');
      expect(new Set(ids).size).to.equal(ids.length, 'lease ids are distinct');
    });

    it('leased messages are neither leased again nor taken while the lease runs', async function () {
      await store.put('c', ms(1, 2));
      await store.put('c', ms(3));
      const leased = await store.lease('c', 1, 1000);
      expect(flat(leased)).to.deep.equal(ms(1, 2));
      now = 999;
      expect(await store.take('c')).to.equal(m(3));
      expect(await store.take('c')).to.equal(null);
      expect(await store.lease('c', 10, 1000)).to.deep.equal([]);
      expect(await store.waiting('c')).to.equal(0);
    });

    it('a lease expires exactly when the clock reaches its deadline, and comes back with a new id', async function () {
      now = 100;
      await store.put('c', ms(1, 2));
      const [first] = await store.lease('c', 1, 50);
      now = 149;
      expect(await store.lease('c', 10, 50)).to.deep.equal([]);
      expect(await store.waiting('c')).to.equal(0);
      now = 150;
      const again = await store.lease('c', 10, 50);
      expect(again.map((l) => l.messages)).to.deep.equal([ms(1, 2)]);
      expect(again[0].id).to.not.equal(first.id);
      expect(await store.ack('c', [first.id])).to.equal(0, 'the expired id is void');
      expect(await store.ack('c', [again[0].id])).to.equal(1);
    });

    it('ack forgets leased chunks for good: nothing comes back after the lease time', async function () {
      await store.put('c', ms(1, 2));
      await store.put('c', ms(3));
      const leased = await store.lease('c', 10, 1000);
      expect(sizes(leased)).to.deep.equal([2, 1]);
      expect(await store.ack('c', leased.map((l) => l.id))).to.equal(2);
      now = 10_000;
      expect(await store.take('c')).to.equal(null);
      expect(await store.lease('c', 10, 1000)).to.deep.equal([]);
      expect(await store.waiting('c')).to.equal(0);
      expect(await store.ack('c', leased.map((l) => l.id))).to.equal(0, 'a second ack counts 0');
      expect({ ...(await store.clear()) }).to.deep.equal({});
    });

    it('a lease acknowledges the ids it is given before leasing: those chunks never come back, the others do', async function () {
      await store.put('c', ms(1, 2));
      await store.put('c', ms(3));
      const [a, b] = await store.lease('c', 10, 1000);
      await store.put('c', ms(4));
      const next = await store.lease('c', 10, 1000, [a.id]);
      expect(flat(next)).to.deep.equal(ms(4), 'the lease itself still hands out what waits');
      expect(await store.ack('c', [a.id])).to.equal(0, 'already acknowledged by the lease');
      now = 1000; // b's lease and next's have expired; a's was acknowledged
      expect(flat(await store.lease('c', 10, 1000, [b.id]))).to.deep.equal([...ms(3), ...ms(4)], 'an expired id acknowledges nothing');
    });

    it('a lease that only acknowledges, on a channel with nothing waiting, forgets its chunks and hands out nothing', async function () {
      await store.put('c', ms(1));
      const [a] = await store.lease('c', 10, 1000);
      expect(await store.lease('c', 10, 1000, [a.id])).to.deep.equal([]);
      now = 5000;
      expect(await store.lease('c', 10, 1000)).to.deep.equal([]);
      expect(await store.waiting('c')).to.equal(0);
    });

    it('ids of another channel are not acknowledged by a lease', async function () {
      await store.put('a', ms(1));
      const [la] = await store.lease('a', 10, 1000);
      await store.lease('b', 10, 1000, [la.id]);
      now = 1000;
      expect(flat(await store.lease('a', 10, 1000))).to.deep.equal(ms(1));
    });

    it('an expired lease comes back at the head, before messages put later, and its old id acks 0', async function () {
      await store.put('c', ms(1, 2));
      const [leased] = await store.lease('c', 1, 1000);
      await store.put('c', ms(3));
      now = 1000;
      expect(await store.take('c')).to.equal(m(1));
      expect(await store.ack('c', [leased.id])).to.equal(0);
      expect(flat(await store.lease('c', 10, 1000))).to.deep.equal(ms(2, 3));
    });

    it('several expired leases come back oldest first, ahead of the messages that were waiting', async function () {
      await store.put('c', ms(1));
      await store.put('c', ms(2, 3));
      await store.put('c', ms(4));
      await store.put('c', ms(5));
      const early = await store.lease('c', 2, 1000); // [1] and [2,3]: deadline 1000
      expect(early.map((l) => l.messages)).to.deep.equal([ms(1), ms(2, 3)]);
      now = 10;
      const later = await store.lease('c', 1, 1000); // [4]: deadline 1010
      expect(later.map((l) => l.messages)).to.deep.equal([ms(4)]);
      await store.put('c', ms(6));
      now = 999;
      expect(await store.waiting('c')).to.equal(2, 'only [5] and [6] wait; no lease has expired yet');
      now = 1010; // all three have expired: back in front, oldest first, then [5] and [6]
      const back = await store.lease('c', 100, 1000);
      expect(back.map((l) => l.messages)).to.deep.equal([ms(1), ms(2, 3), ms(4), ms(5), ms(6)]);
      expect(await store.ack('c', [...early, ...later].map((l) => l.id))).to.equal(0, 'the old ids are void');
      expect(await store.ack('c', back.map((l) => l.id))).to.equal(5);
    });

    it('many chunks expiring at the same instant come back in the order they were leased', async function () {
      // Enough single leases for ids to pass 9 -> 10 and 99 -> 100, whatever the store's ids look like.
      const n = 120;
      for (let i = 1; i <= n; i++) await store.put('c', ms(i));
      const leased: Leased[] = [];
      for (let i = 1; i <= n; i++) leased.push(...(await store.lease('c', 1, 1000)));
      expect(flat(leased)).to.deep.equal(ms(...Array.from({ length: n }, (_, i) => i + 1)));
      await store.put('c', ms(n + 1));
      now = 1000;
      expect(await takeAll(store, 'c')).to.deep.equal(ms(...Array.from({ length: n + 1 }, (_, i) => i + 1)));
    });

    it('an expired lease id acks 0 even when nothing touched the channel since it expired', async function () {
      await store.put('c', ms(1, 2));
      const [leased] = await store.lease('c', 1, 1000);
      now = 1000;
      expect(await store.ack('c', [leased.id])).to.equal(0, 'expired (deadline <= now) counts 0');
      // ... and the ack did not forget it: the chunk is back on the channel.
      expect(await store.waiting('c')).to.equal(2);
      expect(await takeAll(store, 'c')).to.deep.equal(ms(1, 2));
    });

    it('ack counts only ids leased on that channel: another channel, unknown ids and repeats count 0', async function () {
      await store.put('a', ms(1));
      await store.put('b', ms(2));
      const [la] = await store.lease('a', 1, 1000);
      const [lb] = await store.lease('b', 1, 1000);
      expect(await store.ack('b', [la.id])).to.equal(0, "a's lease acked on b");
      expect(await store.ack('a', [])).to.equal(0);
      expect(await store.ack('a', [la.id, lb.id, 'no-such-id', '999999'])).to.equal(1);
      expect(await store.ack('a', [la.id])).to.equal(0, 'already acked');
      expect(await store.ack('b', [lb.id])).to.equal(1, "b's lease survived the ack on a");
      now = 5000;
      expect(await store.take('a')).to.equal(null);
      expect(await store.take('b')).to.equal(null);
    });

    it('an ack on the wrong channel does not forget the lease: it still expires back to its own channel', async function () {
      await store.put('a', ms(1));
      const [la] = await store.lease('a', 1, 1000);
      expect(await store.ack('b', [la.id])).to.equal(0);
      now = 1000;
      expect(await store.take('b')).to.equal(null);
      expect(await store.take('a')).to.equal(m(1));
    });

    it('waiting() excludes leased messages and includes requeued ones', async function () {
      await store.put('c', ms(1, 2, 3));
      await store.put('c', ms(4, 5));
      expect(await store.waiting('c')).to.equal(5);
      const leased = await store.lease('c', 1, 1000);
      expect(sizes(leased)).to.deep.equal([3]);
      expect(await store.waiting('c')).to.equal(2);
      expect(await store.take('c')).to.equal(m(4));
      expect(await store.waiting('c')).to.equal(1);
      now = 1000;
      expect(await store.waiting('c')).to.equal(4, 'the expired lease counts again as soon as the clock reaches its deadline');
      expect(await store.take('c')).to.equal(m(1));
      expect(await store.waiting('c')).to.equal(3);
    });

    it('clear() returns each channel’s waiting + leased messages and empties everything', async function () {
      await store.put('a', ms(1, 2, 3));
      await store.put('a', ms(4));
      await store.put('a', ms(5, 6));
      expect(await store.take('a')).to.equal(m(1));
      const [la] = await store.lease('a', 1, 1000); // [2,3] leased, [4] and [5,6] waiting
      expect(la.messages).to.deep.equal(ms(2, 3));
      await store.put('b', ms(7));
      await store.put('c', ms(8, 9));
      const lc = await store.lease('c', 10, 1000); // c: nothing waiting, 2 leased
      expect(await store.waiting('c')).to.equal(0);

      expect({ ...(await store.clear()) }).to.deep.equal({ a: 5, b: 1, c: 2 });

      for (const ch of ['a', 'b', 'c']) {
        expect(await store.waiting(ch), ch).to.equal(0);
        expect(await store.take(ch), ch).to.equal(null);
        expect(await store.lease(ch, 10, 1000), ch).to.deep.equal([]);
      }
      expect(await store.ack('a', [la.id])).to.equal(0, 'cleared leases are gone');
      now = 1_000_000;
      expect(await store.take('a')).to.equal(null, 'a cleared lease does not come back when it expires');
      expect(await store.take('c')).to.equal(null);
      expect(await store.ack('c', lc.map((l) => l.id))).to.equal(0);
      expect({ ...(await store.clear()) }).to.deep.equal({}, 'a second clear finds nothing');

      // The store works as new after a clear.
      expect(await store.put('a', ms(10))).to.equal(1);
      expect(await store.take('a')).to.equal(m(10));
    });

    it('clear() on an empty store returns {}', async function () {
      expect({ ...(await store.clear()) }).to.deep.equal({});
    });

    it('channels are independent', async function () {
      await store.put('db0', ms(1, 2));
      await store.put('db1', ms(3));
      await store.put('x:y', ms(4));
      await store.put('db0', ms(5));
      const leased = await store.lease('db0', 1, 1000);
      expect(flat(leased)).to.deep.equal(ms(1, 2));
      expect(await store.take('db1')).to.equal(m(3));
      expect(await store.take('db1')).to.equal(null);
      expect(await store.waiting('db0')).to.equal(1);
      expect(await store.waiting('x:y')).to.equal(1);
      expect(await store.waiting('x')).to.equal(0);
      expect(await store.waiting('y')).to.equal(0);
      now = 1000;
      expect(await store.take('db1')).to.equal(null, 'an expired lease of db0 goes back to db0 only');
      expect(await takeAll(store, 'db0')).to.deep.equal(ms(1, 2, 5));
      expect(await takeAll(store, 'x:y')).to.deep.equal(ms(4));
    });

    it('messages with unicode, quotes, backslashes and escaped newlines survive byte-exact', async function () {
      const objects: object[] = [
        { s: 'a\nb' },
        { s: 'tab\there, cr\r, nul\u0000, bell\u0007' },
        { s: 'thé ☕ 中文 русский עברית', emoji: '🍵👍🏽', astral: '\u{1d11e}' },
        { s: 'He said "hi" and \'bye\'' },
        { s: 'back\\slash \\n not a newline \\\\ and \\"' },
        { s: '2\n{"n":1}\n{"n":2}', note: 'looks like a chunk header once unescaped' },
        { s: '' },
        { '': 'empty key', 'k\ney': [1, 'two', null, true, { deep: ['\n'] }] },
        { s: 'x'.repeat(300) + 'é'.repeat(100) },
        { n: 1e21, f: -0.5, big: 12345678901234567890 },
        {},
      ];
      const texts = objects.map(msg);
      for (const t of texts) expect(t, 'a JSON text has no raw newline').to.not.include('\n');
      expect(texts[0]).to.equal('{"s":"a\\nb"}');

      // As one chunk, taken one by one.
      await store.put('chunk', texts);
      const taken = await takeAll(store, 'chunk');
      expect(taken).to.deep.equal(texts);
      expect(taken.map((t) => JSON.parse(t))).to.deep.equal(objects.map((o) => JSON.parse(JSON.stringify(o))));

      // One message per chunk, leased.
      for (const t of texts) await store.put('single', [t]);
      const leased = await store.lease('single', texts.length, 1000);
      expect(sizes(leased)).to.deep.equal(texts.map(() => 1));
      expect(flat(leased)).to.deep.equal(texts);

      // As one chunk, leased whole, expired, and leased again.
      await store.put('whole', texts);
      const first = await store.lease('whole', 1, 1000);
      expect(first.map((l) => l.messages)).to.deep.equal([texts]);
      now = 1000;
      const again = await store.lease('whole', 1, 1000);
      expect(again.map((l) => l.messages)).to.deep.equal([texts]);

      // And back on the channel after expiry of the single ones (their order is the business of
      // 'many chunks expiring at the same instant ...'; here only the bytes count).
      now = 2000;
      expect([...(await takeAll(store, 'single'))].sort()).to.deep.equal([...texts].sort());
    });

    it('a chunk of 1000 messages round-trips through lease, expiry and take', async function () {
      const big = Array.from({ length: 1000 }, (_, i) => msg({ i, s: `message ${i} ☕ "q" \\ \n` }));
      expect(await store.put('big', big)).to.equal(1000);
      const leased = await store.lease('big', 1, 1000);
      expect(leased).to.have.length(1);
      expect(leased[0].messages).to.deep.equal(big);
      expect(await store.waiting('big')).to.equal(0);
      now = 1000;
      expect(await takeAll(store, 'big')).to.deep.equal(big);
      expect(await store.waiting('big')).to.equal(0);

      expect(await store.put('big', big)).to.equal(1000);
      const all = await store.lease('big', 1000, 1000);
      expect(flat(all)).to.deep.equal(big);
      expect(await store.ack('big', all.map((l) => l.id))).to.equal(all.length);
      now = 100_000;
      expect(await store.waiting('big')).to.equal(0);
    });

    it('concurrent puts and leases: every message lands once and is leased once', async function () {
      const n = 50;
      const counts = await Promise.all(Array.from({ length: n }, (_, i) => store.put('c', ms(2 * i, 2 * i + 1))));
      expect([...counts].sort((x, y) => x - y)).to.deep.equal(Array.from({ length: n }, (_, i) => 2 * (i + 1)));
      expect(await store.waiting('c')).to.equal(2 * n);
      const leases = (await Promise.all(Array.from({ length: n + 5 }, () => store.lease('c', 1, 1000)))).flat();
      expect(sizes(leases)).to.deep.equal(Array.from({ length: n }, () => 2), 'each chunk leased once, whole');
      const got = flat(leases).map((t) => (JSON.parse(t) as { n: number }).n);
      expect([...got].sort((x, y) => x - y)).to.deep.equal(Array.from({ length: 2 * n }, (_, i) => i));
      expect(await store.ack('c', leases.map((l) => l.id))).to.equal(n);
    });

    if (kind === 'redis') {
      describe('Redis only', function () {
        const lrange = (key: string) => raw!.lrange(key, 0, -1);

        it('layout: q:<channel> holds chunks ("n\\n..." for n >= 2), qn:<channel> the waiting count, ql/qd the leases', async function () {
          await store.put('ch', ms(1));
          await store.put('ch', ms(2, 3));
          expect(await raw!.type('q:ch')).to.equal('list');
          expect(await lrange('q:ch')).to.deep.equal([m(1), `2\n${m(2)}\n${m(3)}`]);
          expect(await raw!.get('qn:ch')).to.equal('3');

          now = 500;
          const [leased] = await store.lease('ch', 1, 1000);
          expect(leased.messages).to.deep.equal(ms(1));
          expect(await raw!.hget('ql:ch', leased.id)).to.equal(m(1));
          expect(Number(await raw!.zscore('qd:ch', leased.id))).to.equal(1500);
          expect(await raw!.get('qn:ch')).to.equal('2');
          expect(await raw!.exists('qseq')).to.equal(1);

          // Splitting a chunk of 2 leaves a chunk of one: just the message text.
          expect(await store.take('ch')).to.equal(m(2));
          expect(await lrange('q:ch')).to.deep.equal([m(3)]);
          expect(await raw!.get('qn:ch')).to.equal('1');

          // A lease of several chunks: each chunk under its own id, in the chunk format.
          await store.put('ch', ms(4, 5, 6));
          const two = await store.lease('ch', 2, 1000);
          expect(two.map((l) => l.messages)).to.deep.equal([ms(3), ms(4, 5, 6)]);
          expect(await raw!.hget('ql:ch', two[1].id)).to.equal(`3\n${m(4)}\n${m(5)}\n${m(6)}`);
          expect(await raw!.hlen('ql:ch')).to.equal(3);
          expect(await raw!.zcard('qd:ch')).to.equal(3);

          expect(await store.ack('ch', [leased.id, ...two.map((l) => l.id)])).to.equal(3);
          expect(await raw!.hlen('ql:ch')).to.equal(0);
          expect(await raw!.zcard('qd:ch')).to.equal(0);
        });

        it('clear() removes every q:, qn:, ql: and qd: key (counting a legacy channel too)', async function () {
          await store.put('a', ms(1, 2));
          await store.lease('a', 1, 1000);
          await store.put('b', ms(3));
          await raw!.rpush('q:old', m(4), m(5));
          expect({ ...(await store.clear()) }).to.deep.equal({ a: 2, b: 1, old: 2 });
          for (const pattern of ['q:*', 'ql:*', 'qd:*']) expect(await raw!.keys(pattern), pattern).to.deep.equal([]);
          for (const key of await raw!.keys('qn:*')) expect(await raw!.get(key), key).to.equal('0');
        });

        it('legacy data (one message per list element, no qn:<channel>): waiting recounts, take and lease work', async function () {
          await raw!.rpush('q:old', m(1), m(2), m(3));
          expect(await raw!.exists('qn:old')).to.equal(0);
          const s = freshStore();
          expect(await s.waiting('old')).to.equal(3);
          expect(await s.take('old')).to.equal(m(1));
          expect(await s.waiting('old')).to.equal(2);
          const leased = await s.lease('old', 1, 1000);
          expect(leased.map((l) => l.messages)).to.deep.equal([ms(2)]);
          expect(await s.waiting('old')).to.equal(1);
          expect(await s.take('old')).to.equal(m(3));
          expect(await s.take('old')).to.equal(null);
          expect(await s.ack('old', [leased[0].id])).to.equal(1);
          expect(await s.waiting('old')).to.equal(0);
        });

        it('legacy data: put onto an old channel counts the old messages, and FIFO order holds across both', async function () {
          await raw!.rpush('q:old', m(1), m(2));
          const s = freshStore();
          expect(await s.put('old', ms(3, 4))).to.equal(4);
          expect(await s.waiting('old')).to.equal(4);
          const leased = await s.lease('old', 2, 1000);
          expect(leased.map((l) => l.messages)).to.deep.equal([ms(1), ms(2)]);
          now = 1000;
          expect(await takeAll(s, 'old')).to.deep.equal(ms(1, 2, 3, 4));
        });

        it('a store on a fresh connection (a restarted queue) sees the same waiting counts and leases', async function () {
          await store.put('ch', ms(1, 2));
          await store.put('ch', ms(3));
          await store.put('other', ms(4, 5));
          const [leasedA] = await store.lease('ch', 1, 1000); // deadline 1000
          expect(leasedA.messages).to.deep.equal(ms(1, 2));
          expect(await store.waiting('ch')).to.equal(1);
          await store.close();

          const b = freshStore();
          expect(await b.waiting('ch')).to.equal(1, 'the leased chunk is still leased');
          expect(await b.waiting('other')).to.equal(2);
          now = 500;
          const leasedB = await b.lease('ch', 10, 1000); // deadline 1500
          expect(leasedB.map((l) => l.messages)).to.deep.equal([ms(3)], "the first store's lease still runs");
          now = 1000; // the first store's lease has expired, not the second's
          const back = await b.lease('ch', 10, 1000);
          expect(back.map((l) => l.messages)).to.deep.equal([ms(1, 2)]);
          expect(back[0].id).to.not.equal(leasedA.id);
          expect(back[0].id).to.not.equal(leasedB[0].id);
          expect(await b.ack('ch', [leasedA.id])).to.equal(0, 'the old id is void');
          expect(await b.ack('ch', [leasedB[0].id, back[0].id])).to.equal(2);

          const c = freshStore();
          expect(await c.waiting('ch')).to.equal(0);
          expect(await takeAll(c, 'other')).to.deep.equal(ms(4, 5));
          now = 100_000;
          expect(await c.take('ch')).to.equal(null, 'acknowledged through the second store: gone for every store');
        });
      });
    }
  });
}
