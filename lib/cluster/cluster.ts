/**
 * A whole cluster on this machine: ndb Redis servers, the queue, ndb DBs and
 * the LB, with the ports of SPEC.md by default.
 */
import { join, resolve } from 'node:path';
import { Defaults } from '../config';
import { mkdirSync } from 'node:fs';
import Redis from 'ioredis';
import { Managed, assertPortFree, requireRedisServer, startProcess, stopProcess } from './processes';

export interface Layout {
  host: string;
  ndb: number;
  lbPort: number;
  dbBasePort: number;
  redisBasePort: number;
  qPort: number;
  /** Folder with config.json and dist/. */
  root: string;
  logDir: string;
  dataDir: string;
}

export interface ServerSettings {
  /** ndb as the LB sees it; defaults to the cluster's. */
  lbNdb?: number;
  digestLength: number;
}

export class Cluster {
  redis: Managed[] = [];
  queue: Managed | null = null;
  dbs: Managed[] = [];
  lb: Managed | null = null;

  constructor(readonly layout: Layout) {}

  redisPort(i: number): number {
    return this.layout.redisBasePort + i;
  }

  dbPort(i: number): number {
    return this.layout.dbBasePort + i;
  }

  private script(name: string): string {
    return join(this.layout.root, 'dist', `${name}.js`);
  }

  async checkPrerequisites(): Promise<void> {
    requireRedisServer();
    const { host, ndb } = this.layout;
    for (let i = 0; i < ndb; i++) await assertPortFree(host, this.redisPort(i), `redis ${i}`);
    await assertPortFree(host, this.layout.qPort, 'queue');
    for (let i = 0; i < ndb; i++) await assertPortFree(host, this.dbPort(i), `db ${i}`);
    await assertPortFree(host, this.layout.lbPort, 'load balancer');
  }

  async startRedis(i: number): Promise<Managed> {
    const port = this.redisPort(i);
    const dir = join(this.layout.dataDir, `redis-${port}`);
    mkdirSync(dir, { recursive: true });
    const managed = await startProcess({
      role: `redis ${i}`,
      host: this.layout.host,
      port,
      command: 'redis-server',
      args: [
        '--port', String(port), '--bind', this.layout.host, '--dir', dir,
        '--logfile', join(this.layout.logDir, `redis-${port}.log`),
        '--save', '', '--appendonly', 'no', '--daemonize', 'no',
      ],
      logfile: join(this.layout.logDir, `redis-${port}.log`),
    });
    this.redis[i] = managed;
    return managed;
  }

  async startQueue(): Promise<Managed> {
    const { host, qPort, ndb } = this.layout;
    const logfile = join(this.layout.logDir, 'serverQ0.log');
    this.queue = await startProcess({
      role: 'queue', host, port: qPort, command: process.execPath,
      args: [this.script('serverQ'), JSON.stringify({ id: 0, host, port: qPort, nq: 1, ndb, logfile })],
      logfile,
    });
    return this.queue;
  }

  async startDB(i: number, settings: ServerSettings): Promise<Managed> {
    const { host, ndb, qPort, dbBasePort } = this.layout;
    const logfile = join(this.layout.logDir, `serverDB${i}.log`);
    const config = {
      id: i, host, servers: [{ host, port: this.redisPort(i) }], hostport: this.dbPort(i), qport: qPort, qhost: host,
      ndb, baseDBport: dbBasePort, 'digest-length': settings.digestLength, logfile,
    };
    const managed = await startProcess({
      role: `db ${i}`, host, port: this.dbPort(i), command: process.execPath,
      args: [this.script('serverDB'), JSON.stringify(config)], logfile,
    });
    this.dbs[i] = managed;
    return managed;
  }

  async startLB(settings: ServerSettings): Promise<Managed> {
    const { host, ndb, lbPort, dbBasePort } = this.layout;
    const logfile = join(this.layout.logDir, 'serverLB0.log');
    const config = { id: 0, host, port: lbPort, ndb: settings.lbNdb ?? ndb, 'db-base-port': dbBasePort, 'db-host': host, logfile };
    this.lb = await startProcess({
      role: 'load balancer', host, port: lbPort, command: process.execPath,
      args: [this.script('serverLB'), JSON.stringify(config)], logfile,
    });
    return this.lb;
  }

  async startBackends(): Promise<void> {
    await Promise.all(Array.from({ length: this.layout.ndb }, (_, i) => this.startRedis(i)));
    await this.startQueue();
  }

  async startServers(settings: ServerSettings): Promise<void> {
    await Promise.all(Array.from({ length: this.layout.ndb }, (_, i) => this.startDB(i, settings)));
    await this.startLB(settings);
  }

  async stopServers(): Promise<void> {
    if (this.lb) await stopProcess(this.lb);
    this.lb = null;
    await Promise.all(this.dbs.map((p) => stopProcess(p)));
    this.dbs = [];
  }

  async stopBackends(options: { leaveRedis?: boolean } = {}): Promise<void> {
    if (this.queue) await stopProcess(this.queue);
    this.queue = null;
    if (!options.leaveRedis) await Promise.all(this.redis.map((p) => stopProcess(p)));
    this.redis = [];
  }

  async stopAll(options: { leaveRedis?: boolean } = {}): Promise<void> {
    await this.stopServers();
    await this.stopBackends(options);
  }

  /** A client of Redis i, for flushing and inspection; the caller closes it. */
  redisClient(i: number): Redis {
    return new Redis({ host: this.layout.host, port: this.redisPort(i), lazyConnect: false, maxRetriesPerRequest: 1 });
  }

  async flushRedis(): Promise<void> {
    await Promise.all(
      Array.from({ length: this.layout.ndb }, async (_, i) => {
        const client = this.redisClient(i);
        try {
          await client.flushall();
        } finally {
          client.disconnect();
        }
      }),
    );
  }
}

/** The layout config.json describes: SPEC.md's ports, var/log and var/db under the project root. */
export function layoutFrom(defaults: Defaults, root: string, ndb = defaults.ndb): Layout {
  return {
    host: defaults.host,
    ndb,
    lbPort: defaults.lb.port,
    dbBasePort: defaults.db['base-port'],
    redisBasePort: defaults.redis['base-port'],
    qPort: defaults.q.port,
    root,
    logDir: resolve(root, defaults['log-dir']),
    dataDir: resolve(root, defaults['data-dir']),
  };
}
