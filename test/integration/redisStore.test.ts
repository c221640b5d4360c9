/**
 * RedisTeaStore against a real redis-server: the layout of SPEC.md, the Lua
 * compare-and-set under concurrent writers, corrupt values, and agreement
 * with the pure merge of core/versions.ts.
 */
import { execFileSync } from 'node:child_process';
import { expect } from 'chai';
import fc from 'fast-check';
import Redis from 'ioredis';
import { Managed } from '../../tools/cluster/processes';
import { Clock, makeClock } from '../../lib/core/clock';
import { EMPTY, TeaState, Version, deleteAll, mergeVersion, rating } from '../../lib/core/versions';
import { normalize } from '../../lib/core/antiEntropy';
import { RedisTeaStore, STORE_REDIS_OPTIONS, ratingKey, tombstoneKey } from '../../lib/db/redisStore';
import { MemoryTeaStore, TeaChange } from '../../lib/db/store';
import { isAlive, startOwnRedis, stopTracked } from '../support/cluster';
import { PORT_BLOCKS, TestLayout } from '../support/layout';

const clock = (o: Record<string, number>): Clock => makeClock(Object.entries(o));
const v = (choice: number, c: Record<string, number>): Version => ({ choice, clock: clock(c) });
const put = (version: Version) => (s: TeaState) => mergeVersion(s, version);

/** A state as exact JSON: the order of versions and of clock keys counts. */
const exact = (s: TeaState) => JSON.stringify({ versions: s.versions, tombstone: s.tombstone });

