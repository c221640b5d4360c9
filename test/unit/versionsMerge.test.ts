/**
 * The merge rule of lib/core/versions.ts on fixed inputs: the contract's
 * worked example step by step, mergeVersion's cases, canonicalVersions.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { canonicalKey } from '../../lib/core/clock';
import { EMPTY, TeaState, canonicalVersions, mergeVersion, rating } from '../../lib/core/versions';
import { canonical, choices, fromJson, v } from './helpers';
import { expectPairwiseConcurrent } from './support/versions';

const clocks = (s: TeaState) => s.versions.map((x) => canonicalKey(x.clock));

describe('core/versions', () => {
  describe("the contract's worked example, step by step", () => {
    const steps: [string, number, number, number[] | 'stale'][] = [
      ['{"c4":100}', 10, 10, [10]],
      ['{"c5":6}', 2, 6, [10, 2]],
      ['{"c23":12}', 3, 5, [10, 2, 3]],
      ['{"c5":21,"c23":13}', 8, 9, [10, 8]],
      ['{"c4":101,"c5":6}', 6, 7, [6, 8]],
      ['{"c5":21,"c23":21}', 2, 4, [6, 2]],
      ['{"c4":102,"c5":21,"c23":12}', 20, 11, [20, 2]],
      ['{"c4":99,"c23":12}', 30, 11, 'stale'],
      ['{"c4":102,"c5":21,"c23":40}', 18, 18, [18]],
    ];

    it("gives the rating and the exact choices order of the contract's example after each write", () => {
      let state: TeaState = EMPTY;
      for (const [clock, choice, expectedRating, expectedChoices] of steps) {
        const before = state;
        state = mergeVersion(state, v(choice, clock));
        const label = `after ${clock}:${choice}`;
        if (expectedChoices === 'stale') {
          expect(state, `${label} is stale: the same object comes back`).to.equal(before);
        } else {
          expect(choices(state), label).to.deep.equal(expectedChoices);
        }
        expect(rating(state), label).to.equal(expectedRating);
        expectPairwiseConcurrent(state);
      }
      // The surviving clock is the last one written.
      expect(clocks(state)).to.deep.equal([canonicalKey(fromJson('{"c4":102,"c5":21,"c23":40}'))]);
    });

    it('keeps each choice paired with its own clock', () => {
      let state: TeaState = EMPTY;
      for (const [clock, choice] of steps.slice(0, 6)) state = mergeVersion(state, v(choice, clock));
      expect(clocks(state)).to.deep.equal([
        canonicalKey(fromJson('{"c4":101,"c5":6}')),
        canonicalKey(fromJson('{"c5":21,"c23":21}')),
      ]);
    });

    it('reaches the same final set whatever order the nine writes arrive in', () => {
      const writes = steps.map(([clock, choice]) => v(choice, clock));
      const expected = canonical(writes.reduce(mergeVersion, EMPTY));
      fc.assert(
        fc.property(fc.shuffledSubarray(writes, { minLength: writes.length, maxLength: writes.length }), (order) => {
          expect(canonical(order.reduce(mergeVersion, EMPTY))).to.equal(expected);
        }),
        { numRuns: 200 },
      );
    });
  });

  describe('mergeVersion on fixed inputs', () => {
    it('ignores a write whose clock is equal to a stored one with the same choice', () => {
      const s = mergeVersion(EMPTY, v(3, '{"a":1}'));
      expect(mergeVersion(s, v(3, '{"a":1}'))).to.equal(s);
    });

    it('ignores a write whose clock is older than a stored one, returning the same object', () => {
      const s = mergeVersion(EMPTY, v(3, '{"a":2}'));
      expect(mergeVersion(s, v(9, '{"a":1}'))).to.equal(s);
      expect(mergeVersion(s, v(9, '{}'))).to.equal(s);
    });

    it('equal clocks with different choices: the larger choice wins, in either order', () => {
      const small = v(1, '{"a":1}');
      const large = v(7, '{"a":1,"b":0}');
      const one = mergeVersion(mergeVersion(EMPTY, small), large);
      const two = mergeVersion(mergeVersion(EMPTY, large), small);
      expect(choices(one)).to.deep.equal([7]);
      expect(choices(two)).to.deep.equal([7]);
    });

    it('a newer write takes the place of the first version it supersedes and drops the others', () => {
      let s = EMPTY;
      for (const x of [v(1, '{"a":1}'), v(2, '{"b":1}'), v(3, '{"c":1}')]) s = mergeVersion(s, x);
      s = mergeVersion(s, v(4, '{"b":1,"c":1}'));
      expect(choices(s)).to.deep.equal([1, 4]);
    });

    it('does not modify the state it is given', () => {
      const s = mergeVersion(EMPTY, v(1, '{"a":1}'));
      const snapshot = JSON.stringify(s);
      mergeVersion(s, v(2, '{"a":2}'));
      mergeVersion(s, v(2, '{"b":2}'));
      expect(JSON.stringify(s)).to.equal(snapshot);
      expect(EMPTY.versions).to.have.length(0);
    });

    it('treats hostile ids in clocks as ordinary ids', () => {
      let s = mergeVersion(EMPTY, v(1, '{"__proto__":1}'));
      s = mergeVersion(s, v(2, '{"constructor":1}'));
      expect(choices(s)).to.deep.equal([1, 2]);
      s = mergeVersion(s, v(3, '{"__proto__":2,"constructor":1}'));
      expect(choices(s)).to.deep.equal([3]);
      expect(({} as Record<string, unknown>).constructor).to.equal(Object);
    });
  });

  describe('canonicalVersions', () => {
    it('is independent of the order versions are held in and of zero counters', () => {
      const a = [v(1, '{"a":1,"z":0}'), v(2, '{"b":1}')].reduce(mergeVersion, EMPTY);
      const b = [v(2, '{"b":1}'), v(1, '{"a":1}')].reduce(mergeVersion, EMPTY);
      expect(canonicalVersions(a)).to.deep.equal(canonicalVersions(b));
      expect(canonicalVersions(a)).to.deep.equal(['1@[["a",1]]', '2@[["b",1]]']);
    });

    it('tells different choices on the same clock apart', () => {
      expect(canonicalVersions(mergeVersion(EMPTY, v(1, '{"a":1}')))).to.not.deep.equal(
        canonicalVersions(mergeVersion(EMPTY, v(2, '{"a":1}'))),
      );
    });
  });
});
