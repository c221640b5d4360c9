/**
 * Comparing clocks (lib/core/clock.ts): leq, lt, compare, equal and
 * concurrent on fixed clocks, and canonicalKey, the key equal clocks share.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { canonicalKey, compare, concurrent, equal, leq, lt, makeClock } from '../../lib/core/clock';
import { anyClockArb, fromJson } from './helpers';

const RUNS = { numRuns: 400 };

describe('core/clock', () => {
  describe('leq, lt, compare, equal, concurrent on fixed clocks', () => {
    const a = makeClock([['x', 1], ['y', 2]]);
    const b = makeClock([['x', 2], ['y', 2]]);
    const c = makeClock([['x', 0], ['y', 3]]);

    it('a clock dominated counter by counter is before', () => {
      expect(leq(a, b)).to.equal(true);
      expect(leq(b, a)).to.equal(false);
      expect(lt(a, b)).to.equal(true);
      expect(compare(a, b)).to.equal('before');
      expect(compare(b, a)).to.equal('after');
    });

    it('clocks each ahead on some counter are concurrent', () => {
      expect(compare(a, c)).to.equal('concurrent');
      expect(concurrent(a, c)).to.equal(true);
      expect(leq(a, c)).to.equal(false);
      expect(leq(c, a)).to.equal(false);
    });

    it('a clock is equal to itself and not lt itself', () => {
      expect(compare(a, a)).to.equal('equal');
      expect(equal(a, a)).to.equal(true);
      expect(lt(a, a)).to.equal(false);
      expect(leq(a, a)).to.equal(true);
    });

    it('a zero counter is the same as a missing one: {c0:0} equals {}', () => {
      expect(equal(fromJson('{"c0":0}'), {})).to.equal(true);
      expect(equal({}, fromJson('{"c0":0}'))).to.equal(true);
      expect(compare(makeClock([['c0', 0], ['c1', 2]]), makeClock([['c1', 2]]))).to.equal('equal');
      expect(canonicalKey(fromJson('{"c0":0}'))).to.equal(canonicalKey({}));
    });

    it('the empty clock is <= every clock', () => {
      expect(leq({}, a)).to.equal(true);
      expect(lt({}, a)).to.equal(true);
      expect(leq(a, {})).to.equal(false);
    });
  });

  describe('canonicalKey', () => {
    it('ignores key order and zero counters', () => {
      expect(canonicalKey(fromJson('{"b": 2, "a": 1, "z": 0}'))).to.equal(canonicalKey(fromJson('{"a": 1, "b": 2}')));
      expect(canonicalKey(fromJson('{"a": 1, "b": 2}'))).to.equal('[["a",1],["b",2]]');
    });

    it('one-entry clocks (its fast path) give exactly the general form', () => {
      expect(canonicalKey(fromJson('{"a": 1}'))).to.equal('[["a",1]]');
      expect(canonicalKey(fromJson('{"a": 0}'))).to.equal('[]');
      expect(canonicalKey(fromJson('{"q\\"\u00e9": 9007199254740991}'))).to.equal('[["q\\"é",9007199254740991]]');
    });

    it('is the JSON of its non-zero entries sorted by id, for any clock (property)', () => {
      fc.assert(
        fc.property(anyClockArb, (a) => {
          const entries = Object.keys(a).filter((id) => a[id] !== 0).sort().map((id) => [id, a[id]]);
          expect(canonicalKey(a)).to.equal(JSON.stringify(entries));
        }),
        RUNS,
      );
    });

    it('is equal exactly when the clocks are equal (property)', () => {
      fc.assert(
        fc.property(anyClockArb, anyClockArb, (a, b) => {
          expect(canonicalKey(a) === canonicalKey(b)).to.equal(equal(a, b));
        }),
        RUNS,
      );
    });
  });
});
