/**
 * The queue service: `node dist/serverQ.js '<json>'` (keys of SPEC.md), or
 * with no argument port 6000. With `"redis": {"host", "port"}` the channels
 * live in that Redis and survive a crash of this process; without, in memory.
 */
import Redis from 'ioredis';
import { parseOverrides, qConfig } from './lib/config';
import { createLogger } from './lib/log';
import { queueApp } from './lib/queue/app';
import { ChannelStore, MemoryChannelStore } from './lib/queue/channelStore';
import { RedisChannelStore } from './lib/queue/redisChannelStore';
import { closeServer, listen, loadDefaults, onShutdown, runMain } from './lib/server/boot';

runMain('serverQ', async () => {
  const config = qConfig(loadDefaults(), parseOverrides(process.argv[2], 'serverQ'));
  const log = createLogger(`q${config.id}`, config.logfile);
  let store: ChannelStore;
  if (config.redis) {
    const { host, port } = config.redis;
    const redis = new Redis({ host, port, lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1, enableAutoPipelining: true });
    redis.on('error', (e) => log.warnEvery('redis', 5000, `redis ${host}:${port}: ${e.message}`));
    try {
      await redis.connect();
    } catch (e) {
      throw new Error(`cannot reach the queue's Redis at ${host}:${port}: ${(e as Error).message}`);
    }
    store = new RedisChannelStore(redis);
  } else {
    store = new MemoryChannelStore();
  }
  const server = await listen(queueApp(store, log), config.host, config.port, 'serverQ');
  log.info(`listening on ${config.host}:${config.port}, channels ${config.redis ? `in redis ${config.redis.host}:${config.redis.port}` : 'in memory'}`);
  onShutdown(log, async () => {
    await closeServer(server);
    await store.close();
  });
});
