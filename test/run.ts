/**
 * The scenario runner (docs/protocol.md, "Orchestration"): starts Redis and the queue once, and before
 * each scenario flushes every Redis, restarts the DBs and the LB with that
 * scenario's settings, and clears the queue. Prints every check and ends
 * with `N passed, N failed`; exits non-zero when anything failed.
 *
 *   node dist/test/run.js [--test NAME] [--ndb N] [--wait SECONDS] [--leavedb] [--list]
 */
import { join } from 'node:path';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import Redis from 'ioredis';
import { Ring } from '../lib/core/ring';
import { Cluster, layoutFrom } from '../tools/cluster/cluster';
import { createHttpClient } from '../lib/net/httpClient';
import { loadDefaults, projectRoot } from '../lib/server/boot';
import { QueueClient, StoreClient } from './scenarios/client';
import { SCENARIOS } from './scenarios/catalogue';
import { World } from './scenarios/scenario';

async function main(): Promise<number> {
  const defaults = loadDefaults();
  const argv = yargs(hideBin(process.argv))
    .scriptName('test/run')
    .option('test', { type: 'string', describe: 'run only this scenario' })
    .option('ndb', { type: 'number', default: defaults.ndb, describe: 'number of DBs' })
    .option('wait', { type: 'number', default: 0, describe: 'seconds to wait after each restart' })
    .option('leavedb', { type: 'boolean', default: false, describe: 'leave the Redis servers running at the end' })
    .option('list', { type: 'boolean', default: false, describe: 'list the scenarios and exit' })
    .strict()
    .help()
    .parseSync();

  if (argv.list) {
    for (const s of SCENARIOS) console.log(`${s.name.padEnd(16)} ${s.about}`);
    return 0;
  }
  const chosen = argv.test === undefined ? SCENARIOS : SCENARIOS.filter((s) => s.name === argv.test);
  if (chosen.length === 0) {
    console.error(`no scenario named ${argv.test}; there are: ${SCENARIOS.map((s) => s.name).join(', ')}`);
    return 2;
  }
  if (!Number.isInteger(argv.ndb) || argv.ndb < 1) {
    console.error('--ndb must be an integer >= 1');
    return 2;
  }

  // the contract's ports, but data and logs of its own: a test run must not wipe what npm start keeps in var/db.
  const root = projectRoot();
  const cluster = new Cluster({
    ...layoutFrom(defaults, root, argv.ndb),
    dataDir: join(root, 'var', 'scenarios', 'db'),
    logDir: join(root, 'var', 'scenarios', 'log'),
    redisDefaults: true,
  });
  const { layout } = cluster;
  await cluster.checkPrerequisites();
  const http = createHttpClient();
  const redis: Redis[] = [];
  let passed = 0;
  let failed = 0;
  try {
    await cluster.startBackends();
    for (let i = 0; i < layout.ndb; i++) redis.push(cluster.redisClient(i));
    const queue = new QueueClient(http, `http://${layout.host}:${layout.qPort}`);
    const world: World = {
      ndb: layout.ndb,
      ring: new Ring(layout.ndb),
      lb: new StoreClient(http, `http://${layout.host}:${layout.lbPort}`),
      db: (i) => new StoreClient(http, `http://${layout.host}:${cluster.dbPort(i)}`),
      redis: (i) => redis[i],
      queue,
      host: layout.host,
      flushAfterMs: layout.dbDefaults['flush-after-ms'],
      restart: (settings = {}) => cluster.restartLikeTheOriginalHarness(settings, () => queue.clear()),
      dbLog: (i) => join(layout.logDir, `serverDB${i}.log`),
      check(what, ok, detail) {
        if (ok) passed++;
        else failed++;
        console.log(`  ${ok ? 'ok  ' : 'FAIL'} ${what}${detail ? `  (${detail})` : ''}`);
        return ok;
      },
    };
    for (const scenario of chosen) {
      console.log(`${scenario.name}: ${scenario.about}`);
      if ((scenario.minNdb ?? 1) > layout.ndb) {
        console.log(`  skipped: needs ndb >= ${scenario.minNdb}, running ${layout.ndb} (not counted)`);
        continue;
      }
      // Between scenarios, exactly what the original harness does (cluster.ts says what that is).
      if (cluster.dbs.length > 0) {
        await cluster.restartLikeTheOriginalHarness(scenario.settings, () => queue.clear());
      } else {
        // The Redis servers may hold what an earlier run left (they save on shutdown, as Redis does by default).
        await cluster.flushRedis();
        await queue.clear();
        await cluster.startServers(scenario.settings);
      }
      if (argv.wait > 0) await new Promise((r) => setTimeout(r, argv.wait * 1000));
      try {
        await scenario.run(world);
      } catch (e) {
        world.check(`${scenario.name} ran to the end`, false, (e as Error).stack ?? String(e));
      }
    }
  } finally {
    for (const r of redis) r.disconnect();
    http.close();
    await cluster.stopAll({ leaveRedis: argv.leavedb });
    if (argv.leavedb) console.log(`Redis left running on ${layout.redisBasePort}..${layout.redisBasePort + layout.ndb - 1}`);
  }
  console.log(`${passed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e: Error) => {
    console.error(`test/run: ${e.message}`);
    process.exit(1);
  },
);
