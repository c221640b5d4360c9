/**
 * The load balancer: `node dist/serverLB.js '<json>'` (the original keys),
 * or with no argument ndb 1 on port 2500.
 */
import { dbUrls, lbApp } from './lib/lb/app';
import { DbHealth } from './lib/lb/health';
import { lbConfig, parseOverrides } from './lib/config';
import { createLogger } from './lib/log';
import { createHttpClient } from './lib/net/httpClient';
import { closeNow, listen, loadDefaults, logStrayRejections, onShutdown, runMain } from './lib/server/boot';

runMain('serverLB', async () => {
  const config = lbConfig(loadDefaults(), parseOverrides(process.argv[2], 'serverLB'));
  const log = createLogger(`lb${config.id}`, config.logfile);
  logStrayRejections(log);
  const http = createHttpClient();
  const health = new DbHealth(dbUrls(config.dbHost, config.dbBasePort, config.ndb), http);
  const app = lbApp({ ndb: config.ndb, dbHost: config.dbHost, dbBasePort: config.dbBasePort, http, log, health });
  const server = await listen(app, config.host, config.port, 'serverLB');
  health.start();
  log.info(`listening on ${config.host}:${config.port}, ndb ${config.ndb}, DBs from ${config.dbHost}:${config.dbBasePort}`);
  onShutdown(log, () => {
    health.stop();
    closeNow(server);
    http.close();
  });
});
