/** What the tests of lib/core/versions.ts (test/unit/versions*.test.ts) share: run counts and the state's invariants. */
import { expect } from 'chai';
import { canonicalKey, leq } from '../../../lib/core/clock';
import { TeaState } from '../../../lib/core/versions';
import { canonical } from '../helpers';

/** Runs per property. */
export const RUNS = { numRuns: 300 };

/** No stored version is <= another: they are pairwise concurrent. */
export function expectPairwiseConcurrent(state: TeaState): void {
  for (let i = 0; i < state.versions.length; i++) {
    for (let j = 0; j < state.versions.length; j++) {
      if (i === j) continue;
      expect(leq(state.versions[i].clock, state.versions[j].clock), `versions ${i} <= ${j} in ${canonical(state)}`).to.equal(false);
    }
  }
}

/** No stored version is <= the tombstone. */
export function expectNothingBuried(state: TeaState): void {
  if (state.tombstone === null) return;
  for (const x of state.versions) expect(leq(x.clock, state.tombstone), `buried ${canonicalKey(x.clock)}`).to.equal(false);
}
