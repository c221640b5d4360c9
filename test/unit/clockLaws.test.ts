/**
 * The algebra of clocks (lib/core/clock.ts), as properties: leq is a partial
 * order, compare, lt, equal and concurrent agree with it, and join is the
 * least upper bound.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { canonicalKey, compare, concurrent, counter, equal, join, leq, lt } from '../../lib/core/clock';
import { anyClockArb } from './helpers';

const RUNS = { numRuns: 400 };

describe('core/clock', () => {
  describe('leq is a partial order (properties)', () => {
    it('reflexive: a <= a', () => {
      fc.assert(fc.property(anyClockArb, (a) => {
        expect(leq(a, a)).to.equal(true);
      }), RUNS);
    });

    it('antisymmetric up to equal: a <= b and b <= a imply equal(a, b)', () => {
      fc.assert(
        fc.property(anyClockArb, anyClockArb, (a, b) => {
          fc.pre(leq(a, b) && leq(b, a));
          expect(equal(a, b)).to.equal(true);
          expect(canonicalKey(a)).to.equal(canonicalKey(b));
        }),
        RUNS,
      );
    });

    it('transitive: a <= b and b <= c imply a <= c', () => {
      // b is built above a, and c above b, so the premise holds often.
      const chain = fc.tuple(anyClockArb, anyClockArb, anyClockArb).map(([a, d1, d2]) => {
        const b = join(a, d1);
        return [a, b, join(b, d2)] as const;
      });
      fc.assert(
        fc.property(chain, ([a, b, c]) => {
          expect(leq(a, b) && leq(b, c)).to.equal(true);
          expect(leq(a, c)).to.equal(true);
        }),
        RUNS,
      );
      fc.assert(
        fc.property(anyClockArb, anyClockArb, anyClockArb, (a, b, c) => {
          if (leq(a, b) && leq(b, c)) expect(leq(a, c)).to.equal(true);
        }),
        RUNS,
      );
    });
  });

  describe('compare, lt, equal and concurrent agree with leq (properties)', () => {
    it('compare is determined by leq both ways', () => {
      fc.assert(
        fc.property(anyClockArb, anyClockArb, (a, b) => {
          const ab = leq(a, b);
          const ba = leq(b, a);
          const expected = ab && ba ? 'equal' : ab ? 'before' : ba ? 'after' : 'concurrent';
          expect(compare(a, b)).to.equal(expected);
          expect(equal(a, b)).to.equal(expected === 'equal');
          expect(lt(a, b)).to.equal(expected === 'before');
          expect(concurrent(a, b)).to.equal(expected === 'concurrent');
        }),
        RUNS,
      );
    });

    it('compare is antisymmetric: swapping the arguments swaps before and after', () => {
      const flip = { before: 'after', after: 'before', equal: 'equal', concurrent: 'concurrent' } as const;
      fc.assert(fc.property(anyClockArb, anyClockArb, (a, b) => {
        expect(compare(b, a)).to.equal(flip[compare(a, b)]);
      }), RUNS);
    });

    it('leq agrees with the counter-by-counter definition over every id', () => {
      fc.assert(
        fc.property(anyClockArb, anyClockArb, (a, b) => {
          const ids = new Set([...Object.keys(a), ...Object.keys(b)]);
          const expected = [...ids].every((id) => counter(a, id) <= counter(b, id));
          expect(leq(a, b)).to.equal(expected);
        }),
        RUNS,
      );
    });
  });

  describe('join is the least upper bound (properties)', () => {
    it('is an upper bound: a <= join(a, b) and b <= join(a, b)', () => {
      fc.assert(
        fc.property(anyClockArb, anyClockArb, (a, b) => {
          const j = join(a, b);
          expect(leq(a, j)).to.equal(true);
          expect(leq(b, j)).to.equal(true);
        }),
        RUNS,
      );
    });

    it('is the least one: any c >= a and >= b is >= join(a, b)', () => {
      const above = fc.tuple(anyClockArb, anyClockArb, anyClockArb).map(([a, b, extra]) => [a, b, join(join(a, b), extra)] as const);
      fc.assert(fc.property(above, ([a, b, c]) => {
        expect(leq(join(a, b), c)).to.equal(true);
      }), RUNS);
      fc.assert(
        fc.property(anyClockArb, anyClockArb, anyClockArb, (a, b, c) => {
          if (leq(a, c) && leq(b, c)) expect(leq(join(a, b), c)).to.equal(true);
        }),
        RUNS,
      );
    });

    it('has every counter equal to the max of the two', () => {
      fc.assert(
        fc.property(anyClockArb, anyClockArb, (a, b) => {
          const j = join(a, b);
          for (const id of new Set([...Object.keys(a), ...Object.keys(b)])) {
            expect(counter(j, id)).to.equal(Math.max(counter(a, id), counter(b, id)));
            expect(Object.hasOwn(j, id)).to.equal(true);
          }
          expect(Object.keys(j).length).to.equal(new Set([...Object.keys(a), ...Object.keys(b)]).size);
        }),
        RUNS,
      );
    });

    it('is commutative, associative and idempotent', () => {
      fc.assert(
        fc.property(anyClockArb, anyClockArb, anyClockArb, (a, b, c) => {
          expect(canonicalKey(join(a, b))).to.equal(canonicalKey(join(b, a)));
          expect(canonicalKey(join(join(a, b), c))).to.equal(canonicalKey(join(a, join(b, c))));
          expect(canonicalKey(join(a, a))).to.equal(canonicalKey(a));
          expect(equal(join(a, b), join(b, a))).to.equal(true);
        }),
        RUNS,
      );
    });

    it('does not modify its arguments', () => {
      fc.assert(
        fc.property(anyClockArb, anyClockArb, (a, b) => {
          const before = [JSON.stringify(a), JSON.stringify(b)];
          join(a, b);
          expect([JSON.stringify(a), JSON.stringify(b)]).to.deep.equal(before);
        }),
        RUNS,
      );
    });
  });
});
