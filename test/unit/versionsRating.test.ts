/**
 * The rating of a state (lib/core/versions.ts): the mean of its choices,
 * bit-for-bit the same whatever order they are held in, and always finite.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { makeClock } from '../../lib/core/clock';
import { EMPTY, mergeVersion, rating } from '../../lib/core/versions';
import { choices, finiteDoubleArb, smallChoiceArb, v } from './helpers';
import { RUNS } from './support/versions';

describe('core/versions', () => {
  describe('rating', () => {
    it('is 0 with no versions and the mean otherwise', () => {
      expect(rating(EMPTY)).to.equal(0);
      let s = mergeVersion(EMPTY, v(1, '{"a":1}'));
      s = mergeVersion(s, v(4, '{"b":1}'));
      expect(rating(s)).to.equal(2.5);
    });

    it('is bit-for-bit the same whatever order the choices are held in: [0.1, 0.2, 0.3] vs reversed', () => {
      const forward = [v(0.1, '{"a":1}'), v(0.2, '{"b":1}'), v(0.3, '{"c":1}')];
      const a = forward.reduce(mergeVersion, EMPTY);
      const b = [...forward].reverse().reduce(mergeVersion, EMPTY);
      expect(choices(a)).to.deep.equal([0.1, 0.2, 0.3]);
      expect(choices(b)).to.deep.equal([0.3, 0.2, 0.1]);
      expect(Object.is(rating(a), rating(b))).to.equal(true);
      // Naive left-to-right sums differ in the last bit, so the order really matters.
      expect((0.1 + 0.2 + 0.3) / 3).to.not.equal((0.3 + 0.2 + 0.1) / 3);
    });

    it('is order-independent bit-for-bit for any finite doubles (property)', () => {
      fc.assert(
        fc.property(fc.array(finiteDoubleArb, { maxLength: 12 }), fc.infiniteStream(fc.nat()), (xs, _) => {
          const versions = xs.map((x, k) => ({ choice: x, clock: makeClock([[`c${k}`, 1]]) }));
          const a = versions.reduce(mergeVersion, EMPTY);
          const b = [...versions].reverse().reduce(mergeVersion, EMPTY);
          const c = [...versions].sort((p, q) => (JSON.stringify(p.choice) < JSON.stringify(q.choice) ? -1 : 1)).reduce(mergeVersion, EMPTY);
          expect(Object.is(rating(a), rating(b))).to.equal(true);
          expect(Object.is(rating(a), rating(c))).to.equal(true);
        }),
        RUNS,
      );
    });

    it('is finite for finite choices, even when their sum overflows', () => {
      const big = [v(Number.MAX_VALUE, '{"a":1}'), v(Number.MAX_VALUE, '{"b":1}')].reduce(mergeVersion, EMPTY);
      expect(rating(big)).to.equal(Number.MAX_VALUE);
      const low = [v(-Number.MAX_VALUE, '{"a":1}'), v(-Number.MAX_VALUE, '{"b":1}'), v(1, '{"c":1}')].reduce(mergeVersion, EMPTY);
      expect(Number.isFinite(rating(low))).to.equal(true);
      expect(rating(low)).to.be.below(0);
      fc.assert(
        fc.property(fc.array(finiteDoubleArb, { minLength: 1, maxLength: 8 }), (xs) => {
          const s = xs.map((x, k) => ({ choice: x, clock: makeClock([[`c${k}`, 1]]) })).reduce(mergeVersion, EMPTY);
          expect(Number.isFinite(rating(s)), `rating of ${JSON.stringify(xs)}`).to.equal(true);
        }),
        RUNS,
      );
    });

    it('is exactly the mean for small integer choices (property)', () => {
      fc.assert(
        fc.property(fc.array(smallChoiceArb, { minLength: 1, maxLength: 10 }), (xs) => {
          const s = xs.map((x, k) => ({ choice: x, clock: makeClock([[`c${k}`, 1]]) })).reduce(mergeVersion, EMPTY);
          expect(rating(s)).to.equal(xs.reduce((a, b) => a + b, 0) / xs.length);
        }),
        RUNS,
      );
    });
  });
});
