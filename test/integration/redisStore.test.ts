/**
 * RedisTeaStore (lib/db/redisStore.ts) against a real redis-server: the contract's
 * layout and worked example through commit(), claiming and the owner fence,
 * the digest list, deletes and tombstones, what the store remembers of its
 * own writes, values it cannot use, the in-memory anti-entropy index, and
 * what one commit costs in Redis commands.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import Redis from 'ioredis';
import { Managed } from '../../tools/cluster/processes';
import { Clock, makeClock } from '../../lib/core/clock';
import { BucketIndex, bucketOf } from '../../lib/core/antiEntropy';
import { EMPTY, TeaState, Version, deleteAll, mergeVersion, rating } from '../../lib/core/versions';
import { DIGEST_KEY, OWNER_KEY, RedisStoreOptions, RedisTeaStore, STORE_REDIS_OPTIONS, ratingKey, tombstoneKey } from '../../lib/db/redisStore';
import { CommitResult, CommitStep, CorruptValueError, DEFAULT_RECENT_MS, FencedError, MemoryTeaStore, TeaStore } from '../../lib/db/store';
import { startOwnRedis, stopTracked } from '../support/cluster';
import { PORT_BLOCKS, TestLayout } from '../support/layout';

const clock = (o: Record<string, number>): Clock => makeClock(Object.entries(o));
const v = (choice: number, c: Record<string, number>): Version => ({ choice, clock: clock(c) });
const put = (version: Version) => (s: TeaState) => mergeVersion(s, version);

/** The tuple a client's write adds to the digest, as the DB builds it: from the result, none when nothing changed. */
const tupleOf = (tea: string) => (before: TeaState, after: TeaState) =>
  after === before ? null : JSON.stringify({ key: tea, choices: after.versions.map((x) => x.choice) });

/** A client's write of `choice` at `c` to `tea`, as one commit step. */
const write = (tea: string, choice: number, c: Record<string, number>): CommitStep => ({ tea, change: put(v(choice, c)), digest: tupleOf(tea) });
const remove = (tea: string): CommitStep => ({ tea, change: deleteAll, digest: tupleOf(tea) });

/** A state as exact JSON: the order of versions and of clock keys counts. */
const exact = (s: TeaState) => JSON.stringify({ versions: s.versions, tombstone: s.tombstone });

async function commitError(store: TeaStore, steps: CommitStep[]): Promise<Error> {
  return store.commit({ trim: 0, steps }).then(
    () => {
      throw new Error('the commit should have failed');
    },
    (e: Error) => e,
  );
}

