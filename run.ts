/**
 * npm start: the whole cluster on this machine (ndb Redis servers, the queue,
 * ndb DBs and the LB), until Ctrl-C or SIGTERM.
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { join } from 'node:path';
import { Cluster, layoutFrom } from './tools/cluster/cluster';
import { Supervisor } from './tools/cluster/supervisor';
import { loadDefaults, projectRoot } from './lib/server/boot';

async function main(): Promise<void> {
  const defaults = loadDefaults();
  const argv = yargs(hideBin(process.argv))
    .scriptName('npm start --')
    .option('ndb', { type: 'number', default: defaults.ndb, describe: 'number of DB instances (and Redis servers)' })
    .option('digest-length', { type: 'number', default: defaults.db['digest-length'], describe: 'gossip tuples a DB collects before it sends them' })
    .option('leavedb', { type: 'boolean', default: false, describe: 'leave the Redis servers running on exit, for redis-cli' })
    .check((a) => {
      if (!Number.isInteger(a.ndb) || a.ndb < 1) throw new Error('--ndb must be an integer >= 1');
      if (!Number.isInteger(a['digest-length']) || a['digest-length'] < 1) throw new Error('--digest-length must be an integer >= 1');
      return true;
    })
    .strict()
    .help()
    .parseSync();

  const root = projectRoot();
  // The cluster secret lives in var/ beside the data: made at the first start, kept for the next ones.
  const cluster = new Cluster({ ...layoutFrom(defaults, root, argv.ndb), secretFile: join(root, 'var', 'secret') });
  const { layout } = cluster;
  const supervisor = new Supervisor((line) => console.error(line));
  await cluster.checkPrerequisites();

  let stopping = false;
  const stop = async (why: string) => {
    if (stopping) return;
    stopping = true;
    supervisor.stop();
    console.log(`\n${why}: stopping the cluster${argv.leavedb ? ' (leaving Redis running)' : ''}`);
    await cluster.stopAll({ leaveRedis: argv.leavedb });
    if (argv.leavedb) {
      const ports = cluster.layout.ndb === 1 ? `${layout.redisBasePort}` : `${layout.redisBasePort}..${layout.redisBasePort + layout.ndb - 1}`;
      console.log(`Redis still listens on ${ports}; inspect with redis-cli -p ${layout.redisBasePort}, stop with redis-cli -p PORT shutdown`);
    }
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));

  const settings = { digestLength: argv['digest-length'] };
  try {
    await cluster.startBackends();
    await cluster.startServers(settings);
  } catch (e) {
    await cluster.stopAll();
    throw e;
  }
  const h = layout.host;
  console.log(`tea store running, ndb ${layout.ndb}, digest-length ${argv['digest-length']}`);
  console.log(`  load balancer  http://${h}:${layout.lbPort}`);
  for (let i = 0; i < layout.ndb; i++) {
    console.log(`  db${i}            http://${h}:${cluster.dbPort(i)}   redis ${h}:${cluster.redisPort(i)}`);
  }
  console.log(`  queue          http://${h}:${layout.qPort}`);
  console.log(`  logs in ${layout.logDir}, data in ${layout.dataDir}; Ctrl-C stops everything`);
  console.log(`  internal routes and Redis need the secret in ${layout.secretFile}`);
  // A process that dies is started again, with backoff; each one's stderr is in its log file.
  cluster.redis.forEach((p, i) => supervisor.watch(p, () => cluster.startRedis(i)));
  if (cluster.queueRedis) supervisor.watch(cluster.queueRedis, () => cluster.startQueueRedis());
  if (cluster.queue) supervisor.watch(cluster.queue, () => cluster.startQueue());
  cluster.dbs.forEach((p, i) => supervisor.watch(p, () => cluster.startDB(i, settings)));
  if (cluster.lb) supervisor.watch(cluster.lb, () => cluster.startLB(settings));
}

main().catch((e: Error) => {
  console.error(`npm start: ${e.message}`);
  process.exit(1);
});
