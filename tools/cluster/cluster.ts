/**
 * A whole cluster on this machine: ndb Redis servers, the queue, ndb DBs and
 * the LB, on the contract's ports by default (docs/protocol.md).
 */
import { randomBytes } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { Defaults } from '../../lib/config';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import Redis from 'ioredis';
import { Managed, NODE_SERVER_FLAGS, answersWithPid, assertPortFree, exited, requireRedisServer, startProcess, stopProcess } from './processes';

export interface Layout {
  host: string;
  ndb: number;
  lbPort: number;
  dbBasePort: number;
  redisBasePort: number;
  qPort: number;
  /** The queue's own Redis, which keeps its channels across a crash. */
  qRedisPort: number;
  /** DB settings from config.json, the defaults for every start. */
  dbDefaults: Defaults['db'];
  /** Folder with config.json and dist/. */
  root: string;
  logDir: string;
  dataDir: string;
  /**
   * Start the DBs' Redis servers with Redis's own defaults (RDB snapshots, no
   * append-only file), as the original course harness did, rather than with
   * the append-only file this project runs them with.
   */
  redisDefaults?: boolean;
  /**
   * The cluster secret's file (npm start: var/secret), made if missing: the
   * DBs and the queue get it as their secret-file, and every Redis requires
   * it as its password. None: internal routes are open, as the original
   * harness runs them.
   */
  secretFile?: string;
}

export interface ServerSettings {
  /** ndb as the LB sees it; defaults to the cluster's. */
  lbNdb?: number;
  /** ndb as every DB sees it (ids stay 0..ndb-1 of the cluster); defaults to the cluster's. */
  dbNdb?: number;
  digestLength?: number;
  flushAfterMs?: number;
  antiEntropyIntervalMs?: number;
  /** Extra DB config keys (e.g. "peers", "hostport" for a proxied DB), per DB. */
  dbOverrides?: (i: number) => Record<string, unknown>;
  /** Extra arguments for node before the script (e.g. --cpu-prof). */
  nodeArgs?: string[];
  /** How long a DB may take to listen (startProcess's default otherwise): over many teas it indexes them first. */
  dbStartTimeoutMs?: number;
}

export class Cluster {
  redis: Managed[] = [];
  queueRedis: Managed | null = null;
  queue: Managed | null = null;
  dbs: Managed[] = [];
  lb: Managed | null = null;

  constructor(readonly layout: Layout) {}

