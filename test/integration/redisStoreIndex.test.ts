/**
 * RedisTeaStore (lib/db/redisStore.ts) against a real redis-server: its
 * in-memory anti-entropy index, kept by commits and built by scanning what
 * Redis holds, against a MemoryTeaStore and a BucketIndex given the same.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { BucketIndex, bucketOf } from '../../lib/core/antiEntropy';
import { EMPTY } from '../../lib/core/versions';
import { RedisTeaStore } from '../../lib/db/redisStore';
import { CommitStep, DEFAULT_RECENT_MS, MemoryTeaStore } from '../../lib/db/store';
import { PORT_BLOCKS } from '../support/layout';
import { commitOne, exact, put, remove, useRedisStore, v, write } from '../support/redisStore';

describe('integration: RedisTeaStore on a real redis-server', function () {
  this.timeout(20_000);
  const fx = useRedisStore('redisStoreIndex', PORT_BLOCKS.redisStoreIndex);
  const { owningStore } = fx;

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
          await fx.raw.flushall();
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
