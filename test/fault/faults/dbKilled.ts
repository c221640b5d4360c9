/** Phase a: SIGKILL a DB under load, restart it 5 s later. */
import { killProcess } from '../../../tools/cluster/processes';
import type { PhaseFactory } from '../cluster';

export const dbKilled: PhaseFactory = ({ cluster, settings }) => ({
  key: 'a',
  title: 'SIGKILL db1 under load, restart it 5 s later',
  faults: () => [
    {
      what: 'db1 down',
      inject: () => killProcess(cluster.dbs[1]),
      holdMs: 5000,
      restore: async () => void (await cluster.startDB(1, settings)),
    },
  ],
});
