/**
 * The queue service: `node dist/serverQ.js '<json>'` (the original keys),
 * or with no argument port 6000. With `"redis": {"host", "port"}` chunks
 * that must outlive this process go to that Redis (queue/journal.ts);
 * without, everything is in memory.
 */
import { parseOverrides, qConfig } from './lib/config';
import { createLogger } from './lib/log';
import { queueApp } from './lib/queue/app';
import { Hub } from './lib/queue/hub';
import { Journal, MemoryJournal, RedisJournal } from './lib/queue/journal';
import { acceptGossipLinks } from './lib/queue/peer';
import { closeNow, connectRedis, listen, loadDefaults, logStrayRejections, onShutdown, readSecret, runMain } from './lib/server/boot';

/** How often held chunks are looked at for journaling (hub.sweep). */
const SWEEP_MS = 250;

runMain('serverQ', async () => {
  const config = qConfig(loadDefaults(), parseOverrides(process.argv[2], 'serverQ'));
  const log = createLogger(`q${config.id}`, config.logfile);
  logStrayRejections(log);
  const secret = readSecret(config.secretFile, log, 'its routes and gossip links');
  const redis = config.redis ? await connectRedis("the queue's Redis", config.redis, log, { enableAutoPipelining: true, password: secret ?? undefined }) : null;
  const journal: Journal = redis ? new RedisJournal(redis) : new MemoryJournal();
  const hub = new Hub(journal, (m) => log.warnEvery('journal', 5000, m));
  const loaded = await hub.load();
  if (loaded > 0) log.info(`${loaded} messages from the journal`);
  const sweeper = setInterval(() => void hub.sweep(), SWEEP_MS);
  const server = await listen(queueApp(hub, log, secret), config.host, config.port, 'serverQ');
  acceptGossipLinks(server, hub, log, secret);
  log.info(`listening on ${config.host}:${config.port}, journal ${config.redis ? `in redis ${config.redis.host}:${config.redis.port}` : 'in memory'}`);
  onShutdown(log, async () => {
    clearInterval(sweeper);
    closeNow(server);
    // What only this process holds goes to the journal before it exits.
    await hub.sweep(0);
    redis?.disconnect();
  });
});
