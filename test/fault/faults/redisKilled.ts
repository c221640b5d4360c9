/** Phase b: SIGKILL a DB's Redis under load, restart it on the same data (its append-only file). */
import { killProcess } from '../../../tools/cluster/processes';
import type { PhaseFactory } from '../cluster';

export const redisKilled: PhaseFactory = (fc, report) => ({
  key: 'b',
  title: "SIGKILL db2's Redis under load, restart it on the same data (append-only file) 5 s later",
  faults: () => [
    {
      what: 'redis 2 down',
      inject: () => killProcess(fc.cluster.redis[2]),
      holdMs: 5000,
      restore: async () => {
        await fc.cluster.startRedis(2);
        const keys = await fc.dbsize(2);
        report.check('(b) redis 2 came back with its data (append-only file)', keys > 0, `${keys} keys`);
      },
    },
  ],
});