  /** The cluster secret (made on first use), or null when the layout has none. */
  get secret(): string | null {
    const file = this.layout.secretFile;
    if (file === undefined) return null;
    if (!existsSync(file)) {
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, `${randomBytes(24).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
    }
    return readFileSync(file, 'utf8').trim();
  }

  /** The password of every Redis of the cluster: the secret. */
  get redisPassword(): string | undefined {
    return this.secret ?? undefined;
  }

  /** The config keys that hand the secret to a DB or the queue. */
  private secretKeys(): Record<string, string> {
    return this.layout.secretFile === undefined ? {} : { 'secret-file': this.layout.secretFile };
  }

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
    await assertPortFree(host, this.layout.qRedisPort, "queue's redis");
    for (let i = 0; i < ndb; i++) await assertPortFree(host, this.dbPort(i), `db ${i}`);
    await assertPortFree(host, this.layout.lbPort, 'load balancer');
  }

  /**
   * A Redis with its data in its own folder under dataDir. Append-only file
   * with fsync every second: a SIGKILL of Redis loses nothing it answered
   * (the write is in the kernel before the reply); a crash of the machine may
   * lose the last second.
   */
  private async launchRedis(role: string, port: number, persistence = true): Promise<Managed> {
    const dir = join(this.layout.dataDir, `redis-${port}`);
    mkdirSync(dir, { recursive: true });
    const logfile = join(this.layout.logDir, `redis-${port}.log`);
    // The password goes in a file only this user reads, not on the command line where ps shows it.
    const secret = this.secret;
    const conf = join(dir, 'auth.conf');
    if (secret !== null) writeFileSync(conf, `requirepass ${secret}\n`, { mode: 0o600 });
    return startProcess({
      role,
      host: this.layout.host,
      port,
      command: 'redis-server',
      args: [
        ...(secret !== null ? [conf] : []),
        '--port', String(port), '--bind', this.layout.host, '--dir', dir, '--logfile', logfile, '--daemonize', 'no',
        ...(persistence ? ['--save', '', '--appendonly', 'yes', '--appendfsync', 'everysec'] : []),
      ],
      logfile,
    });
  }

  async startRedis(i: number): Promise<Managed> {
    const managed = await this.launchRedis(`redis ${i}`, this.redisPort(i), !this.layout.redisDefaults);
    this.redis[i] = managed;
    return managed;
  }

  async startQueueRedis(): Promise<Managed> {
    this.queueRedis = await this.launchRedis("queue's redis", this.layout.qRedisPort);
    return this.queueRedis;
  }

  async startQueue(nodeArgs: string[] = []): Promise<Managed> {
    const { host, qPort, ndb } = this.layout;
    const logfile = join(this.layout.logDir, 'serverQ0.log');
    this.queue = await startProcess({
      role: 'queue', host, port: qPort, command: process.execPath,
      args: [
        ...NODE_SERVER_FLAGS,
        ...nodeArgs,
        this.script('serverQ'),
        JSON.stringify({ id: 0, host, port: qPort, nq: 1, ndb, logfile, redis: { host, port: this.layout.qRedisPort }, ...this.secretKeys() }),
      ],
      logfile,
    });
    return this.queue;
  }

  /** The JSON argument DB i starts with. */
  dbConfig(i: number, settings: ServerSettings): Record<string, unknown> {
    const { host, ndb, qPort, dbBasePort, dbDefaults } = this.layout;
    return {
      id: i, host, servers: [{ host, port: this.redisPort(i) }], hostport: this.dbPort(i), qport: qPort, qhost: host,
      ndb: settings.dbNdb ?? ndb, baseDBport: dbBasePort,
      'digest-length': settings.digestLength ?? dbDefaults['digest-length'],
      'flush-after-ms': settings.flushAfterMs ?? dbDefaults['flush-after-ms'],
      'anti-entropy-interval-ms': settings.antiEntropyIntervalMs ?? dbDefaults['anti-entropy-interval-ms'],
      logfile: join(this.layout.logDir, `serverDB${i}.log`),
      ...this.secretKeys(),
      ...(settings.dbOverrides?.(i) ?? {}),
    };
  }

  async startDB(i: number, settings: ServerSettings): Promise<Managed> {
    const config = this.dbConfig(i, settings);
    const managed = await startProcess({
      role: `db ${i}`, host: this.layout.host, port: config.hostport as number, command: process.execPath,
      args: [...NODE_SERVER_FLAGS, ...(settings.nodeArgs ?? []), this.script('serverDB'), JSON.stringify(config)], logfile: config.logfile as string,
      timeoutMs: settings.dbStartTimeoutMs, ready: answersWithPid(this.layout.host, config.hostport as number),
    });
    this.dbs[i] = managed;
    return managed;
  }

  async startLB(settings: ServerSettings = {}): Promise<Managed> {
    const { host, ndb, lbPort, dbBasePort } = this.layout;
    const logfile = join(this.layout.logDir, 'serverLB0.log');
    const config = { id: 0, host, port: lbPort, ndb: settings.lbNdb ?? ndb, 'db-base-port': dbBasePort, 'db-host': host, logfile };
    this.lb = await startProcess({
      role: 'load balancer', host, port: lbPort, command: process.execPath,
      args: [...NODE_SERVER_FLAGS, ...(settings.nodeArgs ?? []), this.script('serverLB'), JSON.stringify(config)], logfile,
      ready: answersWithPid(host, lbPort),
    });
    return this.lb;
  }

  async startBackends(queueNodeArgs: string[] = []): Promise<void> {
    await Promise.all([...Array.from({ length: this.layout.ndb }, (_, i) => this.startRedis(i)), this.startQueueRedis()]);
    await this.startQueue(queueNodeArgs);
  }

  async startServers(settings: ServerSettings = {}): Promise<void> {
    await Promise.all(Array.from({ length: this.layout.ndb }, (_, i) => this.startDB(i, settings)));
    await this.startLB(settings);
  }

  async stopServers(): Promise<void> {
    if (this.lb) await stopProcess(this.lb);
    this.lb = null;
    await Promise.all(this.dbs.map((p) => stopProcess(p)));
    this.dbs = [];
  }

  /**
   * What the original course harness does between two scenarios: FLUSHALL
   * every Redis while the DBs and the LB still run, SIGTERM them without
   * waiting, clear the queue, and start new ones on the same ports at once.
   * Resolves once the new servers answer (the old ones exit on their own).
   */
  async restartLikeTheOriginalHarness(settings: ServerSettings, clearQueue: () => Promise<unknown>): Promise<void> {
    await this.flushRedis();
    const old = [...this.dbs, ...(this.lb ? [this.lb] : [])];
    for (const p of old) p.child.kill('SIGTERM');
    await clearQueue();
    this.dbs = [];
    this.lb = null;
    await this.startServers(settings);
    await Promise.all(old.map(exited));
  }

  async stopBackends(options: { leaveRedis?: boolean } = {}): Promise<void> {
    if (this.queue) await stopProcess(this.queue);
    this.queue = null;
    if (this.queueRedis) await stopProcess(this.queueRedis);
    this.queueRedis = null;
    if (!options.leaveRedis) await Promise.all(this.redis.map((p) => stopProcess(p)));
    this.redis = [];
  }

  async stopAll(options: { leaveRedis?: boolean } = {}): Promise<void> {
    await this.stopServers();
    await this.stopBackends(options);
  }

  /** A client of Redis i, for flushing and inspection; the caller closes it. */
  redisClient(i: number): Redis {
    return new Redis({ host: this.layout.host, port: this.redisPort(i), lazyConnect: false, maxRetriesPerRequest: 1, password: this.redisPassword });
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

/** The layout config.json describes: the contract's ports, var/log and var/db under the project root. */
export function layoutFrom(defaults: Defaults, root: string, ndb = defaults.ndb): Layout {
  return {
    host: defaults.host,
    ndb,
    lbPort: defaults.lb.port,
    dbBasePort: defaults.db['base-port'],
    redisBasePort: defaults.redis['base-port'],
    qPort: defaults.q.port,
    qRedisPort: defaults.q['redis-port'],
    dbDefaults: defaults.db,
    root,
    logDir: resolve(root, defaults['log-dir']),
    dataDir: resolve(root, defaults['data-dir']),
  };
}
