import { expect } from 'chai';
import fc from 'fast-check';
import { canonicalKey, counter } from '../../lib/core/clock';
import { LIMITS } from '../../lib/core/limits';
import { EMPTY, deleteAll, mergeVersion, rating } from '../../lib/core/versions';
import {
  GossipTuple, Parsed, checkTeaName, parseClock, parseTuple, parseVersions, parseWrite, stateOfTuple, storedFormOf, tupleOf, tupleText, viewOf,
} from '../../lib/core/wire';
import { canonical, fromJson, stateArb } from './helpers';

function expectError<T>(p: Parsed<T>, mentions?: RegExp): string {
  expect(p.ok, `expected a parse error, got ${JSON.stringify(p)}`).to.equal(false);
  const error = (p as { ok: false; error: string }).error;
  expect(error).to.be.a('string').and.not.equal('');
  if (mentions) expect(error).to.match(mentions);
  return error;
}

function expectValue<T>(p: Parsed<T>): T {
  expect(p.ok, `expected a value, got ${JSON.stringify(p)}`).to.equal(true);
  return (p as { ok: true; value: T }).value;
}

/** The ring the tuples of these tests travel. */
const NDB = 4;

const tuple = (over: Record<string, unknown> = {}) => ({
  primary: 'db0', key: 'zoo', rating: 5, choices: [5], clocks: [{ a: 1 }], ...over,
});

