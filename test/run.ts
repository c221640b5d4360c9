/**
 * The scenario runner (docs/protocol.md, "Orchestration"): starts Redis and
 * the queue once, and between scenarios restarts the DBs and the LB with the
 * next scenario's settings exactly as the original course harness did.
 * Prints every check and ends with `N passed, N failed`; exits non-zero when
 * anything failed.
 *
 *   node dist/test/run.js [--test NAME] [--ndb N] [--wait SECONDS] [--leavedb] [--list]
 */
import { join } from 'node:path';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import Redis from 'ioredis';
import { Ring } from '../lib/core/ring';
import { Cluster, layoutFrom } from '../tools/cluster/cluster';
import { HttpClient, createHttpClient } from '../lib/net/httpClient';
import { loadDefaults, projectRoot } from '../lib/server/boot';
import { QueueClient, StoreClient } from './scenarios/client';
import { SCENARIOS } from './scenarios/catalogue';
import { Scenario, World } from './scenarios/scenario';

type Options = { test?: string; ndb: number; wait: number; leavedb: boolean; list: boolean };

function parseOptions(defaultNdb: number): Options {
  return yargs(hideBin(process.argv))
    .scriptName('test/run')
    .option('test', { type: 'string', describe: 'run only this scenario' })
    .option('ndb', { type: 'number', default: defaultNdb, describe: 'number of DBs' })
    .option('wait', { type: 'number', default: 0, describe: 'seconds to wait after each restart' })
    .option('leavedb', { type: 'boolean', default: false, describe: 'leave the Redis servers running at the end' })
    .option('list', { type: 'boolean', default: false, describe: 'list the scenarios and exit' })
    .strict()
    .help()
    .parseSync();
}

/** What a scenario works with, on this cluster; checks are counted in `tally`. */
function worldOf(cluster: Cluster, http: HttpClient, redis: Redis[], tally: { passed: number; failed: number }): World {
  const { layout } = cluster;
  const queue = new QueueClient(http, `http://${layout.host}:${layout.qPort}`);
  return {
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
      if (ok) tally.passed++;
      else tally.failed++;
      console.log(`  ${ok ? 'ok  ' : 'FAIL'} ${what}${detail ? `  (${detail})` : ''}`);
      return ok;
    },
  };
}

/** Start a scenario's servers: between scenarios, exactly what the original harness does (cluster.ts says what that is). */
async function startFor(scenario: Scenario, cluster: Cluster, world: World): Promise<void> {
  if (cluster.dbs.length > 0) {
    await cluster.restartLikeTheOriginalHarness(scenario.settings, () => world.queue.clear());
    return;
  }
  // The Redis servers may hold what an earlier run left (they save on shutdown, as Redis does by default).
  await cluster.flushRedis();
  await world.queue.clear();
  await cluster.startServers(scenario.settings);
}

async function runScenarios(chosen: Scenario[], cluster: Cluster, options: Options): Promise<{ passed: number; failed: number }> {
  const { layout } = cluster;
  const tally = { passed: 0, failed: 0 };
  const http = createHttpClient();
  const redis: Redis[] = [];
  try {
    await cluster.startBackends();
    for (let i = 0; i < layout.ndb; i++) redis.push(cluster.redisClient(i));
    const world = worldOf(cluster, http, redis, tally);
    for (const scenario of chosen) {
      console.log(`${scenario.name}: ${scenario.about}`);
      if ((scenario.minNdb ?? 1) > layout.ndb) {
        console.log(`  skipped: needs ndb >= ${scenario.minNdb}, running ${layout.ndb} (not counted)`);
        continue;
      }
      await startFor(scenario, cluster, world);
      if (options.wait > 0) await new Promise((r) => setTimeout(r, options.wait * 1000));
      try {
        await scenario.run(world);
      } catch (e) {
        world.check(`${scenario.name} ran to the end`, false, (e as Error).stack ?? String(e));
      }
    }
  } finally {
    for (const r of redis) r.disconnect();
    http.close();
    await cluster.stopAll({ leaveRedis: options.leavedb });
    if (options.leavedb) console.log(`Redis left running on ${layout.redisBasePort}..${layout.redisBasePort + layout.ndb - 1}`);
  }
  return tally;
}

async function main(): Promise<number> {
  const defaults = loadDefaults();
  const options = parseOptions(defaults.ndb);
  if (options.list) {
    for (const s of SCENARIOS) console.log(`${s.name.padEnd(16)} ${s.about}`);
    return 0;
  }
  const chosen = options.test === undefined ? SCENARIOS : SCENARIOS.filter((s) => s.name === options.test);
  if (chosen.length === 0) {
    console.error(`no scenario named ${options.test}; there are: ${SCENARIOS.map((s) => s.name).join(', ')}`);
    return 2;
  }
  if (!Number.isInteger(options.ndb) || options.ndb < 1) {
    console.error('--ndb must be an integer >= 1');
    return 2;
  }
  // The contract's ports, but data and logs of its own: a test run must not wipe what npm start keeps in var/db.
  const root = projectRoot();
  const cluster = new Cluster({
    ...layoutFrom(defaults, root, options.ndb),
    dataDir: join(root, 'var', 'scenarios', 'db'),
    logDir: join(root, 'var', 'scenarios', 'log'),
    redisDefaults: true,
  });
  await cluster.checkPrerequisites();
  const { passed, failed } = await runScenarios(chosen, cluster, options);
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
