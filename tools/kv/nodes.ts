/**
 * Starting key-value nodes on this machine as containers would be started:
 * `node dist/serverKV.js` with VIEW and IP_PORT (seed 000) or SOCKET_ADDRESS
 * (seed 003), one address per node on the same port (every 127.0.0.0/8
 * address is this machine's loopback), optionally inside a network
 * namespace. Used by `npm run kv`, the benchmark and the integration tests.
 */
import { join } from 'node:path';
import { projectRoot } from '../../lib/server/boot';
import { Managed, StartOptions, startProcess } from '../cluster/processes';

export type Api = 'keyValue-store' | 'key-value-store';

export interface NodeSpec {
  address: string;
  view: string[];
  api: Api;
  /** Run inside this network namespace (partition tests). */
  netns?: string;
  /** Extra environment, e.g. variables a container would have that the node must ignore. */
  env?: Record<string, string>;
  logDir: string;
}

export const serverScript = () => join(projectRoot(), 'dist', 'serverKV.js');

/** The environment a container of this door gets. */
export function envFor(spec: Pick<NodeSpec, 'address' | 'view' | 'api' | 'env'>): Record<string, string> {
  const own = spec.api === 'key-value-store' ? 'SOCKET_ADDRESS' : 'IP_PORT';
  return { VIEW: spec.view.join(','), [own]: spec.address, ...spec.env };
}

/** `count` addresses from `firstHost` (127.0.0.2 by default) up, on one port. */
export function localAddresses(count: number, port = 8080, firstHost = '127.0.0.2'): string[] {
  const parts = firstHost.split('.').map(Number);
  return Array.from({ length: count }, (_, i) => `${parts[0]}.${parts[1]}.${parts[2]}.${parts[3] + i}:${port}`);
}

export function logFileOf(logDir: string, address: string): string {
  return join(logDir, `${address.replace(/[:.]/g, '_')}.log`);
}

/** Start one node and resolve once it accepts connections; its stdout (its log) goes to a file in logDir. */
export function startKvNode(spec: NodeSpec, start: (o: StartOptions) => Promise<Managed> = startProcess): Promise<Managed> {
  const [host, port] = spec.address.split(':');
  const envArgs = Object.entries(envFor(spec)).map(([k, v]) => `${k}=${v}`);
  const command = spec.netns ? 'ip' : 'env';
  const args = [...(spec.netns ? ['netns', 'exec', spec.netns, 'env'] : []), ...envArgs, process.execPath, serverScript()];
  return start({ role: `kv ${spec.address}`, host, port: Number(port), command, args, logfile: logFileOf(spec.logDir, spec.address), timeoutMs: 10_000 });
}
