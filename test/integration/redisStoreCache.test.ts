/**
 * RedisTeaStore (lib/db/redisStore.ts) against a real redis-server: what the
 * store remembers of its own writes and what a commit then costs in Redis
 * commands, and values it cannot use (corrupt, of the wrong type, changed
 * behind its back) or a Redis it cannot reach.
 */
import { expect } from 'chai';
import Redis from 'ioredis';
import { RedisTeaStore, ratingKey, tombstoneKey } from '../../lib/db/redisStore';
import { CommitResult, CommitStep, CorruptValueError, FencedError } from '../../lib/db/store';
import { PORT_BLOCKS } from '../support/layout';
import { commitError, commitOne, put, useRedisStore, v, write } from '../support/redisStore';

describe('integration: RedisTeaStore on a real redis-server', function () {
  this.timeout(20_000);
  const fx = useRedisStore('redisStoreCache', PORT_BLOCKS.redisStoreCache);
  const { newStore, owningStore, commandsOf, digest } = fx;

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
      await fx.raw.hset(ratingKey('corrupt'), 'rating', '1', 'choices', '[1]', 'clocks', 'not json');
      await fx.raw.set(ratingKey('wrongtype'), 'just a string');
      await fx.raw.hset(tombstoneKey('badtomb'), 'not', 'a string');
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
      expect(await fx.raw.hget(ratingKey('corrupt'), 'clocks')).to.equal('not json');
      expect(await fx.raw.get(ratingKey('wrongtype'))).to.equal('just a string');
      expect(await fx.raw.hgetall(tombstoneKey('badtomb'))).to.deep.equal({ not: 'a string' });
      expect(JSON.parse((await fx.raw.hget(ratingKey('before'), 'choices'))!)).to.deep.equal([1]);
      expect(JSON.parse((await fx.raw.hget(ratingKey('after'), 'choices'))!)).to.deep.equal([6]);
    });

    const behindItsBack = async (): Promise<{ result: CommitResult; store: RedisTeaStore }> => {
      const store = await owningStore();
      await store.commit({ trim: 0, steps: [write('good', 1, { a: 1 }), write('bad', 1, { a: 1 })] });
      await fx.raw.del(ratingKey('bad'));
      await fx.raw.set(ratingKey('bad'), 'turned into a string'); // the store still remembers a hash
      const result = await store.commit({ trim: 0, steps: [write('good', 2, { a: 2 }), write('bad', 2, { a: 2 })] });
      return { result, store };
    };

    it('a remembered tea whose key turned to the wrong type behind its back fails alone, and is read again next time', async function () {
      const { result, store } = await behindItsBack();
      expect(result.results[0].error).to.equal(undefined);
      expect(result.results[1].error).to.be.instanceOf(CorruptValueError);
      expect(JSON.parse((await fx.raw.hget(ratingKey('good'), 'choices'))!)).to.deep.equal([2]);
      expect(await fx.raw.get(ratingKey('bad'))).to.equal('turned into a string');
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
      const redis = new Redis({ host: fx.layout.host, port: 1, maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true });
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
});
