/**
 * Starting and stopping real processes for the integration tests, so that
 * nothing outlives the test run: every process started through here is
 * stopped by the file's after hook, and, should mocha die first, killed when
 * the test process exits.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Cluster, ServerSettings } from '../../tools/cluster/cluster';
import { Managed, StartOptions, startProcess, stopProcess } from '../../tools/cluster/processes';
import { TestLayout, claimTestLayout } from './layout';

const live = new Set<Managed>();
let hooked = false;

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', () => {
    for (const p of live) {
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    }
  });
}

/** Remember a process so that it is killed if the test process exits first. */
export function track<T extends Managed>(p: T): T {
  hookExit();
  live.add(p);
  p.child.once('exit', () => live.delete(p));
  return p;
}

export async function startTracked(options: StartOptions): Promise<Managed> {
  return track(await startProcess(options));
}

export async function stopTracked(p: Managed | null | undefined): Promise<void> {
  if (!p) return;
  await stopProcess(p);
  live.delete(p);
}

export function isAlive(p: Managed): boolean {
  return p.child.exitCode === null && p.child.signalCode === null;
}

/** Fail early and clearly when the servers have not been compiled. */
export function requireBuilt(root: string): void {
  for (const name of ['serverDB', 'serverLB', 'serverQ']) {
    if (!existsSync(join(root, 'dist', `${name}.js`))) {
      throw new Error(`dist/${name}.js is missing: run "npx tsc -p ." first`);
    }
  }
}

/**
 * A whole cluster (Redis, Q, DBs, LB) on the layout's ports. If any part
 * fails to start, whatever did start is stopped before the error is thrown.
 */
export async function startCluster(layout: TestLayout, settings: ServerSettings): Promise<Cluster> {
  requireBuilt(layout.root);
  const cluster = new Cluster(layout);
  try {
    await cluster.checkPrerequisites();
    await cluster.startBackends();
    await cluster.startServers(settings);
  } catch (e) {
    await stopCluster(cluster);
    throw e;
  }
  for (const p of allProcesses(cluster)) track(p);
  return cluster;
}

function isManaged(x: unknown): x is Managed {
  return typeof x === 'object' && x !== null && 'child' in x && 'role' in x && 'port' in x;
}

/** Every process the cluster holds (Redis servers, the queue and its Redis, DBs, LB), whatever its fields are called. */
export function allProcesses(cluster: Cluster): Managed[] {
  return Object.values(cluster)
    .flatMap((v: unknown) => (Array.isArray(v) ? v : [v]))
    .filter(isManaged);
}

/** Stop everything the cluster started; never throws. */
export async function stopCluster(cluster: Cluster | null | undefined): Promise<void> {
  if (!cluster) return;
  const procs = allProcesses(cluster);
  await cluster.stopAll().catch(() => undefined);
  // Anything stopAll missed (a half-started cluster) goes too.
  await Promise.all(procs.map((p) => stopProcess(p).catch(() => undefined)));
  for (const p of procs) live.delete(p);
}

/** A redis-server of a test file's own: the file's claimed layout, the port it listens on, and its process (tracked). */
export interface OwnRedis {
  layout: TestLayout;
  port: number;
  process: Managed;
}

/** Start a redis-server on a port block of the file's own, after checking that redis-server is installed. */
export async function startOwnRedis(name: string, block: number): Promise<OwnRedis> {
  const layout = await claimTestLayout(name, block, 1);
  const cluster = new Cluster(layout);
  await cluster.checkPrerequisites();
  const process = track(await cluster.startRedis(0));
  return { layout, port: cluster.redisPort(0), process };
}