describe('core/wire', () => {
  describe('parseWrite', () => {
    it('accepts {"rating", "clock"} and an integer rating is a number', () => {
      const w = expectValue(parseWrite(JSON.parse('{"rating": 3, "clock": {"c1": 2, "c2": 0}}')));
      expect(w.choice).to.equal(3);
      expect(canonicalKey(w.clock)).to.equal('[["c1",2]]');
      expect(Object.getPrototypeOf(w.clock)).to.equal(null);
    });

    it('accepts a float rating, an empty clock and extra keys', () => {
      const w = expectValue(parseWrite({ rating: -2.5, clock: {}, note: 'x' }));
      expect(w.choice).to.equal(-2.5);
      expect(Object.keys(w.clock)).to.deep.equal([]);
    });

    it('rejects a body that is not an object', () => {
      for (const body of [null, undefined, 3, 'x', [], [1, 2], true]) expectError(parseWrite(body), /body/);
    });

    it('rejects a missing rating, naming it', () => {
      expectError(parseWrite({ clock: {} }), /rating is missing/);
    });

    it('rejects a rating that is not a finite number', () => {
      for (const rating of ['5', null, [5], { v: 5 }, true, Infinity, -Infinity, Number.NaN]) {
        expectError(parseWrite({ rating, clock: {} }), /rating must be a finite number/);
      }
    });

    it('rejects a missing clock, naming it', () => {
      expectError(parseWrite({ rating: 1 }), /clock is missing/);
    });

    it('rejects a clock that is not an object', () => {
      for (const clock of [null, 'c1', 3, [], [['c1', 1]], true]) expectError(parseWrite({ rating: 1, clock }), /clock must be an object/);
    });

    it('rejects bad counters: string, null, array, negative, non-integer, above MAX_SAFE_INTEGER', () => {
      for (const n of ['1', null, [1], {}, -1, 1.5, Number.MAX_SAFE_INTEGER + 1, 1e300, Infinity, Number.NaN, true]) {
        expectError(parseWrite({ rating: 1, clock: { c1: n } }), /counter for "c1" must be an integer >= 0/);
      }
    });

    it('accepts counters 0 and MAX_SAFE_INTEGER', () => {
      const w = expectValue(parseWrite({ rating: 1, clock: { a: 0, b: Number.MAX_SAFE_INTEGER } }));
      expect(counter(w.clock, 'b')).to.equal(Number.MAX_SAFE_INTEGER);
    });

    it('rejects an empty client id and one longer than the limit, accepts one at the limit', () => {
      expectError(parseWrite({ rating: 1, clock: { '': 1 } }), /client ids/);
      expectError(parseWrite({ rating: 1, clock: { ['x'.repeat(LIMITS.clientIdLength + 1)]: 1 } }), /client ids/);
      expectValue(parseWrite({ rating: 1, clock: { ['x'.repeat(LIMITS.clientIdLength)]: 1 } }));
    });

    it('rejects a clock with more entries than the limit, accepts one at the limit', () => {
      const clock = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, k) => [`c${k}`, 1]));
      expectValue(parseWrite({ rating: 1, clock: clock(LIMITS.clockEntries) }));
      expectError(parseWrite({ rating: 1, clock: clock(LIMITS.clockEntries + 1) }), /entries/);
    });

    it('keeps hostile client ids as own counters of a null-prototype clock', () => {
      const body = JSON.parse('{"rating": 1, "clock": {"__proto__": 3, "constructor": 2, "toString": 1}}');
      const w = expectValue(parseWrite(body));
      expect(Object.getPrototypeOf(w.clock)).to.equal(null);
      expect(counter(w.clock, '__proto__')).to.equal(3);
      expect(counter(w.clock, 'constructor')).to.equal(2);
      expect(counter(w.clock, 'toString')).to.equal(1);
      expect(({} as Record<string, unknown>).constructor).to.equal(Object);
    });

    it('a "rating" hidden under __proto__ is not a rating', () => {
      expectError(parseWrite(JSON.parse('{"__proto__": {"rating": 1}, "clock": {}}')), /rating is missing/);
    });

    it('never throws, whatever JSON it is given (property)', () => {
      fc.assert(
        fc.property(fc.jsonValue(), (x) => {
          const p = parseWrite(x);
          expect(typeof p.ok).to.equal('boolean');
        }),
        { numRuns: 300 },
      );
    });
  });

  describe('parseVersions', () => {
    it('pairs choices[k] with clocks[k]', () => {
      const vs = expectValue(parseVersions([1, 2], [{ a: 1 }, { b: 1 }]));
      expect(vs.map((x) => x.choice)).to.deep.equal([1, 2]);
      expect(vs.map((x) => canonicalKey(x.clock))).to.deep.equal(['[["a",1]]', '[["b",1]]']);
    });

    it('accepts empty arrays', () => {
      expect(expectValue(parseVersions([], []))).to.deep.equal([]);
    });

    it('rejects non-arrays and different lengths', () => {
      expectError(parseVersions('[1]', [{}]), /arrays/);
      expectError(parseVersions([1], { 0: {} }), /arrays/);
      expectError(parseVersions(undefined, undefined), /arrays/);
      expectError(parseVersions([1, 2], [{}]), /same length/);
    });

    it('rejects a bad choice or a bad clock, naming its index', () => {
      expectError(parseVersions([1, 'x'], [{}, {}]), /choices\[1\]/);
      expectError(parseVersions([1, 2], [{}, { a: -1 }]), /clocks\[1\]/);
      expectError(parseVersions([null], [{}]), /choices\[0\]/);
    });

    it('rejects more versions than the limit', () => {
      const n = LIMITS.replicaTea.versions + 1;
      expectError(parseVersions(new Array(n).fill(1), new Array(n).fill({})), /at most/);
    });
  });

  describe('parseClock', () => {
    it('names what it parses in its error', () => {
      expectError(parseClock(5, 'tombstone'), /^tombstone/);
    });
  });

  describe('parseTuple', () => {
    it('accepts a tuple without a tombstone, and with a null one', () => {
      const t = expectValue(parseTuple(tuple(), NDB));
      expect(t.tombstone).to.equal(undefined);
      expect(t.primary).to.equal('db0');
      expect(t.key).to.equal('zoo');
      expect(expectValue(parseTuple(tuple({ tombstone: null }), NDB)).tombstone).to.equal(undefined);
    });

    it('accepts a tuple with a tombstone', () => {
      const t = expectValue(parseTuple(tuple({ choices: [], clocks: [], rating: 0, tombstone: { a: 4 } }), NDB));
      expect(canonicalKey(t.tombstone!)).to.equal('[["a",4]]');
    });

    it('rejects malformed tuples', () => {
      const bad: [unknown, RegExp][] = [
        [null, /object/],
        ['db0', /object/],
        [[tuple()], /object/],
        [tuple({ primary: undefined }), /primary/],
        [tuple({ primary: '' }), /primary/],
        [tuple({ primary: 0 }), /primary/],
        [tuple({ primary: 'nobody' }), /primary/],
        [tuple({ primary: `db${NDB}` }), /primary/],
        [tuple({ primary: 'db01' }), /primary/],
        [tuple({ key: '..' }), /key/],
        [tuple({ key: 'x'.repeat(LIMITS.teaNameBytes + 1) }), /key/],
        [tuple({ key: undefined }), /key/],
        [tuple({ key: '' }), /key/],
        [tuple({ key: ['zoo'] }), /key/],
        [tuple({ choices: undefined }), /arrays/],
        [tuple({ clocks: {} }), /arrays/],
        [tuple({ choices: [1, 2] }), /same length/],
        [tuple({ choices: ['5'] }), /choices\[0\]/],
        [tuple({ clocks: [{ a: 1.5 }] }), /clocks\[0\]/],
        [tuple({ tombstone: 'yes' }), /tombstone/],
        [tuple({ tombstone: { a: -1 } }), /tombstone/],
        [tuple({ tombstone: [1] }), /tombstone/],
      ];
      for (const [x, mentions] of bad) expectError(parseTuple(x, NDB), mentions);
    });

    it('recomputes the rating from the choices rather than trusting the sender', () => {
      const t = expectValue(parseTuple(tuple({ rating: 999, choices: [2, 4], clocks: [{ a: 1 }, { b: 1 }] }), NDB));
      expect(t.rating).to.equal(3);
    });

    it('never throws, whatever JSON it is given (property)', () => {
      fc.assert(
        fc.property(fc.jsonValue(), (x) => {
          expect(typeof parseTuple(x, NDB).ok).to.equal('boolean');
        }),
        { numRuns: 300 },
      );
    });
  });

  describe('tupleOf and stateOfTuple', () => {
    it("tupleOf has the contract's fields and a tombstone only when deleted", () => {
      const live = mergeVersion(mergeVersion(EMPTY, { choice: 10, clock: fromJson('{"c4":100}') }), { choice: 2, clock: fromJson('{"c5":6}') });
      const t = tupleOf('db2', 'zoo', live);
      expect(JSON.parse(JSON.stringify(t))).to.deep.equal({
        primary: 'db2', key: 'zoo', rating: 6, choices: [10, 2], clocks: [{ c4: 100 }, { c5: 6 }],
      });
      expect(Object.hasOwn(t, 'tombstone')).to.equal(false);
      const dead = tupleOf('db2', 'zoo', deleteAll(live));
      expect(JSON.parse(JSON.stringify(dead))).to.deep.equal({
        primary: 'db2', key: 'zoo', rating: 0, choices: [], clocks: [], tombstone: { c4: 100, c5: 6 },
      });
    });

    it('round trip through JSON: stateOfTuple(parseTuple(tupleOf(state))) is the same state (property)', () => {
      fc.assert(
        fc.property(stateArb(), (state) => {
          const wire = JSON.parse(JSON.stringify(tupleOf('db1', 'tea', state)));
          const parsed: GossipTuple = expectValue(parseTuple(wire, NDB));
          const back = stateOfTuple(parsed);
          expect(canonical(back)).to.equal(canonical(state));
          expect(Object.is(rating(back), rating(state))).to.equal(true);
          expect(stateOfTuple(tupleOf('db1', 'tea', state)).versions.map((x) => x.choice)).to.deep.equal(state.versions.map((x) => x.choice));
          // And the re-encoded tuple is byte-for-byte what was sent.
          expect(JSON.stringify(tupleOf(parsed.primary, parsed.key, back))).to.equal(JSON.stringify(wire));
        }),
        { numRuns: 300 },
      );
    });
  });

  describe('viewOf', () => {
    it('is {rating, choices, clocks} with choices[k] paired with clocks[k]', () => {
      const s = mergeVersion(mergeVersion(EMPTY, { choice: 1, clock: fromJson('{"a":1}') }), { choice: 4, clock: fromJson('{"b":2}') });
      expect(JSON.parse(JSON.stringify(viewOf(s)))).to.deep.equal({ rating: 2.5, choices: [1, 4], clocks: [{ a: 1 }, { b: 2 }] });
    });

    it('of the empty state is rating 0 and empty arrays', () => {
      expect(viewOf(EMPTY)).to.deep.equal({ rating: 0, choices: [], clocks: [] });
    });

    it('does not show the tombstone', () => {
      expect(Object.keys(viewOf(deleteAll(mergeVersion(EMPTY, { choice: 1, clock: fromJson('{"a":1}') }))))).to.deep.equal([
        'rating', 'choices', 'clocks',
      ]);
    });
  });

  describe('checkTeaName', () => {
    it('rejects the empty name', () => {
      expect(checkTeaName('')).to.match(/empty/);
    });

    it('accepts names up to the byte limit and rejects one byte more', () => {
      expect(checkTeaName('a')).to.equal(null);
      expect(checkTeaName('x'.repeat(LIMITS.teaNameBytes))).to.equal(null);
      expect(checkTeaName('x'.repeat(LIMITS.teaNameBytes + 1))).to.match(/longer than/);
    });

    it('counts UTF-8 bytes, not characters, for multibyte names', () => {
      // 茶 is 3 bytes in UTF-8, é is 2, 🍵 is 4 (and 2 UTF-16 units).
      const tea = '茶'.repeat(Math.floor(LIMITS.teaNameBytes / 3));
      expect(checkTeaName(tea)).to.equal(null);
      expect(checkTeaName(tea + '茶')).to.match(/longer than/);
      expect(checkTeaName('é'.repeat(LIMITS.teaNameBytes / 2))).to.equal(null);
      expect(checkTeaName('é'.repeat(LIMITS.teaNameBytes / 2) + 'x')).to.match(/longer than/);
      expect(checkTeaName('🍵'.repeat(LIMITS.teaNameBytes / 4))).to.equal(null);
      expect(checkTeaName('🍵'.repeat(LIMITS.teaNameBytes / 4 + 1))).to.match(/longer than/);
      // Fewer characters than the limit, but more bytes.
      expect(('茶'.repeat(200)).length).to.be.below(LIMITS.teaNameBytes);
      expect(checkTeaName('茶'.repeat(200))).to.match(/longer than/);
    });

    it('rejects "." and ".." (URL parsers drop those segments) but accepts names containing dots', () => {
      expect(checkTeaName('.')).to.match(/cannot be/);
      expect(checkTeaName('..')).to.match(/cannot be/);
      for (const name of ['...', '.a', 'a.', 'a..b']) expect(checkTeaName(name), name).to.equal(null);
    });

    it('accepts names with slashes, spaces and percent signs (one decoded path segment)', () => {
      for (const name of ['earl grey', 'a/b', '100%', 'Zoo', '__proto__']) expect(checkTeaName(name), name).to.equal(null);
    });
  });

  describe('tupleText', () => {
    it('is the JSON text of tupleOf for any state, deleted or not, whatever the names', () => {
      fc.assert(
        fc.property(stateArb(), fc.string(), fc.string(), (state, primary, key) => {
          expect(JSON.parse(tupleText(primary, key, state))).to.deep.equal(JSON.parse(JSON.stringify(tupleOf(primary, key, state))));
        }),
      );
    });

    it('builds on the stored form, which is computed once per state', () => {
      const state = mergeVersion(EMPTY, { choice: 2, clock: fromJson('{"a":1}') });
      expect(storedFormOf(state)).to.equal(storedFormOf(state));
      expect(storedFormOf(state)).to.deep.equal({ rating: '2', choices: '[2]', clocks: '[{"a":1}]', tombstone: '' });
      expect(storedFormOf(deleteAll(state))).to.deep.equal({ rating: '', choices: '', clocks: '', tombstone: '{"a":1}' });
    });
  });
});
