/**
 * Cluster layouts for the integration tests, on ports that never clash with
 * SPEC.md's defaults (LB 2500, DBs 3000+, Redis 5555+, Q 6000 and its Redis
 * 6001, which `npm start` and the scenario runner use), nor with each other:
 * each test file takes its own block (an offset), so files can run one after
 * another or at the same time without colliding.
 *
 *   block b:  LB            12500 + b
 *             DB i          13000 + 20 b + i
 *             Redis i       15555 + 20 b + i
 *             Q             16000 + b
 *             Q's Redis     16100 + b
 *             spare k       17000 + 20 b + k   (for a file's own extra servers)
 *
 * That is slot 0. When another run of this suite (another session, a CI job
 * on the same machine) already holds a block, claimTestLayout moves to the
 * same block in the next slot: every port above plus 1900, then plus 7600.
 * Those offsets keep all three slots apart from each other, from SPEC's
 * defaults, from the benchmark's ports (bench/systems.ts: 20500-26001) and
 * below Linux's ephemeral range (32768 and up).
 *
 * Logs and data go under var/test/<name>/ (var/test/<name>-slot<k>/ for slot k) in the project.
 */
import { rmSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { Layout, layoutFrom } from '../../tools/cluster/cluster';
import { loadDefaults, projectRoot } from '../../lib/server/boot';

/** Ports per block in the DB, Redis and spare ranges: so ndb is at most this. */
export const BLOCK_SIZE = 20;
/** Blocks per slot: 20 keeps block 19's Redis ports (up to 15954) below the first Q port (16000). */
export const BLOCKS = 20;
/** What each slot adds to every port. */
export const SLOT_OFFSETS = Object.freeze([0, 1900, 7600]);

/** The port blocks of the integration test files: one each, never shared. */
export const PORT_BLOCKS = Object.freeze({
  redisStore: 0,
  http: 1,
  startup: 2,
  journal: 3,
  link: 4,
});

export type TestLayout = Layout & {
  /** The block's k-th spare port (0 <= k < BLOCK_SIZE), for extra servers a test starts itself. */
  spare(k: number): number;
  /** var/test/<name>, where the logs and data of this layout live. */
  dir: string;
};

/** Every port field of Layout, and where it goes in block b. */
function portsOf(block: number, offset: number): Record<string, number> {
  return {
    lbPort: offset + 12500 + block,
    dbBasePort: offset + 13000 + BLOCK_SIZE * block,
    redisBasePort: offset + 15555 + BLOCK_SIZE * block,
    qPort: offset + 16000 + block,
    qRedisPort: offset + 16100 + block,
  };
}

export interface LayoutOptions {
  /** Remove var/test/<name> first (default true). */
  clean?: boolean;
  /** Index into SLOT_OFFSETS (default 0). */
  slot?: number;
}

/** The layout of `block` in a given slot (0 by default), without checking that its ports are free. */
export function testLayout(name: string, block: number, ndb = 3, options: LayoutOptions = {}): TestLayout {
  if (!Number.isInteger(block) || block < 0 || block >= BLOCKS) throw new RangeError(`port block must be 0..${BLOCKS - 1}, got ${block}`);
  if (!Number.isInteger(ndb) || ndb < 1 || ndb > BLOCK_SIZE) throw new RangeError(`ndb must be 1..${BLOCK_SIZE}, got ${ndb}`);
  const slot = options.slot ?? 0;
  const offset = SLOT_OFFSETS[slot];
  if (offset === undefined) throw new RangeError(`slot must be 0..${SLOT_OFFSETS.length - 1}, got ${slot}`);
  const root = projectRoot();
  const dir = join(root, 'var', 'test', slot === 0 ? name : `${name}-slot${slot}`);
  if (options.clean ?? true) rmSync(dir, { recursive: true, force: true });
  // Start from config.json's layout, so settings added to Layout later come with their defaults ...
  const base = layoutFrom(loadDefaults(), root, ndb) as Layout & Record<string, unknown>;
  const ports = portsOf(block, offset);
  // ... but never a port: one this helper does not know would be one of SPEC's defaults.
  for (const key of Object.keys(base)) {
    if (/port/i.test(key) && !(key in ports)) {
      throw new Error(`test/support/layout.ts does not know the Layout port "${key}": give it a test port before using it`);
    }
  }
  return {
    ...base,
    ...ports,
    host: '127.0.0.1',
    ndb,
    root,
    logDir: join(dir, 'log'),
    dataDir: join(dir, 'db'),
    dir,
    spare(k: number): number {
      if (!Number.isInteger(k) || k < 0 || k >= BLOCK_SIZE) throw new RangeError(`spare port index must be 0..${BLOCK_SIZE - 1}`);
      return offset + 17000 + BLOCK_SIZE * block + k;
    },
  };
}

/** Every port a layout may use: its servers' and its spares. */
export function portsOfLayout(layout: TestLayout): number[] {
  const ports = [layout.lbPort, layout.qPort];
  const qRedisPort = (layout as unknown as Record<string, unknown>).qRedisPort;
  if (typeof qRedisPort === 'number') ports.push(qRedisPort);
  for (let i = 0; i < layout.ndb; i++) ports.push(layout.dbBasePort + i, layout.redisBasePort + i);
  for (let k = 0; k < BLOCK_SIZE; k++) ports.push(layout.spare(k));
  return ports;
}

function isFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/**
 * The layout of `block` in the first slot whose ports are all free, so that
 * two runs of the suite at once do not collide. Throws, naming the busy
 * ports, when every slot is taken.
 */
export async function claimTestLayout(name: string, block: number, ndb = 3): Promise<TestLayout> {
  const busy: string[] = [];
  for (let slot = 0; slot < SLOT_OFFSETS.length; slot++) {
    const candidate = testLayout(name, block, ndb, { slot, clean: false });
    const taken: number[] = [];
    for (const port of portsOfLayout(candidate)) if (!(await isFree(candidate.host, port))) taken.push(port);
    if (taken.length === 0) return testLayout(name, block, ndb, { slot, clean: true });
    busy.push(`slot ${slot}: ${taken.join(', ')}`);
  }
  throw new Error(`every slot of port block ${block} is in use (${busy.join('; ')}): is another run of the integration tests still going?`);
}
