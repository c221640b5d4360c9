/** Phase d: SIGKILL the LB under load, restart it 2 s later (writes in the window fail by design). */
import { killProcess } from '../../../tools/cluster/processes';
import type { PhaseFactory } from '../cluster';

export const lbKilled: PhaseFactory = ({ cluster, settings }) => ({
  key: 'd',
  title: 'SIGKILL the LB under load, restart it 2 s later',
  faults: () => [
    {
      what: 'LB down',
      inject: () => killProcess(cluster.lb!),
      holdMs: 2000,
      restore: async () => void (await cluster.startLB(settings)),
      lbDown: true,
    },
  ],
});
