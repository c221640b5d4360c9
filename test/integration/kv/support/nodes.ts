/**
 * Real node processes for the integration tests: `node dist/serverKV.js`
 * with the environment a container would get, one address per node on the
 * same port (every 127.0.0.0/8 address is this machine's loopback), or
 * inside a network namespace. Everything started here is killed by the
 * file's after hook, and by the test process's exit should mocha die first.
 */
import { join } from 'node:path';
import { projectRoot } from '../../../../lib/server/boot';
import { Managed, killProcess, stopProcess } from '../../../../tools/cluster/processes';
import { startTracked } from '../../../support/cluster';

export type Api = 'keyValue-store' | 'key-value-store';

export interface NodeSpec {
  address: string;
  view: string[];
  api: Api;
  /** Run inside this network namespace (partition tests). */
  netns?: string;
  /** Extra environment, e.g. a variable a container would have that the node must ignore. */
  env?: Record<string, string>;
  logDir: string;
}

export const serverScript = () => join(projectRoot(), 'dist', 'serverKV.js');

export function envFor(spec: Pick<NodeSpec, 'address' | 'view' | 'api' | 'env'>): Record<string, string> {
  const own = spec.api === 'key-value-store' ? 'SOCKET_ADDRESS' : 'IP_PORT';
  return { VIEW: spec.view.join(','), [own]: spec.address, ...spec.env };
}

export async function startNode(spec: NodeSpec): Promise<Managed> {
  const [host, port] = spec.address.split(':');
  const envArgs = Object.entries(envFor(spec)).map(([k, v]) => `${k}=${v}`);
  const command = spec.netns ? 'ip' : 'env';
  const args = [...(spec.netns ? ['netns', 'exec', spec.netns, 'env'] : []), ...envArgs, process.execPath, serverScript()];
  return startTracked({
    role: `kv ${spec.address}`, host, port: Number(port), command, args,
    logfile: join(spec.logDir, `${spec.address.replace(/[:.]/g, '_')}.log`), timeoutMs: 10_000,
  });
}

export async function stopNode(p: Managed | undefined): Promise<void> {
  if (p) await stopProcess(p, 2000);
}

export async function killNode(p: Managed | undefined): Promise<void> {
  if (p) await killProcess(p);
}

/** A cluster of nodes at `addresses`, all with the same VIEW. */
export class KvCluster {
  readonly procs = new Map<string, Managed>();

  constructor(
    readonly addresses: string[],
    readonly api: Api,
    readonly logDir: string,
    readonly netnsOf: (address: string) => string | undefined = () => undefined,
  ) {}

  async start(address: string, view = this.addresses): Promise<Managed> {
    const p = await startNode({ address, view, api: this.api, netns: this.netnsOf(address), logDir: this.logDir });
    this.procs.set(address, p);
    return p;
  }

  async startAll(): Promise<void> {
    await Promise.all(this.addresses.map((a) => this.start(a)));
  }

  async kill(address: string): Promise<void> {
    await killNode(this.procs.get(address));
    this.procs.delete(address);
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.procs.values()].map((p) => stopNode(p)));
    this.procs.clear();
  }
}

export function logDirFor(name: string): string {
  return join(projectRoot(), 'var', 'kv-test', name);
}
