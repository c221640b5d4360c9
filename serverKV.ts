/**
 * One key-value node (docs/kv.md): `VIEW=... IP_PORT=... node dist/serverKV.js`
 * for seed 000's door, `VIEW=... SOCKET_ADDRESS=... [SHARD_COUNT=n]` for seed 003's. It
 * listens at once on its own address (view and status answer right away) and
 * serves keys once it has caught up from its peers.
 */
import dns from 'node:dns';
import { createLogger } from './lib/log';
import { closeNow, listen, logStrayRejections, onShutdown, runMain } from './lib/server/boot';
import { configFromEnv } from './lib/kv/config';
import { doorFor } from './lib/kv/doors';
import { kvApp } from './lib/kv/http/app';
import { httpTransport } from './lib/kv/node/httpTransport';
import { KvNode } from './lib/kv/node/node';
import { initialLayout } from './lib/kv/core/shardMap';

runMain('serverKV', async () => {
  dns.setDefaultResultOrder('ipv4first');
  const config = configFromEnv(process.env, process.argv.slice(2));
  // The story of a node (view changes, peers down and back) goes to stdout, as a container's log.
  const log = createLogger(`kv ${config.self}`, '/dev/stdout');
  logStrayRejections(log);
  const door = doorFor(config.api);
  const transport = httpTransport();
  const layout = config.shardCount === null ? null : initialLayout(config.view, config.shardCount);
  const node = new KvNode({ self: config.self, view: config.view, announceAdds: door.announceAdds, transport, log, layout });
  const server = await listen(kvApp(node, door, log), config.listenHost, config.port, `node ${config.self}`);
  log.info(`listening on ${config.listenHost}:${config.port} (API ${config.api})`);
  void node.start();
  onShutdown(log, () => {
    node.stop();
    closeNow(server);
    transport.close();
  });
});
