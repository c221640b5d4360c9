/** Phase e: a DB and its Redis stopped, its data deleted: the DB comes back empty and is repaired. */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { killProcess, stopProcess } from '../../../tools/cluster/processes';
import type { PhaseFactory } from '../cluster';

export const dbEmpty: PhaseFactory = (fc, report) => {
  const { cluster, layout } = fc;
  return {
    key: 'e',
    title: 'stop db3 and its Redis, delete its data, restart both: db3 comes back empty and is repaired',
    repairs: 'db3',
    faults: () => [
      {
        what: 'db3 down',
        inject: async () => {
          // A clean stop: the DB sends what its digest holds before it exits. (A SIGKILL
          // followed by the loss of the disk is a double fault: it would lose the writes
          // only db3 had, those still in its digest, at most flush-after-ms old.)
          const t0 = Date.now();
          await stopProcess(cluster.dbs[3], 15_000);
          const { exitCode, signalCode } = cluster.dbs[3].child;
          const how = signalCode ? `killed by ${signalCode} (no clean stop within 15 s)` : `exit code ${exitCode}`;
          report.info(`db3 stopped in ${Date.now() - t0} ms: ${how}`);
          if (signalCode) console.log('  WARN (e) db3 did not stop cleanly: writes only db3 held, still in its digest, may be lost with its data');
          await killProcess(cluster.redis[3]);
          rmSync(join(layout.dataDir, `redis-${cluster.redisPort(3)}`), { recursive: true, force: true });
        },
        holdMs: 4000,
        restore: async () => {
          await cluster.startRedis(3);
          const keys = await fc.dbsize(3);
          report.check('(e) redis 3 came back empty', keys === 0, `${keys} keys`);
          await cluster.startDB(3, fc.settings);
        },
      },
    ],
  };
};
