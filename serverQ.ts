/** The queue service: `node dist/serverQ.js '<json>'` (keys of SPEC.md), or with no argument port 6000. */
import { parseOverrides, qConfig } from './lib/config';
import { createLogger } from './lib/log';
import { queueApp } from './lib/queue/app';
import { Channels } from './lib/queue/channels';
import { closeServer, listen, loadDefaults, onShutdown, runMain } from './lib/server/boot';

runMain('serverQ', async () => {
  const config = qConfig(loadDefaults(), parseOverrides(process.argv[2], 'serverQ'));
  const log = createLogger(`q${config.id}`, config.logfile);
  const server = await listen(queueApp(new Channels<object>(), log), config.host, config.port, 'serverQ');
  log.info(`listening on ${config.host}:${config.port}`);
  onShutdown(log, () => closeServer(server));
});
