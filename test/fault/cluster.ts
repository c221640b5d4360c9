/**
 * What the fault suite's phases share: the Fault and Phase types, and the
 * cluster they break, wired for it. NDB DBs on the suite's own ports
 * (tools/ports.ts); DB 2 lives behind proxies so that a phase can cut it
 * off, and the other DBs reach the queue through one more proxy so that a
 * phase can cut the queue off:
 *
 *   - the LB, the other DBs and the suite reach DB 2 on its advertised port
 *     through `inbound`, while it really listens on PROXIED_PRIVATE_PORT;
 *   - DB 2 reaches the queue through `toQueue` and DB j through `toPeer[j]`;
 *   - every other DB reaches the queue through `queueFront`.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Defaults } from '../../lib/config';
import { Cluster, Layout, ServerSettings, layoutFrom } from '../../tools/cluster/cluster';
import { assertPortFree } from '../../tools/cluster/processes';
import { onPorts, portsFor } from '../../tools/ports';
import { Proxy } from './proxy';
import type { Report } from './report';

export const NDB = 4;
const PORTS = portsFor('fault');
/** The DB that lives behind proxies, and where it really listens. */
export const PROXIED = 2;
const PROXIED_PRIVATE_PORT = PORTS.spare(0);
const QUEUE_PROXY_PORT = PORTS.spare(1);
/** The other DBs reach the queue through this proxy, so phase g can cut the queue off. */
const SHARED_QUEUE_PROXY_PORT = PORTS.spare(2);
/** DB 2 reaches DB j through the proxy on this + j. */
const PEER_PROXY_BASE = PORTS.spare(10);

export interface Fault {
  /** What is down, for the report: "db1 down". */
  what: string;
  inject(): Promise<void>;
  holdMs: number;
  restore(): Promise<void>;
  /** The LB itself is down: writes in the window fail by design; reported apart. */
  lbDown?: boolean;
}

export interface Phase {
  key: string;
  title: string;
  faults: () => Fault[];
  /** The DB whose repair the phase is about, named in the convergence check. */
  repairs?: string;
}

/** A phase of the suite, made for the wired cluster: one per file under test/fault/faults/. */
export type PhaseFactory = (fc: FaultCluster, report: Report) => Phase;

export class FaultCluster {
  readonly layout: Layout;
  readonly cluster: Cluster;
  /** Every proxy in front of or behind DB 2: cut them all and DB 2 is cut off. */
  readonly proxies: Proxy[];
  /** DB 2's way to the queue, and the other DBs' way to it. */
  readonly toQueue: Proxy;
  readonly queueFront: Proxy;
  readonly settings: ServerSettings;
  readonly dbUrls: string[];

  /** The layout under var/fault/ (emptied first), and the proxies, none listening yet. */
  constructor(defaults: Defaults, root: string) {
    const dir = join(root, 'var', 'fault');
    rmSync(dir, { recursive: true, force: true });
    this.layout = onPorts({ ...layoutFrom(defaults, root, NDB), logDir: join(dir, 'log'), dataDir: join(dir, 'db') }, PORTS);
    const { host } = this.layout;
    const cluster = (this.cluster = new Cluster(this.layout));
    const inbound = new Proxy(cluster.dbPort(PROXIED), host, PROXIED_PRIVATE_PORT);
    this.toQueue = new Proxy(QUEUE_PROXY_PORT, host, this.layout.qPort);
    const toPeer = new Map<number, Proxy>();
    for (let j = 0; j < NDB; j++) if (j !== PROXIED) toPeer.set(j, new Proxy(PEER_PROXY_BASE + j, host, cluster.dbPort(j)));
    this.proxies = [inbound, this.toQueue, ...toPeer.values()];
    this.queueFront = new Proxy(SHARED_QUEUE_PROXY_PORT, host, this.layout.qPort);
    this.settings = {
      dbOverrides: (i) =>
        i !== PROXIED
          ? { qport: SHARED_QUEUE_PROXY_PORT }
          : {
              hostport: PROXIED_PRIVATE_PORT,
              qport: QUEUE_PROXY_PORT,
              peers: Array.from({ length: NDB }, (_, j) => ({ host, port: j === PROXIED ? cluster.dbPort(j) : PEER_PROXY_BASE + j })),
            },
    };
    this.dbUrls = Array.from({ length: NDB }, (_, i) => `http://${host}:${cluster.dbPort(i)}`);
  }

  get lbUrl(): string {
    return `http://${this.layout.host}:${this.layout.lbPort}`;
  }

  /** The proxies listening, then Redis, the queue, the DBs and the LB. */
  async start(): Promise<void> {
    await this.cluster.checkPrerequisites();
    await assertPortFree(this.layout.host, PROXIED_PRIVATE_PORT, `db ${PROXIED} (private)`);
    for (const p of [...this.proxies, this.queueFront]) await p.listen();
    await this.cluster.startBackends();
    await this.cluster.startServers(this.settings);
  }

  async stop(): Promise<void> {
    await this.cluster.stopAll().catch((e) => console.error(`while stopping the cluster: ${(e as Error).message}`));
    await Promise.all([...this.proxies, this.queueFront].map((p) => p.close()));
  }

  /** Last resort, if the suite dies some other way: SIGKILL every child still running. */
  killNow(): void {
    const { cluster } = this;
    const children = [...cluster.redis, cluster.queueRedis, cluster.queue, ...cluster.dbs, cluster.lb];
    for (const m of children) if (m && m.child.exitCode === null && m.child.signalCode === null) m.child.kill('SIGKILL');
  }

  /** Keys in Redis i. */
  async dbsize(i: number): Promise<number> {
    const client = this.cluster.redisClient(i);
    try {
      return await client.dbsize();
    } finally {
      client.disconnect();
    }
  }
}
