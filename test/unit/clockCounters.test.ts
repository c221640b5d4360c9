/**
 * How a clock (lib/core/clock.ts) holds its counters: makeClock and counter,
 * and ids like __proto__ or constructor, which must behave as ordinary ids
 * and never reach Object.prototype.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { canonicalKey, compare, counter, join, leq, makeClock } from '../../lib/core/clock';
import { HOSTILE_IDS, fromJson, jsonClockArb } from './helpers';

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
});
