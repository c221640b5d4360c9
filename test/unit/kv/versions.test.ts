/** The winner rule and the merge of version sets (lib/kv/core/versions.ts). */
import { expect } from 'chai';
import fc from 'fast-check';
import { compare, makeClock } from '../../../lib/core/clock';
import { KvVersion, canonicalSet, liveWinner, mergeSets, mergeVersion, winner } from '../../../lib/kv/core/versions';

const A = '10.0.0.2:8080';
const B = '10.0.0.3:8080';
const C = '10.0.0.4:8080';

function v(value: string | null, clock: [string, number][], timestamp = 1000, origin = A): KvVersion {
  return { deleted: value === null, value: value ?? undefined, clock: makeClock(clock), timestamp, origin };
}

const versionArb = fc
  .record({
    value: fc.option(fc.constantFrom('x', 'y', 'z'), { nil: null }),
    a: fc.integer({ min: 0, max: 3 }),
    b: fc.integer({ min: 0, max: 3 }),
    c: fc.integer({ min: 1, max: 3 }),
    timestamp: fc.integer({ min: 0, max: 3 }),
    origin: fc.constantFrom(A, B, C),
  })
  .map((r) => v(r.value, [[A, r.a], [B, r.b], [C, r.c]], r.timestamp, r.origin));

describe('kv versions: the winner rule', () => {
  it('a version whose clock dominates replaces the one it dominates, whatever the timestamps', () => {
    const older = v('old', [[A, 1]], 5000);
    const newer = v('new', [[A, 1], [B, 1]], 1000, B);
    expect(mergeVersion([older], newer)).to.deep.equal([newer]);
    expect(mergeVersion([newer], older)).to.deep.equal([newer]);
    expect(winner(mergeSets([], [older, newer]))?.value).to.equal('new');
  });

  it('concurrent versions are kept side by side; the later timestamp wins, then the greater origin', () => {
    const a = v('a', [[A, 1]], 2000, A);
    const b = v('b', [[B, 1]], 1000, B);
    const set = mergeSets([], [a, b]);
    expect(set).to.have.length(2);
    expect(winner(set)?.value).to.equal('a');
    const tie = mergeSets([], [v('a', [[A, 1]], 1000, A), v('b', [[B, 1]], 1000, B)]);
    expect(winner(tie)?.value).to.equal('b', 'equal timestamps: the greater origin address');
  });

  it('a tombstone hides the versions it dominates, and a write that follows it is kept', () => {
    const written = v('x', [[A, 1]]);
    const deleted = v(null, [[A, 1], [B, 1]], 1000, B);
    const afterDelete = mergeSets([written], [deleted]);
    expect(liveWinner(afterDelete)).to.equal(undefined);
    expect(mergeVersion(afterDelete, written), 'the old write arriving again').to.equal(afterDelete);
    const recreated = v('again', [[A, 2], [B, 1]], 900, A);
    expect(liveWinner(mergeVersion(afterDelete, recreated))?.value).to.equal('again');
  });

  it('merging is idempotent, commutative and associative: every order of arrival gives the same set and winner', () => {
    fc.assert(
      fc.property(fc.array(versionArb, { maxLength: 8 }), fc.array(versionArb, { maxLength: 8 }), (xs, ys) => {
        const oneWay = mergeSets(mergeSets([], xs), ys);
        const otherWay = mergeSets(mergeSets([], ys), xs);
        const shuffled = mergeSets([], [...ys, ...xs].reverse());
        expect(canonicalSet(oneWay)).to.equal(canonicalSet(otherWay));
        expect(canonicalSet(shuffled)).to.equal(canonicalSet(oneWay));
        expect(canonicalSet(mergeSets(oneWay, oneWay))).to.equal(canonicalSet(oneWay));
        expect(winner(oneWay)).to.deep.equal(winner(otherWay));
      }),
    );
  });

  it('a merged set holds no version another dominates', () => {
    fc.assert(
      fc.property(fc.array(versionArb, { maxLength: 10 }), (xs) => {
        const set = mergeSets([], xs);
        for (const x of set) for (const y of set) if (x !== y) expect(compare(x.clock, y.clock)).to.equal('concurrent');
      }),
    );
  });
});
