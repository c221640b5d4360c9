/**
 * Real node processes for the integration tests (tools/kv/nodes.ts), tracked
 * so that everything started here is killed by the file's after hook, and by
 * the test process's exit should mocha die first.
 */
import { join } from 'node:path';
import { projectRoot } from '../../../../lib/server/boot';
import { Managed, killProcess, stopProcess } from '../../../../tools/cluster/processes';
import { Api, NodeSpec, startKvNode } from '../../../../tools/kv/nodes';
import { startTracked } from '../../../support/cluster';

export { serverScript } from '../../../../tools/kv/nodes';

export function startNode(spec: NodeSpec): Promise<Managed> {
  return startKvNode(spec, startTracked);
}

export async function stopNode(p: Managed | undefined): Promise<void> {
  if (p) await stopProcess(p, 2000);
}

/** A cluster of nodes at `addresses`, all started with the same VIEW. */
export class KvCluster {
  readonly procs = new Map<string, Managed>();

  constructor(
    readonly addresses: string[],
    readonly api: Api,
    readonly logDir: string,
    readonly netnsOf: (address: string) => string | undefined = () => undefined,
    /** Environment every node of `addresses` gets besides VIEW and its address (SHARD_COUNT). */
    readonly env: Record<string, string> = {},
  ) {}

  /** Start a node; one outside `addresses` (a node that joins later) gets no extra environment unless `env` says. */
  async start(address: string, view = this.addresses, env = this.addresses.includes(address) ? this.env : {}): Promise<Managed> {
    const p = await startNode({ address, view, api: this.api, netns: this.netnsOf(address), logDir: this.logDir, env });
    this.procs.set(address, p);
    return p;
  }

  async startAll(): Promise<void> {
    await Promise.all(this.addresses.map((a) => this.start(a)));
  }

  async kill(address: string): Promise<void> {
    const p = this.procs.get(address);
    if (p) await killProcess(p);
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
