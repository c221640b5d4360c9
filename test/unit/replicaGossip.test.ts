/**
 * The DB's gossip working, on whole in-memory rings (test/unit/support/replicaRing.ts):
 * step by step as the contract says, deletes, what the background timer
 * moves, and convergence of random operations (property).
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { Clock } from '../../lib/core/clock';
import { dbName } from '../../lib/core/ring';
import { EMPTY, TeaState, Version, mergeTombstone, mergeVersion, rating } from '../../lib/core/versions';
import { tupleOf } from '../../lib/core/wire';
import { canonical, choices, clockArb, settle, smallChoiceArb, v } from './helpers';
import { FLUSH, held, makeRing, stored } from './support/replicaRing';

describe('db/Replica on an in-memory ring', () => {
  describe('step by step, as the contract says', () => {
    it('the write that fills the digest has put it on the channel, at the next DB, before it is answered', async () => {
      const ring = await makeRing(4, 2);
      await ring.replicas[0].write('a', v(1, '{"c":1}'));
      expect(held(ring, 'db0'), 'one of two: nothing sent').to.equal(0);
      expect(stored(ring, 0).map((t) => t.key), 'in the stored digest').to.deep.equal(['a']);
      await ring.replicas[0].write('b', v(2, '{"c":1}'));
      expect(ring.replicas[1].health.inbox, 'db1 holds the chunk already').to.equal(1);
      expect(held(ring, 'db0')).to.equal(2);
    });

    it('a tuple carries this DB as primary and the whole merged state of the tea', async () => {
      const ring = await makeRing(2, 1);
      await ring.replicas[0].write('t', v(1, '{"a":1}'));
      await ring.replicas[0].write('t', v(2, '{"b":1}'));
      await ring.replicas[1].read('x');
      const last = stored(ring, 1).at(-1)!;
      expect(last).to.deep.include({ primary: 'db0', key: 't' });
      expect(JSON.stringify(last)).to.equal(JSON.stringify(tupleOf('db0', 't', await ring.replicas[0].read('t'))));
    });

    it('a read drains first: it answers with gossip that was waiting, and saves it', async () => {
      const ring = await makeRing(3, 1);
      await ring.replicas[0].write('t', v(7, '{"a":1}'));
      expect(ring.storages[1].teas.has('t'), 'not merged before a request').to.equal(false);
      expect(choices(await ring.replicas[1].read('t'))).to.deep.equal([7]);
      expect(ring.storages[1].teas.has('t')).to.equal(true);
    });

    it('a write writes first, then drains: its own tuple is ahead of the gossip it drained', async () => {
      const ring = await makeRing(3, 2);
      await ring.replicas[0].write('from0', v(1, '{"a":1}'));
      await ring.replicas[0].write('from0b', v(1, '{"a":1}'));
      await ring.replicas[1].write('own', v(2, '{"b":1}'));
      expect(ring.replicas[1].pending, 'own + from0 filled the digest and went; from0b waits').to.equal(1);
      expect(stored(ring, 1).map((t) => t.key), 'in the stored digest, in that order').to.deep.equal(['own', 'from0', 'from0b']);
      expect(ring.replicas[2].health.inbox).to.equal(1);
      expect(choices(await ring.replicas[2].read('own'))).to.deep.equal([2]);
      expect(choices(await ring.replicas[2].read('from0'))).to.deep.equal([1]);
    });

    it('gossip goes round every hop as each next DB is read, and stops at its primary', async () => {
      for (const digestLength of [1, 2]) {
        const ring = await makeRing(4, digestLength);
        for (let k = 0; k < digestLength; k++) await ring.replicas[1].write(`t${k}`, v(10 + k, '{"c9":1}'));
        for (const i of [2, 3, 0]) {
          expect(ring.storages[i].teas.has('t0'), `db${i} before its read`).to.equal(false);
          expect(choices(await ring.replicas[i].read('anything')), 'the read answers for its own tea').to.deep.equal([]);
          expect(choices(ring.storages[i].teas.get('t0')!), `db${i} after its read`).to.deep.equal([10]);
        }
        await ring.replicas[1].read('anything');
        for (const channel of ['db0', 'db1', 'db2', 'db3']) expect(held(ring, channel), `${channel} (digest-length ${digestLength})`).to.equal(0);
        expect(ring.replicas[1].pending, 'the primary forwards nothing of its own').to.equal(0);
      }
    });

    it('forwards a tuple as the very text it received', async () => {
      const ring = await makeRing(3, 1);
      const text = '{"primary":"db0","key":"k","rating":3,"choices":[3],"clocks":[{"z":1}],"tombstone":{"y":2}}';
      await ring.hub.put('db0', [text]);
      await ring.replicas[1].read('k');
      expect(ring.replicas[2].health.inbox).to.equal(1);
      await ring.replicas[2].read('k');
      expect(ring.storages[2].teas.get('k')!.tombstone).to.deep.equal({ y: 2 });
    });

    it('malformed messages are dropped; the good ones around them are applied and passed on', async () => {
      const ring = await makeRing(3, 1);
      const good = JSON.stringify(tupleOf('db0', 'g', mergeVersion(EMPTY, v(5, '{"a":1}'))));
      await ring.hub.put('db0', ['{"primary":"db0"}', good, '{"primary":"db0","key":"","rating":1,"choices":[],"clocks":[]}']);
      expect(choices(await ring.replicas[1].read('g'))).to.deep.equal([5]);
      expect(stored(ring, 1).map((t) => t.key), 'only the good one is passed on').to.deep.equal(['g']);
      expect(held(ring, 'db0'), 'the chunk is forgotten').to.equal(0);
      expect(ring.replicas[2].health.inbox).to.equal(1);
    });

    it('with ndb 1 nothing is sent anywhere', async () => {
      const ring = await makeRing(1, 1);
      await ring.replicas[0].write('t', v(1, '{"a":1}'));
      expect(await ring.replicas[0].delete('t')).to.not.equal(null);
      expect(ring.hub.stats()).to.deep.equal({});
      expect(ring.storages[0].digest).to.deep.equal([]);
    });

    it('concurrent writes of concurrent clocks to one DB never lose a pair, and each makes its own tuple', async () => {
      const ring = await makeRing(3, 1000);
      await Promise.all(Array.from({ length: 20 }, (_, k) => ring.replicas[0].write('t', v(k, `{"c${k}":1}`))));
      expect([...choices(await ring.replicas[0].read('t'))].sort((a, b) => a - b)).to.deep.equal(Array.from({ length: 20 }, (_, k) => k));
      expect(ring.storages[0].digest).to.have.length(20);
    });
  });

  describe('deletes', () => {
    it('a delete of a tea this DB does not hold is null (404) and gossips nothing', async () => {
      const ring = await makeRing(2, 1);
      expect(await ring.replicas[0].delete('nothing')).to.equal(null);
      expect(held(ring, 'db0')).to.equal(0);
    });

    it('travels the ring like a write; an old copy still on its way does not bring the tea back', async () => {
      const ring = await makeRing(3, 1);
      await ring.replicas[0].write('t', v(1, '{"a":1}'));
      const old = JSON.stringify(tupleOf('db0', 't', await ring.replicas[0].read('t')));
      for (const r of ring.replicas) await r.read('t');
      await ring.replicas[0].delete('t');
      await ring.hub.put('db0', [old]);
      for (const r of ring.replicas) await r.read('t');
      for (const r of ring.replicas) expect(choices(await r.read('t')), r.name).to.deep.equal([]);
      await ring.replicas[0].write('t', v(2, '{"a":2}'));
      for (const r of ring.replicas) await r.read('x');
      for (const r of ring.replicas) expect(choices(await r.read('t')), `${r.name} after a newer write`).to.deep.equal([2]);
    });
  });

  describe('the background moves only what has waited flush-after-ms', () => {
    it('a partial digest leaves at flush-after-ms, not before', async () => {
      const ring = await makeRing(3, 2);
      await ring.replicas[0].write('t', v(1, '{"a":1}'));
      ring.clock.now = FLUSH - 1;
      ring.replicas[0].tick();
      await settle();
      expect(held(ring, 'db0')).to.equal(0);
      ring.clock.now = FLUSH;
      ring.replicas[0].tick();
      await settle();
      expect(held(ring, 'db0')).to.equal(1);
    });

    it('an inbox nobody read for flush-after-ms is merged and passed on at once by the timer', async () => {
      const ring = await makeRing(3, 2);
      await ring.replicas[0].write('t', v(1, '{"a":1}'));
      await ring.replicas[0].write('u', v(1, '{"a":1}'));
      ring.clock.now = FLUSH - 1;
      ring.replicas[1].tick();
      await settle();
      expect(ring.storages[1].teas.size, 'not yet').to.equal(0);
      ring.clock.now = FLUSH;
      ring.replicas[1].tick();
      for (let k = 0; k < 5; k++) await settle();
      expect(ring.storages[1].teas.size).to.equal(2);
      expect(ring.replicas[2].health.inbox, 'forwarded without waiting again').to.equal(1);
    });

    it('the stored digest is trimmed once the queue has it', async () => {
      const ring = await makeRing(2, 1);
      await ring.replicas[0].write('t', v(1, '{"a":1}'));
      expect(ring.storages[0].digest, 'sent, not trimmed yet').to.have.length(1);
      ring.clock.now = 100;
      ring.replicas[0].tick();
      for (let k = 0; k < 3; k++) await settle();
      expect(ring.storages[0].digest).to.deep.equal([]);
    });
  });

  describe('convergence (property)', () => {
    type Step =
      | { kind: 'write'; at: number; tea: string; version: Version }
      | { kind: 'delete'; at: number; tea: string }
      | { kind: 'read'; at: number; tea: string };
    const teaArb = fc.constantFrom('t0', 't1');
    const stepArb: fc.Arbitrary<Step> = fc.oneof(
      { weight: 5, arbitrary: fc.record({ kind: fc.constant('write' as const), at: fc.nat(), tea: teaArb, version: fc.record({ choice: smallChoiceArb, clock: clockArb() }) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), tea: teaArb }) },
      { weight: 3, arbitrary: fc.record({ kind: fc.constant('read' as const), at: fc.nat(), tea: teaArb }) },
    );

    it('random writes, deletes and reads at random DBs, then reads round the ring: every DB holds the pure merge', async () => {
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 1, max: 5 }), fc.array(stepArb, { maxLength: 30 }), async (ndb, steps) => {
          const ring = await makeRing(ndb, 1);
          const versions = new Map<string, Version[]>();
          const tombstones = new Map<string, Clock[]>();
          for (const step of steps) {
            const r = ring.replicas[step.at % ndb];
            if (step.kind === 'write') {
              await r.write(step.tea, step.version);
              versions.set(step.tea, [...(versions.get(step.tea) ?? []), step.version]);
            } else if (step.kind === 'delete') {
              const after = await r.delete(step.tea);
              if (after !== null) tombstones.set(step.tea, [...(tombstones.get(step.tea) ?? []), after.tombstone!]);
            } else {
              await r.read(step.tea);
            }
          }
          for (let round = 0; round < 2; round++) for (const r of ring.replicas) await r.read('t0');
          for (const r of ring.replicas) expect(r.pending, `${r.name} pending`).to.equal(0);
          for (let i = 0; i < ndb; i++) expect(held(ring, dbName(i)), `db${i}'s channel`).to.equal(0);
          for (const tea of ['t0', 't1']) {
            let expected: TeaState = EMPTY;
            for (const t of tombstones.get(tea) ?? []) expected = mergeTombstone(expected, t);
            for (const x of versions.get(tea) ?? []) expected = mergeVersion(expected, x);
            for (const r of ring.replicas) {
              const s = await r.read(tea);
              expect(canonical(s), `${r.name} ${tea}`).to.equal(canonical(expected));
              expect(Object.is(rating(s), rating(expected))).to.equal(true);
            }
          }
        }),
        { numRuns: 150 },
      );
    });
  });
});
