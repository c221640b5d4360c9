/**
 * Cluster layouts for the integration tests, on the ports tools/ports.ts
 * gives each test file: a block of its own (PORT_BLOCKS), so that files can
 * run one after another or at the same time without colliding, and never on
 * the contract's defaults, which `npm start` and the scenario runner use.
 *
 * When another run of this suite (another session, a CI job on the same
 * machine) already holds a file's block, claimTestLayout moves to the same
 * block in the next slot (tools/ports.ts: TEST_SLOTS of them).
 *
 * Logs and data go under var/test/<name>/ (var/test/<name>-slot<k>/ for slot k) in the project.
 */
import { rmSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { Layout, layoutFrom } from '../../tools/cluster/cluster';
import { MAX_NDB, TEST_FILES, TEST_SLOTS, onPorts, portsInUse, testPorts } from '../../tools/ports';
import { loadDefaults, projectRoot } from '../../lib/server/boot';

/** The port blocks of the integration test files: one each, never shared. */
export const PORT_BLOCKS = TEST_FILES;

export type TestLayout = Layout & {
  /** The block's k-th spare port (0 <= k < SPARE_PORTS), for extra servers a test starts itself. */
  spare(k: number): number;
  /** var/test/<name>, where the logs and data of this layout live. */
  dir: string;
};

export interface LayoutOptions {
  /** Remove var/test/<name> first (default true). */
  clean?: boolean;
  /** Which slot of the file's block (default 0). */
  slot?: number;
}

/** The layout of `block` in a given slot (0 by default), without checking that its ports are free. */
export function testLayout(name: string, block: number, ndb = 3, options: LayoutOptions = {}): TestLayout {
  if (!Number.isInteger(ndb) || ndb < 1 || ndb > MAX_NDB) throw new RangeError(`ndb must be 1..${MAX_NDB}, got ${ndb}`);
  const slot = options.slot ?? 0;
  const ports = testPorts(block, slot);
  const root = projectRoot();
  const dir = join(root, 'var', 'test', slot === 0 ? name : `${name}-slot${slot}`);
  if (options.clean ?? true) rmSync(dir, { recursive: true, force: true });
  // Start from config.json's layout, so settings added to Layout later come with their defaults.
  const base = onPorts(layoutFrom(loadDefaults(), root, ndb), ports);
  return { ...base, host: '127.0.0.1', ndb, root, logDir: join(dir, 'log'), dataDir: join(dir, 'db'), dir, spare: ports.spare };
}

/** Every port a layout may use: its servers' and its spares. */
export function portsOfLayout(layout: TestLayout): number[] {
  return portsInUse(layout, layout.ndb);
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
  for (let slot = 0; slot < TEST_SLOTS; slot++) {
    const candidate = testLayout(name, block, ndb, { slot, clean: false });
    const taken: number[] = [];
    for (const port of portsOfLayout(candidate)) if (!(await isFree(candidate.host, port))) taken.push(port);
    if (taken.length === 0) return testLayout(name, block, ndb, { slot, clean: true });
    busy.push(`slot ${slot}: ${taken.join(', ')}`);
  }
  throw new Error(`every slot of port block ${block} is in use (${busy.join('; ')}): is another run of the integration tests still going?`);
}
