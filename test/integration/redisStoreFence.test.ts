/**
 * RedisTeaStore (lib/db/redisStore.ts) against a real redis-server: claiming
 * the Redis (force, free, mine) and the owner fence that stops a store whose
 * Redis another has claimed, or that was wiped, from writing.
 */
import { expect } from 'chai';
import { OWNER_KEY, ratingKey } from '../../lib/db/redisStore';
import { FencedError } from '../../lib/db/store';
import { PORT_BLOCKS } from '../support/layout';
import { commitError, commitOne, useRedisStore, write } from '../support/redisStore';

describe('integration: RedisTeaStore on a real redis-server', function () {
  this.timeout(20_000);
  const fx = useRedisStore('redisStoreFence', PORT_BLOCKS.redisStoreFence);
  const { newStore, owningStore, snapshot, digest } = fx;

  describe('claim and the owner fence', function () {
    it("claim modes: force takes over, free refuses an owned Redis, mine refuses another owner's", async function () {
      const a = newStore();
      const b = newStore();
      expect(await a.claim('free'), 'nobody owns a fresh Redis').to.deep.equal([]);
      expect(await fx.raw.get(OWNER_KEY)).to.equal(a.ownerId);
      expect(await b.claim('free')).to.equal(null);
      expect(await b.claim('mine')).to.equal(null);
      expect(await a.claim('mine'), 'still its own').to.deep.equal([]);
      expect(await b.claim('force')).to.deep.equal([]);
      expect(await fx.raw.get(OWNER_KEY)).to.equal(b.ownerId);
      expect(await a.claim('mine')).to.equal(null);
      await fx.raw.flushall();
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
      await fx.raw.set('ae:sum0', '1');
      await fx.raw.set('ae:built', '1');
      await fx.raw.sadd('ae:teas:7', 'a');
      await fx.raw.sadd('ae:teas:255', 'b');
      await fx.raw.hset(ratingKey('kept'), 'rating', '1', 'choices', '[1]', 'clocks', '[{"a":1}]');
      await owningStore();
      expect((await fx.raw.keys('*')).sort()).to.deep.equal([OWNER_KEY, ratingKey('kept')].sort());
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
      await fx.raw.flushall();
      const e = await commitError(store, [write('tea', 2, { a: 2 })]);
      expect(e).to.be.instanceOf(FencedError);
      expect((e as FencedError).owner).to.equal(null);
      expect(await fx.raw.dbsize()).to.equal(0);
      expect(await store.claim('free')).to.deep.equal([]);
      const { results } = await commitOne(store, write('tea', 2, { a: 2 }));
      expect(results[0].error).to.equal(undefined);
      expect(JSON.parse((await fx.raw.hget(ratingKey('tea'), 'choices'))!), 'nothing remembered from before the wipe').to.deep.equal([2]);
    });
  });
});
