import { expect } from 'chai';
import fc from 'fast-check';
import { Clock, canonicalKey, compare, join, leq, makeClock } from '../../lib/core/clock';
import {
  EMPTY, TeaState, Version, canonicalVersions, deleteAll, holds, mergeState, mergeTombstone, mergeVersion, rating,
} from '../../lib/core/versions';
import {
  Op, applyAll, canonical, choiceArb, clockArb, finiteDoubleArb, fromJson, opArb, sameState, smallChoiceArb, stateArb,
  versionArb,
} from './helpers';

const RUNS = { numRuns: 300 };

const v = (choice: number, clock: string): Version => ({ choice, clock: fromJson(clock) });
const choices = (s: TeaState) => s.versions.map((x) => x.choice);
const clocks = (s: TeaState) => s.versions.map((x) => canonicalKey(x.clock));

function expectPairwiseConcurrent(state: TeaState): void {
  for (let i = 0; i < state.versions.length; i++) {
    for (let j = 0; j < state.versions.length; j++) {
      if (i === j) continue;
      expect(leq(state.versions[i].clock, state.versions[j].clock), `versions ${i} <= ${j} in ${canonical(state)}`).to.equal(false);
    }
  }
}

function expectNothingBuried(state: TeaState): void {
  if (state.tombstone === null) return;
  for (const x of state.versions) expect(leq(x.clock, state.tombstone), `buried ${canonicalKey(x.clock)}`).to.equal(false);
}

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

  describe('tombstones and deleteAll', () => {
    it('deleteAll moves every version into the tombstone', () => {
      let s = mergeVersion(EMPTY, v(1, '{"a":1}'));
      s = mergeVersion(s, v(2, '{"b":3}'));
      const d = deleteAll(s);
      expect(holds(d)).to.equal(false);
      expect(d.versions).to.have.length(0);
      expect(canonicalKey(d.tombstone!)).to.equal('[["a",1],["b",3]]');
      expect(rating(d)).to.equal(0);
    });

    it('deleteAll of a state holding nothing returns it unchanged', () => {
      expect(deleteAll(EMPTY)).to.equal(EMPTY);
      const dead = deleteAll(mergeVersion(EMPTY, v(1, '{"a":1}')));
      expect(deleteAll(dead)).to.equal(dead);
    });

    it('after a delete, an old or equal write is buried but a newer or concurrent one comes back', () => {
      const dead = deleteAll(mergeVersion(EMPTY, v(1, '{"a":2}')));
      expect(mergeVersion(dead, v(5, '{"a":2}'))).to.equal(dead);
      expect(mergeVersion(dead, v(5, '{"a":1}'))).to.equal(dead);
      expect(choices(mergeVersion(dead, v(5, '{"a":3}')))).to.deep.equal([5]);
      expect(choices(mergeVersion(dead, v(6, '{"b":1}')))).to.deep.equal([6]);
    });

    it('a second delete joins into the tombstone', () => {
      let s = deleteAll(mergeVersion(EMPTY, v(1, '{"a":2}')));
      s = deleteAll(mergeVersion(s, v(1, '{"b":4}')));
      expect(canonicalKey(s.tombstone!)).to.equal('[["a",2],["b",4]]');
    });

    it('mergeTombstone drops exactly the versions it buries and keeps the rest in order', () => {
      let s = EMPTY;
      for (const x of [v(1, '{"a":1}'), v(2, '{"b":1}'), v(3, '{"c":1}')]) s = mergeVersion(s, x);
      const t = mergeTombstone(s, fromJson('{"a":1,"c":5}'));
      expect(choices(t)).to.deep.equal([2]);
      expect(canonicalKey(t.tombstone!)).to.equal('[["a",1],["c",5]]');
    });

    it('mergeTombstone with null, or a tombstone already covered, returns the same object', () => {
      const s = mergeTombstone(mergeVersion(EMPTY, v(1, '{"a":1}')), fromJson('{"b":2}'));
      expect(mergeTombstone(s, null)).to.equal(s);
      expect(mergeTombstone(s, fromJson('{"b":1}'))).to.equal(s);
      expect(mergeTombstone(s, fromJson('{"b":2}'))).to.equal(s);
    });

    it('mergeState applies the tombstone of the incoming state too', () => {
      const live = mergeVersion(EMPTY, v(1, '{"a":1}'));
      const dead = deleteAll(live);
      expect(holds(mergeState(live, dead))).to.equal(false);
      expect(holds(mergeState(dead, live))).to.equal(false);
    });
  });

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

  describe('merge laws (properties)', () => {
    const states = (choice = choiceArb) => stateArb(choice);

    for (const [label, choice] of [['small integer choices', smallChoiceArb], ['arbitrary finite doubles', choiceArb]] as const) {
      describe(`with ${label}`, () => {
        it('mergeState is idempotent: merging a state into itself, or twice, changes nothing', () => {
          fc.assert(
            fc.property(states(choice), states(choice), (a, b) => {
              expect(sameState(mergeState(a, a), a)).to.equal(true);
              const ab = mergeState(a, b);
              expect(sameState(mergeState(ab, b), ab)).to.equal(true);
              expect(sameState(mergeState(ab, a), ab)).to.equal(true);
            }),
            RUNS,
          );
        });

        it('mergeState is commutative', () => {
          fc.assert(
            fc.property(states(choice), states(choice), (a, b) => {
              expect(canonical(mergeState(a, b))).to.equal(canonical(mergeState(b, a)));
              expect(Object.is(rating(mergeState(a, b)), rating(mergeState(b, a)))).to.equal(true);
            }),
            RUNS,
          );
        });

        it('mergeState is associative', () => {
          fc.assert(
            fc.property(states(choice), states(choice), states(choice), (a, b, c) => {
              expect(sameState(mergeState(mergeState(a, b), c), mergeState(a, mergeState(b, c)))).to.equal(true);
            }),
            RUNS,
          );
        });

        it('every order of delivering the same versions and tombstones gives the same state', () => {
          fc.assert(
            fc.property(
              fc.array(opArb(choice), { maxLength: 10 }).chain((ops) =>
                fc.tuple(fc.constant(ops), fc.shuffledSubarray(ops, { minLength: ops.length, maxLength: ops.length })),
              ),
              ([ops, shuffled]) => {
                expect(sameState(applyAll(ops), applyAll(shuffled))).to.equal(true);
              },
            ),
            RUNS,
          );
        });

        it('delivering any op twice, anywhere, changes nothing', () => {
          fc.assert(
            fc.property(fc.array(opArb(choice), { minLength: 1, maxLength: 8 }), fc.nat(), fc.nat(), (ops, i, j) => {
              const dup: Op[] = [...ops];
              dup.splice(j % (ops.length + 1), 0, ops[i % ops.length]);
              expect(sameState(applyAll(ops), applyAll(dup))).to.equal(true);
            }),
            RUNS,
          );
        });

        it('stored versions are pairwise concurrent and none is <= the tombstone', () => {
          fc.assert(
            fc.property(fc.array(opArb(choice), { maxLength: 12 }), (ops) => {
              let s = EMPTY;
              for (const op of ops) {
                s = applyAll([op], s);
                expectPairwiseConcurrent(s);
                expectNothingBuried(s);
              }
              expectPairwiseConcurrent(deleteAll(s));
            }),
            RUNS,
          );
        });
      });
    }

    it('the merged set is exactly the maximal undeleted versions (model check)', () => {
      // Model: a version survives when nothing delivered beats it (newer clock, or equal clock
      // and larger choice) and it is not <= the join of all tombstones.
      fc.assert(
        fc.property(fc.array(opArb(smallChoiceArb), { maxLength: 10 }), (ops) => {
          const versions = ops.flatMap((op) => (op.kind === 'version' ? [op.version] : []));
          const tombstones = ops.flatMap((op) => (op.kind === 'tombstone' ? [op.tombstone] : []));
          const tomb: Clock | null = tombstones.length === 0 ? null : tombstones.reduce((a, b) => join(a, b));
          const beats = (x: Version, y: Version) => {
            const o = compare(y.clock, x.clock);
            return o === 'after' || (o === 'equal' && y.choice > x.choice);
          };
          const survivors = versions.filter(
            (x) => !versions.some((y) => beats(x, y)) && (tomb === null || !leq(x.clock, tomb)),
          );
          const model = new Set(survivors.map((x) => `${JSON.stringify(x.choice)}@${canonicalKey(x.clock)}`));
          expect(canonicalVersions(applyAll(ops))).to.deep.equal([...model].sort());
        }),
        RUNS,
      );
    });

    it('mergeVersion returns the identical object exactly when the version adds nothing', () => {
      fc.assert(
        fc.property(stateArb(smallChoiceArb), versionArb(smallChoiceArb), (s, x) => {
          const out = mergeVersion(s, x);
          const changed = canonical(out) !== canonical(s);
          expect(out === s).to.equal(!changed);
          // Merging the same version again never changes anything.
          expect(mergeVersion(out, x)).to.equal(out);
          // Merging a version already held returns the same object.
          for (const held of out.versions) expect(mergeVersion(out, held)).to.equal(out);
        }),
        RUNS,
      );
    });

    it('mergeState returns the identical object when the incoming state adds nothing', () => {
      fc.assert(
        fc.property(stateArb(), stateArb(), (a, b) => {
          const ab = mergeState(a, b);
          expect(mergeState(ab, b)).to.equal(ab);
          expect(mergeState(ab, a)).to.equal(ab);
          expect(mergeState(a, EMPTY)).to.equal(a);
        }),
        RUNS,
      );
    });

    it('deleteAll then merging the old state back holds nothing (a deleted tea does not come back)', () => {
      fc.assert(
        fc.property(stateArb(), clockArb(), (s, _) => {
          const dead = deleteAll(s);
          expect(holds(mergeState(dead, s))).to.equal(false);
          expect(holds(mergeState(s, dead))).to.equal(false);
        }),
        RUNS,
      );
    });
  });
});
