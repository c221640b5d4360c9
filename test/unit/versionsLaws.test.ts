/**
 * The merge's algebra (lib/core/versions.ts), as properties: idempotent,
 * commutative, associative, order-free delivery, the stored set checked
 * against a model, and merges that add nothing return the same object.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { Clock, canonicalKey, compare, join, leq } from '../../lib/core/clock';
import { EMPTY, Version, canonicalVersions, deleteAll, holds, mergeState, mergeVersion, rating } from '../../lib/core/versions';
import { Op, applyAll, canonical, choiceArb, clockArb, opArb, sameState, smallChoiceArb, stateArb, versionArb } from './helpers';
import { RUNS, expectNothingBuried, expectPairwiseConcurrent } from './support/versions';

describe('core/versions', () => {
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
