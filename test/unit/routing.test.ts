import { expect } from 'chai';
import fc from 'fast-check';
import { Ring } from '../../lib/core/ring';
import { parseConsistency, readTarget } from '../../lib/lb/routing';
import { prng } from './helpers';

describe('lb/routing', () => {
  describe('parseConsistency', () => {
    it('absent or strong is strong; weak is weak', () => {
      expect(parseConsistency(undefined)).to.equal('strong');
      expect(parseConsistency('strong')).to.equal('strong');
      expect(parseConsistency('weak')).to.equal('weak');
    });

    it('anything else is null (a 400)', () => {
      for (const v of ['', 'Strong', 'WEAK', 'eventual', ' weak', ['weak'], ['strong', 'weak']]) {
        expect(parseConsistency(v as string | string[]), JSON.stringify(v)).to.equal(null);
      }
    });
  });

  describe('readTarget', () => {
    it('strong reads the primary and never calls random', () => {
      const ring = new Ring(4);
      const random = () => expect.fail('random called for a strong read');
      for (const tea of ['zoo', 'green', 'earl grey', '緑茶']) expect(readTarget(ring, tea, 'strong', random)).to.equal(ring.primaryOf(tea));
    });

    it('weak maps random() in [k/n, (k+1)/n) to DB k, including the primary', () => {
      const ring = new Ring(4);
      expect(readTarget(ring, 'zoo', 'weak', () => 0)).to.equal(0);
      expect(readTarget(ring, 'zoo', 'weak', () => 0.25)).to.equal(1);
      expect(readTarget(ring, 'zoo', 'weak', () => 0.5)).to.equal(2);
      expect(readTarget(ring, 'zoo', 'weak', () => 0.74)).to.equal(2);
      expect(readTarget(ring, 'zoo', 'weak', () => 0.75)).to.equal(3);
    });

    it('random() = 0.999999 (and the largest double below 1) stays in range', () => {
      for (const size of [1, 3, 4, 7]) {
        const ring = new Ring(size);
        expect(readTarget(ring, 'zoo', 'weak', () => 0.999999)).to.equal(size - 1);
        expect(readTarget(ring, 'zoo', 'weak', () => 1 - Number.EPSILON / 2)).to.equal(size - 1);
      }
    });

    it('a random source that returns 1 (outside its contract) still yields the last DB, not DB n', () => {
      for (const size of [1, 4, 7]) expect(readTarget(new Ring(size), 'zoo', 'weak', () => 1)).to.equal(size - 1);
    });

    it('weak is in range for any random() in [0, 1) (property)', () => {
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 16 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (size, r) => {
          const t = readTarget(new Ring(size), 'tea', 'weak', () => r);
          expect(Number.isInteger(t) && t >= 0 && t < size).to.equal(true);
        }),
        { numRuns: 300 },
      );
    });

    it('weak spreads reads uniformly over all DBs with a uniform random source', () => {
      const ring = new Ring(4);
      const random = prng(7);
      const counts = [0, 0, 0, 0];
      const n = 20000;
      for (let k = 0; k < n; k++) counts[readTarget(ring, 'zoo', 'weak', random)]++;
      const chi2 = counts.reduce((s, c) => s + (c - n / 4) ** 2 / (n / 4), 0);
      expect(chi2, `counts ${counts}`).to.be.below(30);
      for (const c of counts) expect(c).to.be.above(0);
    });

    it('with ndb 1 every read goes to DB 0', () => {
      const ring = new Ring(1);
      expect(readTarget(ring, 'zoo', 'weak', () => 0.7)).to.equal(0);
      expect(readTarget(ring, 'zoo', 'strong', Math.random)).to.equal(0);
    });
  });
});
