/**
 * A DB instance: `node dist/serverDB.js '<json>'` (the original keys, see
 * docs/protocol.md "Configuration"), or with no argument single-instance
 * mode on port 3000 over the Redis at localhost:6379.
 */
import { dbConfig, parseOverrides } from './lib/config';
import { dbName } from './lib/core/ring';
import { AntiEntropy } from './lib/db/antiEntropy';
import { dbApp } from './lib/db/app';
import { RedisTeaStore, STORE_REDIS_OPTIONS } from './lib/db/redisStore';
import { Replica } from './lib/db/replica';
import { createLogger } from './lib/log';
import { createHttpClient } from './lib/net/httpClient';
import { SocketLink } from './lib/queue/link';
import { secretHeaders } from './lib/http/secret';
import { closeNow, connectRedis, listen, loadDefaults, logStrayRejections, onShutdown, readSecret, runMain } from './lib/server/boot';

runMain('serverDB', async () => {
  const config = dbConfig(loadDefaults(), parseOverrides(process.argv[2], 'serverDB'));
  const log = createLogger(`db${config.id}`, config.logfile);
  logStrayRejections(log);
  // The original harness starts every id 0..3 with ndb 1 for its one-DB scenario: such a DB serves, alone.
  const inRing = config.id < config.ndb;
  if (!inRing) log.warn(`id ${config.id} is not below ndb ${config.ndb}: serving direct requests, taking no part in gossip`);
  const gossips = inRing && config.ndb > 1;
  const secret = readSecret(config.secretFile, log, 'its internal routes (/ae/*)');
  const redis = await connectRedis('Redis', config.redis, log, { ...STORE_REDIS_OPTIONS, password: secret ?? undefined });
  const { flushAfterMs } = config;
  // A change is gossip's to deliver for as long as gossip can take with no traffic: a wait of flush-after-ms per hop.
  const store = new RedisTeaStore(redis, { recentMs: (config.ndb + 1) * flushAfterMs });
  const link = gossips
    ? new SocketLink(config.queueHost, config.queuePort, dbName((config.id + config.ndb - 1) % config.ndb), dbName(config.id), (m) => log.warnEvery('link', 5000, m), secret)
    : null;
  const replica = new Replica({ id: config.id, ndb: config.ndb, digestLength: config.digestLength, flushAfterMs, store, link, log });
  const http = createHttpClient();
  const antiEntropy = new AntiEntropy({
    id: config.id, peers: config.peers, store, merge: (entries) => replica.mergeStates(entries), http, log,
    intervalMs: gossips ? config.antiEntropyIntervalMs : 0, gossipQuietForMs: () => replica.gossipQuietForMs(), headers: secretHeaders(secret),
  });
  const app = dbApp(replica, antiEntropy, log, () => redis.status === 'ready', secret);
  const server = await listen(app, config.host, config.port, `serverDB ${config.id}`);
  onShutdown(log, () => {
    // Nothing more reaches Redis or the queue: what is not sent is in the stored digest, for the next start.
    replica.stop();
    antiEntropy.stop();
    closeNow(server);
    redis.disconnect();
    http.close();
  });
  await replica.start();
  antiEntropy.start();
  log.info(`listening on ${config.host}:${config.port}, redis ${config.redis.host}:${config.redis.port}, queue ${config.queueHost}:${config.queuePort}, ndb ${config.ndb}`);
});
