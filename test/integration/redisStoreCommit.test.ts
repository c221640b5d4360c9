/**
 * RedisTeaStore (lib/db/redisStore.ts) against a real redis-server: the contract's
 * layout and worked example through commit(), the digest list, deletes and
 * tombstones, stale writes.
 */
import { expect } from 'chai';
import { EMPTY, TeaState, rating } from '../../lib/core/versions';
import { RedisTeaStore, STORE_REDIS_OPTIONS, ratingKey, tombstoneKey } from '../../lib/db/redisStore';
import { PORT_BLOCKS } from '../support/layout';
import { commitOne, exact, put, remove, useRedisStore, v, write } from '../support/redisStore';

describe('integration: RedisTeaStore on a real redis-server', function () {
  this.timeout(20_000);
  // TEST_FILES.redisStore, the block of the file this one was split from.
  const fx = useRedisStore('redisStoreCommit', PORT_BLOCKS.redisStore);
  const { client, newStore, owningStore, snapshot, digest } = fx;

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
    expect(await fx.raw.type('/rating/zoo')).to.equal('hash');
    const hash = await fx.raw.hgetall('/rating/zoo');
    expect(Object.keys(hash).sort()).to.deep.equal(['choices', 'clocks', 'rating']);
    expect(JSON.parse(hash.rating)).to.equal(6);
    expect(JSON.parse(hash.choices)).to.deep.equal([10, 2]);
    expect(JSON.parse(hash.clocks)).to.deep.equal([{ c4: 100 }, { c5: 6 }]);
    expect(await fx.raw.keys('/rating/*')).to.deep.equal(['/rating/zoo']);
    expect(await fx.raw.exists(tombstoneKey('zoo'))).to.equal(0);
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
      const hash = await fx.raw.hgetall('/rating/worked');
      expect(JSON.parse(hash.choices), `choices after ${what}`).to.deep.equal(choices);
      expect(JSON.parse(hash.rating), `rating after ${what}`).to.equal(mean);
    }
    expect(JSON.parse((await fx.raw.hget('/rating/worked', 'clocks'))!)).to.deep.equal([{ c4: 102, c5: 21, c23: 40 }]);
    expect(await digest(), 'one tuple per write that changed something').to.have.length(steps.length - 1);
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
      expect(await fx.raw.exists(ratingKey('gone'))).to.equal(0);
      expect(await fx.raw.keys('/rating/*')).to.deep.equal([]);
      expect(tombstoneKey('gone').startsWith('/rating/')).to.equal(false);
      expect(await fx.raw.type(tombstoneKey('gone'))).to.equal('string');
      expect(JSON.parse((await fx.raw.get(tombstoneKey('gone')))!)).to.deep.equal({ a: 1, b: 2 });
      const loaded = await newStore().load('gone');
      expect(loaded.versions).to.deep.equal([]);
      expect(JSON.stringify(loaded.tombstone)).to.equal('{"a":1,"b":2}');
      // A replayed older write stays buried; a concurrent one comes back.
      await commitOne(store, write('gone', 4, { a: 1 }));
      expect(await fx.raw.exists(ratingKey('gone'))).to.equal(0);
      await commitOne(store, write('gone', 7, { a: 1, c: 1 }));
      expect(JSON.parse((await fx.raw.hget(ratingKey('gone'), 'choices'))!)).to.deep.equal([7]);
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
});
