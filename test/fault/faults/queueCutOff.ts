/** Phase g: a partition: the queue cut off from every DB for 10 s (blackholed, as a lost machine, not refused), then healed. */
import type { PhaseFactory } from '../cluster';

export const queueCutOff: PhaseFactory = ({ toQueue, queueFront }, report) => ({
  key: 'g',
  title: 'partition: cut the queue off from every DB for 10 s under load (blackholed, not refused), heal',
  faults: () => [
    {
      what: 'queue cut off',
      inject: async () => [toQueue, queueFront].forEach((p) => p.cut()),
      holdMs: 10_000,
      restore: async () => {
        [toQueue, queueFront].forEach((p) => p.heal());
        report.checkCut('(g) the cut held back connections from the DBs to the queue', [toQueue, queueFront]);
      },
    },
  ],
});
