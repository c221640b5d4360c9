import { expect } from 'chai';
import fc from 'fast-check';
import {
  Clock, canonicalKey, compare, concurrent, counter, equal, join, leq, lt, makeClock,
} from '../../lib/core/clock';
import { HOSTILE_IDS, IDS, clockArb, fromJson, jsonClockArb } from './helpers';

const RUNS = { numRuns: 400 };

/** Clocks over ordinary and hostile ids, built both with makeClock and by JSON.parse. */
const anyClockArb: fc.Arbitrary<Clock> = fc.oneof(clockArb(), clockArb([...IDS, ...HOSTILE_IDS]), jsonClockArb());

function assertPrototypeClean(): void {
  // A polluted Object.prototype would show up as an inherited enumerable key or a changed builtin.
  const probe: Record<string, unknown> = {};
  for (const key in probe) expect.fail(`Object.prototype gained enumerable key ${key}`);
  expect(Object.getPrototypeOf(probe)).to.equal(Object.prototype);
  expect(typeof probe.toString).to.equal('function');
  expect(typeof probe.hasOwnProperty).to.equal('function');
  expect(typeof probe.constructor).to.equal('function');
  expect(Object.prototype.hasOwnProperty.call(Object.prototype, 'c0')).to.equal(false);
}

describe('core/clock', () => {
  describe('makeClock and counter', () => {
    it('makeClock copies entries as own properties of a null-prototype object', () => {
      const c = makeClock([['a', 1], ['b', 2]]);
      expect(Object.getPrototypeOf(c)).to.equal(null);
      expect(Object.keys(c)).to.deep.equal(['a', 'b']);
      expect(c.a).to.equal(1);
      expect(c.b).to.equal(2);
    });

    it('makeClock with no entries is the empty clock', () => {
      expect(Object.keys(makeClock())).to.deep.equal([]);
    });

    it('a missing counter reads as 0', () => {
      expect(counter(makeClock([['a', 5]]), 'b')).to.equal(0);
      expect(counter({}, 'a')).to.equal(0);
    });

    it('inherited members of ordinary objects are not counters', () => {
      const plain = fromJson('{"a": 1}');
      expect(counter(plain, 'toString')).to.equal(0);
      expect(counter(plain, 'constructor')).to.equal(0);
      expect(counter(plain, 'hasOwnProperty')).to.equal(0);
      expect(counter(plain, '__proto__')).to.equal(0);
    });

    it('hostile ids are stored and read back as ordinary counters', () => {
      const c = makeClock(HOSTILE_IDS.map((id, k) => [id, k + 1] as const));
      expect(Object.keys(c)).to.have.members([...HOSTILE_IDS]);
      HOSTILE_IDS.forEach((id, k) => expect(counter(c, id)).to.equal(k + 1));
      assertPrototypeClean();
    });
  });

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

  describe('hostile ids behave as ordinary ids', () => {
    it('a clock parsed from {"__proto__": 3} has 3 as an own counter and compares by it', () => {
      const p3 = fromJson('{"__proto__": 3}');
      const p2 = fromJson('{"__proto__": 2}');
      expect(Object.keys(p3)).to.deep.equal(['__proto__']);
      expect(counter(p3, '__proto__')).to.equal(3);
      expect(compare(p2, p3)).to.equal('before');
      expect(compare(p3, p2)).to.equal('after');
      expect(compare(p3, {})).to.equal('after');
      expect(compare(p3, makeClock([['__proto__', 3]]))).to.equal('equal');
      expect(compare(p3, fromJson('{"c0": 1}'))).to.equal('concurrent');
      assertPrototypeClean();
    });

    it('constructor, toString and hasOwnProperty compare as counters, not as inherited functions', () => {
      for (const id of ['constructor', 'toString', 'hasOwnProperty', 'valueOf']) {
        const one = fromJson(`{"${id}": 1}`);
        // Ordinary {} inherits a function under this name; it must read as 0, not as a function.
        expect(leq(one, {}), `${id}: {${id}:1} <= {}`).to.equal(false);
        expect(leq({}, one), `${id}: {} <= {${id}:1}`).to.equal(true);
        expect(compare(one, fromJson(`{"${id}": 2}`)), id).to.equal('before');
        expect(compare(one, fromJson('{"c0": 1}')), id).to.equal('concurrent');
      }
      assertPrototypeClean();
    });

    it('join keeps __proto__ and the other hostile ids as own keys with the max counter', () => {
      const a = fromJson('{"__proto__": 3, "constructor": 1, "toString": 5}');
      const b = fromJson('{"__proto__": 4, "hasOwnProperty": 2, "toString": 1}');
      const j = join(a, b);
      expect(Object.getPrototypeOf(j)).to.equal(null);
      expect(Object.keys(j).sort()).to.deep.equal(['__proto__', 'constructor', 'hasOwnProperty', 'toString']);
      expect(Object.hasOwn(j, '__proto__')).to.equal(true);
      expect(counter(j, '__proto__')).to.equal(4);
      expect(counter(j, 'constructor')).to.equal(1);
      expect(counter(j, 'hasOwnProperty')).to.equal(2);
      expect(counter(j, 'toString')).to.equal(5);
      expect(leq(a, j) && leq(b, j)).to.equal(true);
      assertPrototypeClean();
    });

    it('canonicalKey includes hostile ids like any other id', () => {
      expect(canonicalKey(fromJson('{"toString": 1, "__proto__": 2}'))).to.equal('[["__proto__",2],["toString",1]]');
      expect(canonicalKey(fromJson('{"__proto__": 2}'))).to.not.equal(canonicalKey({}));
    });

    it('no operation on random hostile clocks pollutes Object.prototype', () => {
      fc.assert(
        fc.property(jsonClockArb(), jsonClockArb(), (a, b) => {
          compare(a, b);
          const j = join(a, b);
          canonicalKey(j);
          for (const id of Object.keys(j)) expect(Object.hasOwn(j, id)).to.equal(true);
          assertPrototypeClean();
        }),
        { numRuns: 200 },
      );
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