describe('integration: RedisTeaStore on a real redis-server', function () {
  this.timeout(20_000);
  let layout: TestLayout;
  let port: number;
  let redisProcess: Managed | null = null;
  let raw: Redis; // for inspecting and planting values
  const opened: RedisTeaStore[] = [];

  // Connected as serverDB connects, so the tests see the same command batching.
  const client = () => new Redis({ host: layout.host, port, maxRetriesPerRequest: 1, ...STORE_REDIS_OPTIONS });
  /** A store on a connection of its own, as a DB process has; closed by the after hook. */
  const newStore = (options?: RedisStoreOptions) => {
    const s = new RedisTeaStore(client(), options);
    opened.push(s);
    return s;
  };
  /** A store that owns the Redis (as a starting DB does). */
  const owningStore = async (options?: RedisStoreOptions) => {
    const s = newStore(options);
    expect(await s.claim('force')).to.not.equal(null);
    return s;
  };
  const commitOne = (store: TeaStore, step: CommitStep, trim = 0) => store.commit({ trim, steps: [step] });

  /** Every key and its value, for "nothing was written" checks. */
  async function snapshot(): Promise<Record<string, unknown>> {
    const out: Record<string, unknown> = {};
    for (const key of (await raw.keys('*')).sort()) {
      const type = await raw.type(key);
      out[key] = type === 'hash' ? await raw.hgetall(key) : type === 'list' ? await raw.lrange(key, 0, -1) : type === 'string' ? await raw.get(key) : type;
    }
    return out;
  }

  /** Calls per Redis command so far, commands run inside scripts included. */
  async function commandCounts(): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    for (const match of (await raw.info('commandstats')).matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) counts[match[1]] = Number(match[2]);
    return counts;
  }

  /** The commands `action` made Redis run (this file's INFO calls left out). */
  async function commandsOf(action: () => Promise<unknown>): Promise<Record<string, number>> {
    const before = await commandCounts();
    await action();
    const after = await commandCounts();
    const delta: Record<string, number> = {};
    for (const [name, n] of Object.entries(after)) if (name !== 'info' && n !== (before[name] ?? 0)) delta[name] = n - (before[name] ?? 0);
    return delta;
  }

  const digest = () => raw.lrange(DIGEST_KEY, 0, -1);

  before(async function () {
    ({ layout, port, process: redisProcess } = await startOwnRedis('redisStore', PORT_BLOCKS.redisStore));
    raw = new Redis({ host: layout.host, port, maxRetriesPerRequest: 1 });
  });

  after(async function () {
    for (const s of opened) await s.close().catch(() => undefined);
    raw?.disconnect();
    await stopTracked(redisProcess);
  });

  beforeEach(async function () {
    await raw.flushall();
  });

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

  it("stores a tea as the contract's hash /rating/<tea> with fields rating, choices, clocks (JSON), and nothing else under /rating/", async function () {
    const store = await owningStore();
    await commitOne(store, write('zoo', 10, { c4: 100 }));
    await commitOne(store, write('zoo', 2, { c5: 6 }));
    expect(await raw.type('/rating/zoo')).to.equal('hash');
    const hash = await raw.hgetall('/rating/zoo');
    expect(Object.keys(hash).sort()).to.deep.equal(['choices', 'clocks', 'rating']);
    expect(JSON.parse(hash.rating)).to.equal(6);
    expect(JSON.parse(hash.choices)).to.deep.equal([10, 2]);
    expect(JSON.parse(hash.clocks)).to.deep.equal([{ c4: 100 }, { c5: 6 }]);
    expect(await raw.keys('/rating/*')).to.deep.equal(['/rating/zoo']);
    expect(await raw.exists(tombstoneKey('zoo'))).to.equal(0);
    expect(exact(await newStore().load('zoo'))).to.equal(exact(put(v(2, { c5: 6 }))(put(v(10, { c4: 100 }))(EMPTY))));
    expect(await store.load('never-written')).to.equal(EMPTY);
  });

  it("replays the contract's worked example through commit steps, and leaves its final state in Redis", async function () {
    const store = await owningStore();
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
      const what = `${JSON.stringify(c)}:${choice}`;
      const { results } = await commitOne(store, write('worked', choice, c));
      const result = results[0];
      if (result.error) throw result.error;
      expect(rating(result.after), what).to.equal(mean);
      const hash = await raw.hgetall('/rating/worked');
      expect(JSON.parse(hash.choices), `choices after ${what}`).to.deep.equal(choices);
      expect(JSON.parse(hash.rating), `rating after ${what}`).to.equal(mean);
    }
    expect(JSON.parse((await raw.hget('/rating/worked', 'clocks'))!)).to.deep.equal([{ c4: 102, c5: 21, c23: 40 }]);
    expect(await digest(), 'one tuple per write that changed something').to.have.length(steps.length - 1);
  });

  describe('claim and the owner fence', function () {
    it("claim modes: force takes over, free refuses an owned Redis, mine refuses another owner's", async function () {
      const a = newStore();
      const b = newStore();
      expect(await a.claim('free'), 'nobody owns a fresh Redis').to.deep.equal([]);
      expect(await raw.get(OWNER_KEY)).to.equal(a.ownerId);
      expect(await b.claim('free')).to.equal(null);
      expect(await b.claim('mine')).to.equal(null);
      expect(await a.claim('mine'), 'still its own').to.deep.equal([]);
      expect(await b.claim('force')).to.deep.equal([]);
      expect(await raw.get(OWNER_KEY)).to.equal(b.ownerId);
      expect(await a.claim('mine')).to.equal(null);
      await raw.flushall();
      expect(await a.claim('mine'), 'nobody owns a wiped Redis').to.deep.equal([]);
    });

    it('claim returns the stored digest, oldest first, to a new store (a restarted DB)', async function () {
      const first = await owningStore();
      await first.commit({ trim: 0, steps: [write('a', 1, { x: 1 }), write('b', 2, { x: 1 })] });
      await commitOne(first, write('c', 3, { x: 1 }));
      const stored = await digest();
      expect(stored).to.have.length(3);
      expect(await newStore().claim('force')).to.deep.equal(stored);
    });

    it("claim drops the previous version's anti-entropy index (ae:*), which now lives in memory", async function () {
      await raw.set('ae:sum0', '1');
      await raw.set('ae:built', '1');
      await raw.sadd('ae:teas:7', 'a');
      await raw.sadd('ae:teas:255', 'b');
      await raw.hset(ratingKey('kept'), 'rating', '1', 'choices', '[1]', 'clocks', '[{"a":1}]');
      await owningStore();
      expect((await raw.keys('*')).sort()).to.deep.equal([OWNER_KEY, ratingKey('kept')].sort());
    });

    it("a second store that claims makes the first one's commit throw FencedError naming the new owner, and write nothing", async function () {
      const first = await owningStore();
      await commitOne(first, write('tea', 1, { a: 1 }));
      const second = await owningStore();
      const before = await snapshot();
      const e = await commitError(first, [write('tea', 2, { a: 2 }), write('other', 3, { a: 1 })]);
      expect(e).to.be.instanceOf(FencedError);
      expect((e as FencedError).owner).to.equal(second.ownerId);
      expect(await snapshot()).to.deep.equal(before);
      // A trim is a write too.
      expect(await first.commit({ trim: 1, steps: [] }).catch((err: Error) => err)).to.be.instanceOf(FencedError);
      expect(await digest()).to.have.length(1);
    });

    it('after a FLUSHALL the next commit throws FencedError with owner null and writes nothing; claiming again works', async function () {
      const store = await owningStore();
      await commitOne(store, write('tea', 1, { a: 1 }));
      await raw.flushall();
      const e = await commitError(store, [write('tea', 2, { a: 2 })]);
      expect(e).to.be.instanceOf(FencedError);
      expect((e as FencedError).owner).to.equal(null);
      expect(await raw.dbsize()).to.equal(0);
      expect(await store.claim('free')).to.deep.equal([]);
      const { results } = await commitOne(store, write('tea', 2, { a: 2 }));
      expect(results[0].error).to.equal(undefined);
      expect(JSON.parse((await raw.hget(ratingKey('tea'), 'choices'))!), 'nothing remembered from before the wipe').to.deep.equal([2]);
    });
  });

  describe('the digest list', function () {
    it('gets the tuples in step order, within a group and across groups; steps that change nothing add none', async function () {
      const store = await owningStore();
      const { appended } = await store.commit({
        trim: 0,
        steps: [write('b', 1, { x: 1 }), write('a', 2, { x: 1 }), write('b', 3, { x: 2 }), write('a', 0, { x: 0 }), { tea: 'c', change: (s) => s, digest: 'passed-on' }],
      });
      const tuple = (key: string, choice: number) => JSON.stringify({ key, choices: [choice] });
      expect(appended).to.deep.equal([tuple('b', 1), tuple('a', 2), tuple('b', 3), 'passed-on']);
      await commitOne(store, write('d', 4, { x: 1 }));
      expect(await digest()).to.deep.equal([...appended, tuple('d', 4)]);
    });

    it('trim drops that many tuples from the head before the group appends; a trim past the end empties it', async function () {
      const store = await owningStore();
      await store.commit({ trim: 0, steps: ['t1', 't2', 't3'].map((t) => ({ tea: 'x', change: (s: TeaState) => s, digest: t })) });
      await store.commit({ trim: 2, steps: [{ tea: 'x', change: (s) => s, digest: 't4' }] });
      expect(await digest()).to.deep.equal(['t3', 't4']);
      await store.commit({ trim: 5, steps: [] });
      expect(await digest()).to.deep.equal([]);
    });

    it('keeps the order of a group appending more tuples than one RPUSH of the script takes (1000)', async function () {
      const store = await owningStore();
      const tuples = Array.from({ length: 2500 }, (_, k) => `t${k}`);
      await store.commit({ trim: 0, steps: tuples.map((t) => ({ tea: 'x', change: (s: TeaState) => s, digest: t })) });
      expect(await digest()).to.deep.equal(tuples);
    });

    it('survives a restart: a new store claims it as it was left, trims included', async function () {
      const first = await owningStore();
      await first.commit({ trim: 0, steps: ['t1', 't2', 't3'].map((t) => ({ tea: 'x', change: (s: TeaState) => s, digest: t })) });
      await first.commit({ trim: 1, steps: [] });
      await first.close();
      expect(await newStore().claim('force')).to.deep.equal(['t2', 't3']);
    });
  });

  describe('deletes', function () {
    it('a deleted tea: the hash is gone, its tombstone is the JSON clock at tombstone:<tea>, outside /rating/', async function () {
      const store = await owningStore();
      await store.commit({ trim: 0, steps: [write('gone', 4, { a: 1 }), write('gone', 6, { b: 2 })] });
      const { results } = await commitOne(store, remove('gone'));
      expect(results[0].error).to.equal(undefined);
      expect(await raw.exists(ratingKey('gone'))).to.equal(0);
      expect(await raw.keys('/rating/*')).to.deep.equal([]);
      expect(tombstoneKey('gone').startsWith('/rating/')).to.equal(false);
      expect(await raw.type(tombstoneKey('gone'))).to.equal('string');
      expect(JSON.parse((await raw.get(tombstoneKey('gone')))!)).to.deep.equal({ a: 1, b: 2 });
      const loaded = await newStore().load('gone');
      expect(loaded.versions).to.deep.equal([]);
      expect(JSON.stringify(loaded.tombstone)).to.equal('{"a":1,"b":2}');
      // A replayed older write stays buried; a concurrent one comes back.
      await commitOne(store, write('gone', 4, { a: 1 }));
      expect(await raw.exists(ratingKey('gone'))).to.equal(0);
      await commitOne(store, write('gone', 7, { a: 1, c: 1 }));
      expect(JSON.parse((await raw.hget(ratingKey('gone'), 'choices'))!)).to.deep.equal([7]);
    });

    it('a tea named like bookkeeping ("tombstone:x") does not collide with the tombstone of x', async function () {
      const store = await owningStore();
      await store.commit({ trim: 0, steps: [write('x', 1, { a: 1 }), remove('x'), write('tombstone:x', 3, { a: 1 })] });
      const fresh = newStore();
      expect((await fresh.load('tombstone:x')).versions.map((x) => x.choice)).to.deep.equal([3]);
      const x = await fresh.load('x');
      expect(x.versions).to.deep.equal([]);
      expect(JSON.stringify(x.tombstone)).to.equal('{"a":1}');
    });

    it('deleting a tea that holds nothing writes nothing', async function () {
      const store = await owningStore();
      const before = await snapshot();
      const { results, appended } = await commitOne(store, remove('nothing'));
      expect(results[0].error === undefined && results[0].after).to.equal(EMPTY);
      expect(appended).to.deep.equal([]);
      expect(await snapshot()).to.deep.equal(before);
    });
  });

  it('a stale write changes nothing in Redis and returns the state it found', async function () {
    const store = await owningStore();
    await commitOne(store, write('stale', 5, { a: 3 }));
    const before = await snapshot();
    const { results, appended } = await commitOne(store, write('stale', 9, { a: 2 }));
    const result = results[0];
    if (result.error) throw result.error;
    expect(result.after).to.equal(result.before);
    expect(appended).to.deep.equal([]);
    expect(await snapshot()).to.deep.equal(before);
  });

  describe('what the store remembers of its own writes', function () {
    it('a tea pushed out of both memories is read from Redis again; remembered ones (decoded or as text) are not', async function () {
      // One tea remembered decoded, one more as text.
      const store = await owningStore({ limits: { teas: 1, texts: 1 } });
      for (const tea of ['old-a', 'old-b', 'old-c']) await commitOne(store, write(tea, 1, { w: 1 }));
      const reads = async (tea: string) => (await commandsOf(() => commitOne(store, write(tea, 2, { w: 2 })))).hmget ?? 0;
      expect(await reads('old-c'), 'old-c, remembered decoded').to.equal(0);
      expect(await reads('old-b'), 'old-b, remembered as text').to.equal(0);
      expect(await reads('old-a'), 'old-a, forgotten').to.equal(1);
      for (const tea of ['old-a', 'old-b', 'old-c']) expect((await newStore().load(tea)).versions.map((x) => x.choice), tea).to.deep.equal([2]);
    });

    it('a one-tea write of a remembered tea costs exactly EVALSHA + GET + HSET + RPUSH (+ LTRIM with a trim), and no read', async function () {
      const store = await owningStore();
      await commitOne(store, write('hot', 1, { a: 1 })); // loads the script and remembers the tea
      expect(await commandsOf(() => commitOne(store, write('hot', 2, { a: 2 })))).to.deep.equal({ evalsha: 1, get: 1, hset: 1, rpush: 1 });
      expect(await commandsOf(() => commitOne(store, write('hot', 3, { a: 3 }), 1))).to.deep.equal({ evalsha: 1, get: 1, hset: 1, rpush: 1, ltrim: 1 });
    });
  });

  describe('values the store cannot use', function () {
    it('a corrupt value or a key of the wrong type fails only its own steps; the rest of the group is written', async function () {
      const store = await owningStore();
      await raw.hset(ratingKey('corrupt'), 'rating', '1', 'choices', '[1]', 'clocks', 'not json');
      await raw.set(ratingKey('wrongtype'), 'just a string');
      await raw.hset(tombstoneKey('badtomb'), 'not', 'a string');
      const steps: CommitStep[] = [
        write('before', 1, { a: 1 }),
        write('corrupt', 2, { a: 1 }),
        write('wrongtype', 3, { a: 1 }),
        write('badtomb', 4, { a: 1 }),
        { tea: 'corrupt', change: put(v(5, { b: 1 })), digest: 'gossip passed on' },
        write('after', 6, { a: 1 }),
      ];
      const { results, appended } = await store.commit({ trim: 0, steps });
      const errors = results.map((r) => r.error);
      expect(errors[0]).to.equal(undefined);
      expect(errors[1]).to.be.instanceOf(CorruptValueError);
      expect(errors[1]!.message).to.include(ratingKey('corrupt'));
      expect(errors[2]!.message).to.match(/WRONGTYPE/);
      expect(errors[3]!.message).to.match(/WRONGTYPE/);
      expect(errors[4]).to.be.instanceOf(CorruptValueError);
      expect(errors[5]).to.equal(undefined);
      // Gossip given as text travels on; a client's write that failed adds no tuple.
      expect(appended).to.deep.equal([JSON.stringify({ key: 'before', choices: [1] }), 'gossip passed on', JSON.stringify({ key: 'after', choices: [6] })]);
      expect(await digest()).to.deep.equal(appended);
      expect(await raw.hget(ratingKey('corrupt'), 'clocks')).to.equal('not json');
      expect(await raw.get(ratingKey('wrongtype'))).to.equal('just a string');
      expect(await raw.hgetall(tombstoneKey('badtomb'))).to.deep.equal({ not: 'a string' });
      expect(JSON.parse((await raw.hget(ratingKey('before'), 'choices'))!)).to.deep.equal([1]);
      expect(JSON.parse((await raw.hget(ratingKey('after'), 'choices'))!)).to.deep.equal([6]);
    });

    const behindItsBack = async (): Promise<{ result: CommitResult; store: RedisTeaStore }> => {
      const store = await owningStore();
      await store.commit({ trim: 0, steps: [write('good', 1, { a: 1 }), write('bad', 1, { a: 1 })] });
      await raw.del(ratingKey('bad'));
      await raw.set(ratingKey('bad'), 'turned into a string'); // the store still remembers a hash
      const result = await store.commit({ trim: 0, steps: [write('good', 2, { a: 2 }), write('bad', 2, { a: 2 })] });
      return { result, store };
    };

    it('a remembered tea whose key turned to the wrong type behind its back fails alone, and is read again next time', async function () {
      const { result, store } = await behindItsBack();
      expect(result.results[0].error).to.equal(undefined);
      expect(result.results[1].error).to.be.instanceOf(CorruptValueError);
      expect(JSON.parse((await raw.hget(ratingKey('good'), 'choices'))!)).to.deep.equal([2]);
      expect(await raw.get(ratingKey('bad'))).to.equal('turned into a string');
      const next = await commitOne(store, write('bad', 3, { a: 3 }));
      expect(next.results[0].error?.message).to.match(/WRONGTYPE/);
    });

    it("the failed write's tuple is not appended to the digest, as for a value found unusable before the script", async function () {
      const { result } = await behindItsBack();
      // The client is told its write failed; its tuple must not go on to the next DB.
      expect(result.appended).to.deep.equal([JSON.stringify({ key: 'good', choices: [2] })]);
      expect((await digest()).slice(2)).to.deep.equal(result.appended);
    });

    it('an unreachable Redis rejects the commit', async function () {
      const redis = new Redis({ host: layout.host, port: 1, maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true });
      redis.on('error', () => undefined);
      const unreachable = new RedisTeaStore(redis);
      try {
        const e = await commitError(unreachable, [write('x', 1, { a: 1 })]);
        expect(e).to.not.be.instanceOf(FencedError);
      } finally {
        await unreachable.close();
      }
    });
  });

  describe('the anti-entropy index', function () {
    const TEAS = ['p', 'q', 'r', 'tombstone:p'];
    const arbClock = fc
      .array(fc.tuple(fc.constantFrom('a', 'b', 'c'), fc.integer({ min: 0, max: 3 })), { maxLength: 3 })
      .map((entries) => Object.fromEntries(entries));
    const arbStep: fc.Arbitrary<CommitStep> = fc.oneof(
      { weight: 5, arbitrary: fc.tuple(fc.constantFrom(...TEAS), fc.integer({ min: 0, max: 10 }), arbClock).map(([tea, choice, c]) => write(tea, choice, c)) },
      { weight: 1, arbitrary: fc.constantFrom(...TEAS).map(remove) },
    );

    /** Build a store's index from what Redis holds, as a DB does at start-up. */
    async function scanToEnd(store: RedisTeaStore): Promise<number> {
      let slices = 0;
      while (await store.scanSlice()) slices++;
      expect(store.indexReady).to.equal(true);
      return slices + 1;
    }

    it('bucketSums equal a MemoryTeaStore given the same commits, and a store scanning the result afresh (property)', async function () {
      await fc.assert(
        fc.asyncProperty(fc.array(fc.array(arbStep, { maxLength: 8 }), { minLength: 1, maxLength: 4 }), async (groups) => {
          await raw.flushall();
          const redisStore = await owningStore();
          const memory = new MemoryTeaStore();
          await memory.claim('force');
          for (const steps of groups) {
            const [r, mem] = [await redisStore.commit({ trim: 0, steps }), await memory.commit({ trim: 0, steps })];
            expect(r.appended).to.deep.equal(mem.appended);
          }
          expect(redisStore.bucketSums()).to.deep.equal(memory.bucketSums());
          const restarted = await owningStore();
          try {
            for (const tea of TEAS) expect(exact(await restarted.load(tea)), tea).to.equal(exact(await memory.load(tea)));
            await scanToEnd(restarted);
            expect(restarted.bucketSums()).to.deep.equal(memory.bucketSums());
          } finally {
            await redisStore.close();
            await restarted.close();
          }
        }),
        { numRuns: 25, seed: Number(process.env.FC_SEED ?? Date.now() % 2 ** 31) },
      );
    });

    it('scanSlice, slice by slice, indexes data written before the store started, as a BucketIndex fed the same states', async function () {
      const writer = await owningStore();
      const teas = Array.from({ length: 1500 }, (_, k) => `scan-${k}`);
      await writer.commit({ trim: 0, steps: teas.map((tea, k) => write(tea, k % 7, { w: k % 3 })) });
      await writer.commit({ trim: 0, steps: teas.filter((_, k) => k % 10 === 0).map(remove) });
      const expected = new BucketIndex(DEFAULT_RECENT_MS);
      for (const tea of teas) expected.found(tea, await writer.load(tea));

      const reader = await owningStore();
      expect(reader.indexReady, 'claim starts the index again').to.equal(false);
      expect(await scanToEnd(reader), 'slices').to.be.above(2);
      expect(reader.bucketSums()).to.deep.equal(expected.sums());
      expect(reader.bucketSums()).to.deep.equal(writer.bucketSums());
    });

    it('a commit during the scan is indexed once, whichever comes first', async function () {
      const writer = await owningStore();
      await writer.commit({ trim: 0, steps: Array.from({ length: 1200 }, (_, k) => write(`mid-${k}`, 1, { w: 1 })) });
      const reader = await owningStore();
      await reader.scanSlice();
      await reader.commit({ trim: 0, steps: [write('mid-3', 2, { w: 2 }), write('mid-1199', 2, { w: 2 }), write('new', 1, { w: 1 })] });
      await scanToEnd(reader);
      const expected = new BucketIndex(DEFAULT_RECENT_MS);
      for (const tea of [...Array.from({ length: 1200 }, (_, k) => `mid-${k}`), 'new']) expected.found(tea, await reader.load(tea));
      expect(reader.bucketSums()).to.deep.equal(expected.sums());
    });

    it('bucketEntries gives ageMs for a recent change and null for an old one or one found by the scan', async function () {
      let now = 1_000_000;
      const recentMs = 5000;
      const writer = await owningStore();
      await commitOne(writer, write('scanned', 1, { a: 1 }));
      const store = await owningStore({ now: () => now, recentMs });
      await scanToEnd(store);
      await commitOne(store, write('fresh', 2, { a: 1 }));
      now += 1200;
      await commitOne(store, write('fresher', 3, { a: 1 }));
      now += 300;
      const entry = async (tea: string, at: number) => (await store.bucketEntries(bucketOf(tea), at)).find((e) => e.tea === tea);
      expect((await entry('fresh', now))?.ageMs).to.equal(1500);
      expect((await entry('fresher', now))?.ageMs).to.equal(300);
      expect((await entry('scanned', now))?.ageMs).to.equal(null);
      const old = await entry('fresh', now - 1500 + recentMs);
      expect(old?.ageMs).to.equal(null);
      expect(exact(old!.state)).to.equal(exact(put(v(2, { a: 1 }))(EMPTY)));
    });
  });
});
