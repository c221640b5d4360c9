/**
 * Starting and stopping the two systems the benchmark measures, each on a
 * port block of its own (tools/ports.ts: store 10100-10199, baseline
 * 10200-10299), apart from the contract's defaults, the tests', the fault
 * suite's and each other's, and below Linux's ephemeral range:
 *
 *             LB      DB i          Redis i       Q (and its Redis)
 *   store     10100   10120 + i     10140 + i     10101 (10102)
 *   baseline  10200   10220 + i     10240 + i     -
 *
 * The store is the product, started with its own orchestrator
 * (tools/cluster/cluster.ts); the baseline is bench/baseline/, with Redis
 * servers started by the same orchestrator so that they are configured alike.
 * Every process started is registered, so that stopEverything() (and, as a
 * last resort, killEverythingNow() on exit) leaves nothing behind.
 */
import { ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Defaults } from '../lib/config';
import { Cluster, Layout, layoutFrom } from '../tools/cluster/cluster';
import { Managed, NODE_SERVER_FLAGS, assertPortFree, requireRedisServer, startProcess, stopProcess } from '../tools/cluster/processes';
import { onPorts, portsFor } from '../tools/ports';
import { fnv1a } from './baseline/common';
import { flushRedis, settleStore } from './redis';

export type SystemKind = 'store' | 'baseline';

/** A DB may index its data before it listens (the store's anti-entropy index): give it time with many teas. */
const DB_START_TIMEOUT_MS = 15 * 60_000;

export interface ProcessInfo {
  role: string;
  pid: number | undefined;
}

export interface System {
  kind: SystemKind;
  ndb: number;
  host: string;
  lbUrl: string;
  redisPorts: number[];
  /** Every Redis of the system: the DBs' and, for the store, the queue's. */
  allRedisPorts: number[];
  /** Which Redis servers hold a tea: every one for the store (every DB holds every tea), the owner's for the baseline. */
  holders(tea: string): number[];
  processes(): ProcessInfo[];
  dbPids(): number[];
  lbPid(): number | undefined;
  /** Stop the LB and the DBs, leaving Redis (and the store's queue) running. */
  stopServers(): Promise<void>;
  /** Store only: wait until replication has caught up (queue and digests empty); seconds waited. */
  settle?(): Promise<number>;
  /** Start the DBs and the LB again, over whatever Redis now holds. */
  startServers(): Promise<void>;
  /** Forget everything but the processes: FLUSHALL every Redis, and empty the store's queue (DELETE /clear). Servers stopped. */
  wipe(): Promise<void>;
  stop(): Promise<void>;
}

const live = new Set<{ children(): ChildProcess[]; stop(): Promise<void> }>();

/** Stop every process this benchmark started that is still running. */
export async function stopEverything(): Promise<void> {
  const all = [...live];
  live.clear();
  await Promise.all(all.map((s) => s.stop().catch(() => undefined)));
}

/** Synchronous last resort (process 'exit'): SIGKILL whatever is left. */
export function killEverythingNow(): void {
  for (const s of live) {
    for (const c of s.children()) {
      if (c.exitCode === null && c.signalCode === null) {
        try {
          c.kill('SIGKILL');
        } catch {
          /* already gone */
        }
      }
    }
  }
}

