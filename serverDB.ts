/**
 * A DB instance: `node dist/serverDB.js '<json>'` (keys of SPEC.md), or with
 * no argument single-instance mode on port 3000 over the Redis at
 * localhost:6379.
 */
import Redis from 'ioredis';
import { dbConfig, parseOverrides } from './lib/config';
import { AntiEntropy } from './lib/db/antiEntropy';
import { dbApp } from './lib/db/app';
import { RedisTeaStore, STORE_REDIS_OPTIONS } from './lib/db/redisStore';
import { Replica } from './lib/db/replica';
import { createLogger } from './lib/log';
import { createHttpClient } from './lib/net/httpClient';
import { HttpQueue } from './lib/queue/httpQueue';
import { closeServer, listen, loadDefaults, onShutdown, runMain } from './lib/server/boot';

runMain('serverDB', async () => {
  const config = dbConfig(loadDefaults(), parseOverrides(process.argv[2], 'serverDB'));
  const log = createLogger(`db${config.id}`, config.logfile);
  const { host, port } = config.servers[0];
  // No offline queue: while Redis is down a request fails at once (503, so the LB fails over)
  // instead of waiting for a reconnect.
  const redis = new Redis({ host, port, lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1, ...STORE_REDIS_OPTIONS });
  redis.on('error', (e) => log.warnEvery('redis', 5000, `redis ${host}:${port}: ${e.message}`));
  try {
    await redis.connect();
  } catch (e) {
    throw new Error(`cannot reach Redis at ${host}:${port}: ${(e as Error).message}`);
  }
  const store = new RedisTeaStore(redis);
  const indexed = await store.ensureIndex();
  if (indexed > 0) log.info(`indexed ${indexed} teas for anti-entropy`);
  const http = createHttpClient();
  const queue = new HttpQueue(config.qhost, config.qport, http);
  const replica = new Replica({
    id: config.id, ndb: config.ndb, digestLength: config['digest-length'], store, queue, log,
    gossipIntervalMs: config['gossip-interval-ms'], flushAfterMs: config['flush-after-ms'],
  });
  const antiEntropy = new AntiEntropy({
    id: config.id, peers: config.peers, store, http, log, intervalMs: config['anti-entropy-interval-ms'],
    gossipQuietForMs: () => replica.gossipQuietForMs(),
  });
  const app = dbApp(replica, antiEntropy, log, () => redis.status === 'ready');
  const server = await listen(app, config.host, config.hostport, `serverDB ${config.id}`);
  replica.start();
  antiEntropy.start();
  log.info(`listening on ${config.host}:${config.hostport}, redis ${host}:${port}, queue ${config.qhost}:${config.qport}, ndb ${config.ndb}`);
  onShutdown(log, async () => {
    await closeServer(server);
    await antiEntropy.stop();
    await replica.stop();
    await queue.close();
    await store.close();
  });
});