describe('integration: RedisTeaStore on a real redis-server', function () {
  this.timeout(30_000);
  let layout: TestLayout;
  let port: number;
  let redisProcess: Managed | null = null;
  let raw: Redis; // for inspecting and planting values
  let store: RedisTeaStore;
  const extraStores: RedisTeaStore[] = [];

  // Connected as serverDB connects, so the tests see the same command batching.
  const client = () => new Redis({ host: layout.host, port, maxRetriesPerRequest: 1, ...STORE_REDIS_OPTIONS });
  const newStore = () => {
    const s = new RedisTeaStore(client());
    extraStores.push(s);
    return s;
  };
  /** Total Lua compare-and-set calls Redis has run so far (EVALSHA, or EVAL on a script-cache miss). */
  async function casCalls(): Promise<number> {
    const info = await raw.info('commandstats');
    let n = 0;
    for (const m of info.matchAll(/^cmdstat_(evalsha|eval):calls=(\d+)/gm)) n += Number(m[2]);
    return n;
  }

  /**
   * Reads of a tea's hash so far, the store's own (loadRaw's HMGET): Redis counts the HMGET inside
   * each compare-and-set too, so with one tea per call, subtract the calls.
   */
  async function hashReads(): Promise<number> {
    const info = await raw.info('commandstats');
    return Number(/^cmdstat_hmget:calls=(\d+)/m.exec(info)?.[1] ?? 0) - (await casCalls());
  }

  before(async function () {
    ({ layout, port, process: redisProcess } = await startOwnRedis('redisStore', PORT_BLOCKS.redisStore));
    raw = client();
    store = new RedisTeaStore(client());
  });

  after(async function () {
    for (const s of extraStores) await s.close().catch(() => undefined);
    if (store) await store.close().catch(() => undefined);
    raw?.disconnect();
    await stopTracked(redisProcess);
  });

  beforeEach(async function () {
    await raw.flushall();
  });

  /** Another writer of this Redis, as a separate process: it can strike between a store's read and its compare-and-set. */
  const rivalWrites = (...args: string[]) => execFileSync('redis-cli', ['-h', layout.host, '-p', String(port), ...args]);

  /** A change that adds 3 @ {c:1}; on its first call a rival first rewrites `tea` to [1 @ {a:1}, 2 @ {b:1}]. */
  function racedChange(tea: string) {
    let calls = 0;
    const change = (state: TeaState) => {
      calls++;
      if (calls === 1) rivalWrites('HSET', ratingKey(tea), 'rating', '1.5', 'choices', '[1,2]', 'clocks', '[{"a":1},{"b":1}]');
      return mergeVersion(state, v(3, { c: 1 }));
    };
    return { change, calls: () => calls };
  }

  it('the commands kept out of auto-pipelining are ones the store defines (a renamed script would silently rejoin it)', function () {
    const connection = client();
    try {
      new RedisTeaStore(connection);
      const ignored = STORE_REDIS_OPTIONS.autoPipeliningIgnoredCommands ?? [];
      expect(ignored).to.have.length.greaterThan(0);
      for (const name of ignored) expect(typeof (connection as unknown as Record<string, unknown>)[name], name).to.equal('function');
    } finally {
      connection.disconnect();
    }
  });

  it('stores a tea as the SPEC hash /rating/<tea> with fields rating, choices, clocks (JSON)', async function () {
    await store.update('zoo', put(v(10, { c4: 100 })));
    await store.update('zoo', put(v(2, { c5: 6 })));
    const hash = await raw.hgetall('/rating/zoo');
    expect(Object.keys(hash).sort()).to.deep.equal(['choices', 'clocks', 'rating']);
    expect(JSON.parse(hash.rating)).to.equal(6);
    expect(JSON.parse(hash.choices)).to.deep.equal([10, 2]);
    expect(JSON.parse(hash.clocks)).to.deep.equal([{ c4: 100 }, { c5: 6 }]);
    expect(await raw.type('/rating/zoo')).to.equal('hash');
    expect(await raw.keys('/rating/*')).to.deep.equal(['/rating/zoo']);
    expect(await raw.exists(tombstoneKey('zoo'))).to.equal(0);
  });

  it("replays SPEC.md's worked example and leaves its final state in Redis", async function () {
    const steps: [Record<string, number>, number, number, number[]][] = [
      [{ c4: 100 }, 10, 10, [10]],
      [{ c5: 6 }, 2, 6, [10, 2]],
      [{ c23: 12 }, 3, 5, [10, 2, 3]],
      [{ c5: 21, c23: 13 }, 8, 9, [10, 8]],
      [{ c4: 101, c5: 6 }, 6, 7, [6, 8]],
      [{ c5: 21, c23: 21 }, 2, 4, [6, 2]],
      [{ c4: 102, c5: 21, c23: 12 }, 20, 11, [20, 2]],
      [{ c4: 99, c23: 12 }, 30, 11, [20, 2]], // stale
      [{ c4: 102, c5: 21, c23: 40 }, 18, 18, [18]],
    ];
    for (const [c, choice, mean, choices] of steps) {
      const { after } = await store.update('worked', put(v(choice, c)));
      expect(rating(after), `after ${JSON.stringify(c)}:${choice}`).to.equal(mean);
      const hash = await raw.hgetall('/rating/worked');
      expect(JSON.parse(hash.choices), `choices after ${JSON.stringify(c)}:${choice}`).to.deep.equal(choices);
      expect(JSON.parse(hash.rating)).to.equal(mean);
    }
    const hash = await raw.hgetall('/rating/worked');
    expect(JSON.parse(hash.clocks)).to.deep.equal([{ c4: 102, c5: 21, c23: 40 }]);
  });

  describe('what the store remembers of its own writes', function () {
    // Two teas remembered decoded, three more as text: small, so a test can push teas out.
    const small = () => {
      const s = new RedisTeaStore(client(), { teas: 2, texts: 3 });
      extraStores.push(s);
      return s;
    };

    it('a tea pushed out of the decoded memory is written from its remembered text, without reading Redis', async function () {
      const s = small();
      for (const tea of ['mem-a', 'mem-b', 'mem-c']) await s.update(tea, put(v(1, { w: 1 })));
      const reads = await hashReads();
      const { before, after } = await s.update('mem-a', put(v(2, { w: 2 })));
      expect(await hashReads(), 'no read of mem-a').to.equal(reads);
      expect(exact(before)).to.equal(exact(put(v(1, { w: 1 }))(EMPTY)));
      expect(exact(await store.load('mem-a'))).to.equal(exact(after));
    });

    it('a tea pushed out of both memories is read from Redis again', async function () {
      const s = small();
      for (const tea of ['old-a', 'old-b', 'old-c', 'old-d', 'old-e', 'old-f']) await s.update(tea, put(v(1, { w: 1 })));
      const reads = await hashReads();
      await s.update('old-a', put(v(2, { w: 2 })));
      expect(await hashReads()).to.equal(reads + 1);
      expect((await store.load('old-a')).versions.map((x) => x.choice)).to.deep.equal([2]);
    });

    it('a remembered text that someone else has overwritten in Redis loses the compare-and-set, and the write merges with theirs', async function () {
      const s = small();
      for (const tea of ['text-a', 'text-b', 'text-c']) await s.update(tea, put(v(1, { w: 1 })));
      await raw.hset(ratingKey('text-a'), 'rating', '7', 'choices', '[7]', 'clocks', '[{"other":1}]');
      await s.update('text-a', put(v(2, { w: 2 })));
      const held = await store.load('text-a');
      expect(held.versions.map((x) => x.choice).sort()).to.deep.equal([2, 7]);
    });
  });

  it('a stale write changes nothing in Redis and issues no compare-and-set', async function () {
    await store.update('stale', put(v(5, { a: 3 })));
    const before = await raw.hgetall('/rating/stale');
    const calls = await casCalls();
    const result = await store.update('stale', put(v(9, { a: 2 })));
    expect(result.after).to.equal(result.before);
    expect(await casCalls()).to.equal(calls);
    expect(await raw.hgetall('/rating/stale')).to.deep.equal(before);
  });

  it('load of a tea that was never written is EMPTY, and writes nothing', async function () {
    const state = await store.load('never-written');
    expect(state).to.equal(EMPTY);
    expect(state.versions).to.deep.equal([]);
    expect(state.tombstone).to.equal(null);
    expect(await raw.dbsize()).to.equal(0);
  });

  it('a deleted tea: the hash is gone, the tombstone lives outside /rating/, and buries older writes', async function () {
    await store.update('gone', put(v(4, { a: 1 })));
    await store.update('gone', put(v(6, { b: 2 })));
    await store.update('gone', deleteAll);
    expect(await raw.exists('/rating/gone')).to.equal(0);
    expect(await raw.keys('/rating/*')).to.deep.equal([]);
    // The tombstone is bookkeeping: it lives under a key outside /rating/.
    expect(tombstoneKey('gone').startsWith('/rating/')).to.equal(false);
    expect(await raw.type(tombstoneKey('gone'))).to.equal('string');
    expect(JSON.parse((await raw.get(tombstoneKey('gone')))!)).to.deep.equal({ a: 1, b: 2 });
    // Nothing else that is not /rating/ mentions the tea as a rating hash.
    for (const key of await raw.keys('*')) expect(key.startsWith('/rating/'), key).to.equal(false);

    const loaded = await store.load('gone');
    expect(loaded.versions).to.deep.equal([]);
    expect(JSON.stringify(loaded.tombstone)).to.equal('{"a":1,"b":2}');

    // A replayed (older) write does not come back; a concurrent one does.
    await store.update('gone', put(v(4, { a: 1 })));
    expect(await raw.exists('/rating/gone')).to.equal(0);
    await store.update('gone', put(v(7, { a: 1, c: 1 })));
    const hash = await raw.hgetall('/rating/gone');
    expect(JSON.parse(hash.choices)).to.deep.equal([7]);
    expect(JSON.parse(hash.rating)).to.equal(7);
  });

  it('a tea named like bookkeeping ("tombstone:x") cannot collide with the tombstone of x', async function () {
    await store.update('x', put(v(1, { a: 1 })));
    await store.update('x', deleteAll);
    await store.update('tombstone:x', put(v(3, { a: 1 })));
    expect((await store.load('tombstone:x')).versions.map((x) => x.choice)).to.deep.equal([3]);
    expect((await store.load('x')).versions).to.deep.equal([]);
    expect(JSON.stringify((await store.load('x')).tombstone)).to.equal('{"a":1}');
  });

  const N = 64;
  const concurrentVersions = Array.from({ length: N }, (_, i) => v(i + 1, { [`client${i}`]: 1 }));

  function expectAllSiblings(state: TeaState) {
    expect(state.versions).to.have.length(N);
    expect(state.versions.map((x) => x.choice).sort((a, b) => a - b)).to.deep.equal(concurrentVersions.map((x) => x.choice));
    expect(rating(state)).to.equal((N + 1) / 2);
  }

  it(`${N} concurrent updates of pairwise-concurrent clocks through one store keep all ${N} siblings`, async function () {
    await Promise.all(concurrentVersions.map((x) => store.update('crowd', put(x))));
    expectAllSiblings(await store.load('crowd'));
    const hash = await raw.hgetall('/rating/crowd');
    expect(JSON.parse(hash.choices)).to.have.length(N);
    expect(JSON.parse(hash.clocks)).to.have.length(N);
    expect(JSON.parse(hash.rating)).to.equal((N + 1) / 2);
  });

  it(`${N} concurrent updates split across two stores on two connections keep all ${N} siblings (CAS retries)`, async function () {
    const a = newStore();
    const b = newStore();
    const callsBefore = await casCalls();
    await Promise.all(concurrentVersions.map((x, i) => (i % 2 === 0 ? a : b).update('crowd2', put(x))));
    const calls = (await casCalls()) - callsBefore;
    expectAllSiblings(await store.load('crowd2'));
    expectAllSiblings(await a.load('crowd2'));
    // Every update succeeds with exactly one compare-and-set; any more were lost races, retried.
    expect(calls).to.be.at.least(N);
    this.test!.title += ` [${calls - N} lost races retried]`;
  });

  it('a compare-and-set that loses a race re-reads, re-merges and keeps the other writer’s version', async function () {
    // The other writer strikes deterministically: between this store's read
    // and its compare-and-set, a separate redis-cli process rewrites the tea.
    await store.update('race', put(v(1, { a: 1 })));
    const raced = racedChange('race');
    const { after } = await store.update('race', raced.change);
    expect(raced.calls()).to.equal(2);
    expect(after.versions.map((x) => x.choice)).to.deep.equal([1, 2, 3]);
    const hash = await raw.hgetall(ratingKey('race'));
    expect(JSON.parse(hash.choices)).to.deep.equal([1, 2, 3]);
    expect(JSON.parse(hash.clocks)).to.deep.equal([{ a: 1 }, { b: 1 }, { c: 1 }]);
    expect(JSON.parse(hash.rating)).to.equal(2);
  });

  it('the compare-and-set also notices a tombstone written in between, and the retry respects it', async function () {
    await store.update('race2', put(v(1, { a: 1 })));
    let calls = 0;
    await store.update('race2', (state) => {
      calls++;
      if (calls === 1) {
        rivalWrites('SET', tombstoneKey('race2'), '{"a":5,"c":9}');
      }
      return mergeVersion(state, v(3, { c: 1 }));
    });
    // First attempt: {c:1} would be added. The retry sees the tombstone, which buries {c:1}: nothing to write.
    expect(calls).to.equal(2);
    expect(JSON.parse((await raw.hget(ratingKey('race2'), 'choices'))!)).to.deep.equal([1]);
    expect(await raw.get(tombstoneKey('race2'))).to.equal('{"a":5,"c":9}');
  });

  describe('updateMany (a batch of gossip)', function () {
    const sums = async (s: { bucketSums(): Promise<readonly (readonly [number, number])[]> }) =>
      (await s.bucketSums()).map(([a, b]) => [normalize(a), normalize(b)]);

    it('writes the whole batch with one compare-and-set; changes of one tea apply in order; the index matches', async function () {
      await store.update('b', put(v(1, { a: 1 })));
      const changes: TeaChange[] = [
        ['a', put(v(1, { x: 1 }))],
        ['b', put(v(2, { b: 1 }))],
        ['a', put(v(2, { x: 2 }))], // supersedes a's first
        ['c', put(v(3, { c: 1 }))],
        ['c', deleteAll],
        ['d', put(v(4, { d: 1 }))],
      ];
      const before = await casCalls();
      await store.updateMany(changes);
      expect(await casCalls(), 'compare-and-set calls').to.equal(before + 1);
      const memory = new MemoryTeaStore();
      await memory.update('b', put(v(1, { a: 1 })));
      for (const [tea, change] of changes) await memory.update(tea, change);
      for (const tea of ['a', 'b', 'c', 'd']) expect(exact(await store.load(tea)), tea).to.equal(exact(await memory.load(tea)));
      expect(JSON.parse((await raw.hget(ratingKey('a'), 'choices'))!)).to.deep.equal([2]);
      expect(await raw.exists(ratingKey('c'))).to.equal(0);
      expect(await raw.get(tombstoneKey('c'))).to.equal('{"c":1}');
      expect(await sums(store)).to.deep.equal(await sums(memory));
    });

    it('an empty batch, or one that changes nothing, writes nothing', async function () {
      await store.update('same', put(v(5, { a: 3 })));
      const before = await casCalls();
      await store.updateMany([]);
      await store.updateMany([['same', put(v(1, { a: 1 }))]]); // older: nothing to write
      expect(await casCalls()).to.equal(before);
      expect((await store.load('same')).versions.map((x) => x.choice)).to.deep.equal([5]);
    });

    it('a tea rewritten behind its back loses its compare-and-set and is re-merged; the rest of the batch is written', async function () {
      await store.update('race', put(v(1, { a: 1 })));
      const raced = racedChange('race');
      await store.updateMany([
        ['calm', put(v(7, { q: 1 }))],
        ['race', raced.change],
      ]);
      expect(raced.calls()).to.equal(2);
      expect(JSON.parse((await raw.hget(ratingKey('race'), 'choices'))!)).to.deep.equal([1, 2, 3]);
      expect(JSON.parse((await raw.hget(ratingKey('calm'), 'choices'))!)).to.deep.equal([7]);
    });

    it('"nothing to write" against a remembered value is checked against Redis before it is believed', async function () {
      await store.update('stale', put(v(1, { a: 1 })));
      // Another writer replaces the value; this store still remembers {a:1} alone.
      rivalWrites('HSET', ratingKey('stale'), 'rating', '2', 'choices', '[2]', 'clocks', '[{"b":1}]');
      await store.updateMany([['stale', put(v(1, { a: 1 }))]]);
      expect(JSON.parse((await raw.hget(ratingKey('stale'), 'clocks'))!)).to.deep.equal([{ b: 1 }, { a: 1 }]);
    });

    it('a tea with a corrupt value or a key of the wrong type is named and left alone; the rest of the batch is written', async function () {
      await raw.hset(ratingKey('corrupt'), 'rating', '1', 'choices', '[1]', 'clocks', 'not json');
      await raw.set(ratingKey('wrongtype'), 'just a string');
      const skipped = await store.updateMany([
        ['before', put(v(1, { a: 1 }))],
        ['corrupt', put(v(2, { a: 1 }))],
        ['wrongtype', put(v(3, { a: 1 }))],
        ['after', put(v(4, { a: 1 }))],
      ]);
      expect(skipped.map((s) => s.tea)).to.have.members(['corrupt', 'wrongtype']);
      expect(skipped.find((s) => s.tea === 'corrupt')!.error.message).to.include(ratingKey('corrupt'));
      expect(skipped.find((s) => s.tea === 'wrongtype')!.error.message).to.match(/WRONGTYPE/);
      expect(await raw.hget(ratingKey('corrupt'), 'clocks')).to.equal('not json');
      expect(await raw.get(ratingKey('wrongtype'))).to.equal('just a string');
      expect((await store.load('before')).versions.map((x) => x.choice)).to.deep.equal([1]);
      expect((await store.load('after')).versions.map((x) => x.choice)).to.deep.equal([4]);
    });

    it('a key turned to the wrong type behind its back (unknown to its memory) costs only that tea', async function () {
      await store.updateMany([['good', put(v(1, { a: 1 }))], ['bad', put(v(1, { a: 1 }))]]);
      await raw.hset(tombstoneKey('bad'), 'not', 'a string'); // the script's GET of it fails
      const skipped = await store.updateMany([['good', put(v(2, { a: 2 }))], ['bad', put(v(2, { a: 2 }))]]);
      expect(skipped.map((s) => s.tea)).to.deep.equal(['bad']);
      expect(skipped[0].error.message).to.match(/WRONGTYPE/);
      expect((await store.load('good')).versions.map((x) => x.choice)).to.deep.equal([2]);
    });

    it('an unreachable Redis rejects the batch (so the gossip is not acknowledged)', async function () {
      const redis = new Redis({ host: layout.host, port: 1, maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true });
      redis.on('error', () => undefined);
      const unreachable = new RedisTeaStore(redis);
      const e = await unreachable.updateMany([['x', put(v(1, { a: 1 }))]]).then(() => null, (err: Error) => err);
      expect(e).to.be.instanceOf(Error);
      await unreachable.close();
    });

    it('equals the pure merge, and keeps the same index, for random batches over a few teas (property)', async function () {
      const teas = ['p', 'q', 'r'];
      const arbClock = fc
        .array(fc.tuple(fc.constantFrom('a', 'b', 'c'), fc.integer({ min: 0, max: 3 })), { maxLength: 3 })
        .map((entries) => makeClock(entries));
      const arbChange = fc.tuple(
        fc.constantFrom(...teas),
        fc.oneof(
          { weight: 6, arbitrary: fc.tuple(fc.integer({ min: 0, max: 10 }), arbClock).map(([choice, c]) => put({ choice, clock: c })) },
          { weight: 1, arbitrary: fc.constant(deleteAll) },
        ),
      );
      await fc.assert(
        fc.asyncProperty(fc.array(fc.array(arbChange, { maxLength: 8 }), { minLength: 1, maxLength: 5 }), async (batches) => {
          await raw.flushall();
          const fresh = newStore(); // nothing remembered from earlier runs
          const memory = new MemoryTeaStore();
          for (const batch of batches) {
            await fresh.updateMany(batch);
            for (const [tea, change] of batch) await memory.update(tea, change);
          }
          for (const tea of teas) expect(exact(await fresh.load(tea)), tea).to.equal(exact(await memory.load(tea)));
          expect(await sums(fresh)).to.deep.equal(await sums(memory));
        }),
        { numRuns: 40, seed: Number(process.env.FC_SEED ?? Date.now() % 2 ** 31) },
      );
    });
  });

  describe('a corrupt value in Redis is a clear error, not a crash', function () {
    const cases: [string, () => Promise<unknown>][] = [
      ['clocks that are not JSON', () => raw.hset(ratingKey('bad'), 'rating', '1', 'choices', '[1]', 'clocks', 'not json')],
      ['choices that are not JSON', () => raw.hset(ratingKey('bad'), 'rating', '1', 'choices', '[1', 'clocks', '[{"a":1}]')],
      ['clocks without choices', () => raw.hset(ratingKey('bad'), 'rating', '1', 'clocks', '[{"a":1}]')],
      ['choices and clocks of different lengths', () => raw.hset(ratingKey('bad'), 'rating', '1', 'choices', '[1,2]', 'clocks', '[{"a":1}]')],
      ['a negative counter', () => raw.hset(ratingKey('bad'), 'rating', '1', 'choices', '[1]', 'clocks', '[{"a":-1}]')],
      ['a choice that is a string', () => raw.hset(ratingKey('bad'), 'rating', '1', 'choices', '["1"]', 'clocks', '[{"a":1}]')],
      ['clocks that are an object', () => raw.hset(ratingKey('bad'), 'rating', '1', 'choices', '[1]', 'clocks', '{"a":1}')],
      ['a tombstone that is not JSON', () => raw.set(tombstoneKey('bad'), '{{{')],
      ['a tombstone that is an array', () => raw.set(tombstoneKey('bad'), '[1]')],
    ];
    for (const [what, plant] of cases) {
      it(`${what}: load and update reject naming the key, the value is left alone, other teas still work`, async function () {
        await store.update('good', put(v(5, { a: 1 })));
        await plant();
        const snapshot = JSON.stringify([await raw.hgetall(ratingKey('bad')), await raw.get(tombstoneKey('bad'))]);
        const isTombstone = what.includes('tombstone');
        const key = isTombstone ? tombstoneKey('bad') : ratingKey('bad');

        const loadError = await store.load('bad').then(
          () => null,
          (e: Error) => e,
        );
        expect(loadError, 'load should reject').to.be.instanceOf(Error);
        expect(loadError!.message).to.include(key);

        const updateError = await store.update('bad', put(v(9, { z: 1 }))).then(
          () => null,
          (e: Error) => e,
        );
        expect(updateError, 'update should reject').to.be.instanceOf(Error);
        expect(updateError!.message).to.include(key);

        // Nothing overwritten; the store and Redis still serve other teas.
        expect(JSON.stringify([await raw.hgetall(ratingKey('bad')), await raw.get(tombstoneKey('bad'))])).to.equal(snapshot);
        expect((await store.load('good')).versions.map((x) => x.choice)).to.deep.equal([5]);
        await store.update('good', put(v(7, { b: 1 })));
        expect(rating(await store.load('good'))).to.equal(6);
        expect(isAlive(redisProcess!)).to.equal(true);
      });
    }

    it('a key of the wrong Redis type rejects with the Redis error and crashes nothing', async function () {
      await raw.set(ratingKey('wrongtype'), 'just a string');
      const e = await store.load('wrongtype').then(
        () => null,
        (err: Error) => err,
      );
      expect(e).to.be.instanceOf(Error);
      expect(e!.message).to.match(/WRONGTYPE/);
      await store.update('fine', put(v(1, { a: 1 })));
      expect((await store.load('fine')).versions).to.have.length(1);
    });
  });

  it('the state read back equals the pure merge for random sequences of writes and deletes', async function () {
    const ids = ['a', 'b', 'c'];
    const arbClock = fc
      .array(fc.tuple(fc.constantFrom(...ids), fc.integer({ min: 0, max: 3 })), { maxLength: 3 })
      .map((entries) => makeClock(entries));
    const arbOp = fc.oneof(
      { weight: 6, arbitrary: fc.record({ kind: fc.constant('put' as const), choice: fc.integer({ min: -10, max: 10 }).map((n) => n / 2), clock: arbClock }) },
      { weight: 1, arbitrary: fc.constant({ kind: 'delete' as const }) },
    );
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(arbOp, { minLength: 1, maxLength: 25 }), async (ops) => {
        const tea = `prop-${run++}`;
        let expected: TeaState = EMPTY;
        for (const op of ops) {
          const change = op.kind === 'put' ? put({ choice: op.choice, clock: op.clock }) : deleteAll;
          expected = change(expected);
          const { after } = await store.update(tea, change);
          expect(exact(after)).to.equal(exact(expected));
        }
        const loaded = await store.load(tea);
        expect(exact(loaded)).to.equal(exact(expected));
        // And the raw hash is exactly the SPEC layout of that state.
        const hash = await raw.hgetall(ratingKey(tea));
        if (expected.versions.length === 0) {
          expect(hash).to.deep.equal({});
        } else {
          expect(JSON.parse(hash.rating)).to.equal(rating(expected));
          expect(JSON.parse(hash.choices)).to.deep.equal(expected.versions.map((x) => x.choice));
          expect(hash.clocks).to.equal(JSON.stringify(expected.versions.map((x) => x.clock)));
        }
        const tomb = await raw.get(tombstoneKey(tea));
        expect(tomb).to.equal(expected.tombstone === null ? null : JSON.stringify(expected.tombstone));
      }),
      { numRuns: 30, seed: Number(process.env.FC_SEED ?? Date.now() % 2 ** 31) },
    );
  });
});