/** Register a process that is not part of a system (the HTTP client benchmark's server). */
export function track(m: Managed): { stop(): Promise<void> } {
  const entry = {
    children: () => [m.child],
    stop: async () => {
      live.delete(entry);
      await stopProcess(m);
    },
  };
  live.add(entry);
  return entry;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const managed = (xs: (Managed | null | undefined)[]) => xs.filter((m): m is Managed => !!m);

/** config.json's layout on the system's own ports (tools/ports.ts), and logs and data under var/bench/{log,db}/<kind>-ndb<n>/. */
export function benchLayout(kind: SystemKind, defaults: Defaults, root: string, ndb: number): Layout {
  return onPorts(
    {
      ...layoutFrom(defaults, root, ndb),
      logDir: join(root, 'var', 'bench', 'log', `${kind}-ndb${ndb}`),
      dataDir: join(root, 'var', 'bench', 'db', `${kind}-ndb${ndb}`),
    },
    portsFor(kind === 'store' ? 'bench-store' : 'bench-baseline'),
  );
}

/** Run `start` with NODE_OPTIONS extended by `extra`, so that the processes it spawns get them. */
async function withNodeOptions<T>(extra: string | undefined, start: () => Promise<T>): Promise<T> {
  if (!extra) return start();
  const before = process.env.NODE_OPTIONS;
  process.env.NODE_OPTIONS = [before, extra].filter(Boolean).join(' ');
  try {
    return await start();
  } finally {
    if (before === undefined) delete process.env.NODE_OPTIONS;
    else process.env.NODE_OPTIONS = before;
  }
}

export interface StoreOptions {
  root: string;
  defaults: Defaults;
  ndb: number;
  digestLength: number;
  /** Extra arguments for node before the script, for the DB processes, the LB and the queue (e.g. --cpu-prof ...). */
  dbNodeArgs?: string[];
  lbNodeArgs?: string[];
  queueNodeArgs?: string[];
  /** Extra NODE_OPTIONS for the DBs and the LB (flags that NODE_OPTIONS allows). */
  nodeOptions?: string;
}

export async function startStore(o: StoreOptions): Promise<System> {
  const layout = benchLayout('store', o.defaults, o.root, o.ndb);
  const { host } = layout;
  rmSync(layout.logDir, { recursive: true, force: true });
  rmSync(layout.dataDir, { recursive: true, force: true });
  const cluster = new Cluster(layout);
  await cluster.checkPrerequisites();
  const all = () => managed([...cluster.redis, cluster.queueRedis, cluster.queue, ...cluster.dbs, cluster.lb]);
  const entry = {
    children: () => all().map((m) => m.child),
    stop: async () => {
      live.delete(entry);
      await cluster.stopAll();
    },
  };
  live.add(entry);
  const settings = { digestLength: o.digestLength };
  const startServers = async () => {
    // A long start-up timeout: with many teas in Redis a DB indexes them before it listens.
    const dbSettings = { ...settings, nodeArgs: o.dbNodeArgs ?? [], dbStartTimeoutMs: DB_START_TIMEOUT_MS };
    await withNodeOptions(o.nodeOptions, () => Promise.all(range(o.ndb).map((i) => cluster.startDB(i, dbSettings))));
    await withNodeOptions(o.nodeOptions, () => cluster.startLB({ ...settings, nodeArgs: o.lbNodeArgs ?? [] }));
  };
  try {
    await cluster.startBackends(o.queueNodeArgs ?? []);
    await startServers();
  } catch (e) {
    await entry.stop();
    throw e;
  }
  return {
    kind: 'store',
    ndb: o.ndb,
    host,
    lbUrl: `http://${host}:${layout.lbPort}`,
    redisPorts: range(o.ndb).map((i) => cluster.redisPort(i)),
    allRedisPorts: [...range(o.ndb).map((i) => cluster.redisPort(i)), layout.qRedisPort],
    holders: () => range(o.ndb),
    processes: () => all().map((m) => ({ role: m.role, pid: m.child.pid })),
    dbPids: () => managed(cluster.dbs).map((m) => m.child.pid).filter((p): p is number => p !== undefined),
    lbPid: () => cluster.lb?.child.pid,
    stopServers: () => cluster.stopServers(),
    startServers,
    settle: () => settleStore(`http://${host}:${layout.qPort}`, range(o.ndb).map((i) => `http://${host}:${cluster.dbPort(i)}`)),
    wipe: async () => {
      const res = await fetch(`http://${host}:${layout.qPort}/clear`, { method: 'DELETE', headers: { accept: 'application/json' } });
      if (res.status !== 200) throw new Error(`DELETE /clear on the queue answered ${res.status}`);
      await res.arrayBuffer();
      await cluster.flushRedis();
    },
    stop: entry.stop,
  };
}

export interface BaselineOptions {
  root: string;
  defaults: Defaults;
  ndb: number;
  httpClient: string;
}

export async function startBaseline(o: BaselineOptions): Promise<System> {
  const layout = benchLayout('baseline', o.defaults, o.root, o.ndb);
  const { host } = layout;
  rmSync(layout.logDir, { recursive: true, force: true });
  rmSync(layout.dataDir, { recursive: true, force: true });
  const redisCluster = new Cluster(layout); // for its Redis servers only
  requireRedisServer();
  for (const i of range(o.ndb)) await assertPortFree(host, layout.redisBasePort + i, `baseline redis ${i}`);
  for (const i of range(o.ndb)) await assertPortFree(host, layout.dbBasePort + i, `baseline db ${i}`);
  await assertPortFree(host, layout.lbPort, 'baseline lb');
  let dbs: Managed[] = [];
  let lb: Managed | null = null;
  const script = (name: string) => join(o.root, 'dist', 'bench', 'baseline', `${name}.js`);
  const all = () => managed([...redisCluster.redis, ...dbs, lb]);
  const stopServers = async () => {
    if (lb) await stopProcess(lb);
    lb = null;
    await Promise.all(dbs.map((m) => stopProcess(m)));
    dbs = [];
  };
  const startServers = async () => {
    await Promise.all(
      range(o.ndb).map(async (i) => {
        const port = layout.dbBasePort + i;
        const config = { id: i, host, port, redisHost: host, redisPort: layout.redisBasePort + i };
        dbs[i] = await startProcess({
          role: `baseline db ${i}`, host, port, command: process.execPath, args: [...NODE_SERVER_FLAGS, script('dbBaseline'), JSON.stringify(config)],
          logfile: join(layout.logDir, `dbBaseline${i}.log`),
        });
      }),
    );
    const config = { host, port: layout.lbPort, ndb: o.ndb, dbHost: host, dbBasePort: layout.dbBasePort, httpClient: o.httpClient };
    lb = await startProcess({
      role: 'baseline lb', host, port: layout.lbPort, command: process.execPath,
      args: [...NODE_SERVER_FLAGS, script('lbBaseline'), JSON.stringify(config)], logfile: join(layout.logDir, 'lbBaseline.log'),
    });
  };
  const entry = {
    children: () => all().map((m) => m.child),
    stop: async () => {
      live.delete(entry);
      await stopServers();
      await redisCluster.stopBackends();
    },
  };
  live.add(entry);
  try {
    await Promise.all(range(o.ndb).map((i) => redisCluster.startRedis(i)));
    await startServers();
  } catch (e) {
    await entry.stop();
    throw e;
  }
  return {
    kind: 'baseline',
    ndb: o.ndb,
    host,
    lbUrl: `http://${host}:${layout.lbPort}`,
    redisPorts: range(o.ndb).map((i) => layout.redisBasePort + i),
    allRedisPorts: range(o.ndb).map((i) => layout.redisBasePort + i),
    holders: (tea) => [fnv1a(tea) % o.ndb],
    processes: () => all().map((m) => ({ role: m.role, pid: m.child.pid })),
    dbPids: () => dbs.map((m) => m.child.pid).filter((p): p is number => p !== undefined),
    lbPid: () => lb?.child.pid,
    stopServers,
    startServers,
    wipe: () => flushRedis(host, range(o.ndb).map((i) => layout.redisBasePort + i)),
    stop: entry.stop,
  };
}

/** Resident memory of a process in bytes (Linux /proc), or NaN. */
export function rssBytes(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}
