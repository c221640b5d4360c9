/**
 * Cluster layouts for the integration tests, on ports that never clash with
 * SPEC.md's defaults (LB 2500, DBs 3000+, Redis 5555+, Q 6000, which `npm
 * start` and the scenario runner use), nor with each other: each test file
 * takes its own block (an offset), so files can run one after another or at
 * the same time without colliding.
 *
 *   block b:  LB        12500 + b
 *             DB i      13000 + 20 b + i
 *             Redis i   15555 + 20 b + i
 *             Q         16000 + b
 *             spare k   17000 + 20 b + k   (for a file's own extra servers)
 *
 * Logs and data go under var/test/<name>/ in the project.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Layout } from '../../lib/cluster/cluster';
import { projectRoot } from '../../lib/server/boot';

/** Ports per block in the DB, Redis and spare ranges: so ndb is at most this. */
export const BLOCK_SIZE = 20;

/** The port blocks of the integration test files: one each, never shared. */
export const PORT_BLOCKS = Object.freeze({
  redisStore: 0,
  http: 1,
  startup: 2,
});

export interface TestLayout extends Layout {
  /** The block's k-th spare port (0 <= k < BLOCK_SIZE), for extra servers a test starts itself. */
  spare(k: number): number;
  /** var/test/<name>, where the logs and data of this layout live. */
  dir: string;
}

export function testLayout(name: string, block: number, ndb = 3, options: { clean?: boolean } = {}): TestLayout {
  if (!Number.isInteger(block) || block < 0 || block >= 25) throw new RangeError(`port block must be 0..24, got ${block}`);
  if (!Number.isInteger(ndb) || ndb < 1 || ndb > BLOCK_SIZE) throw new RangeError(`ndb must be 1..${BLOCK_SIZE}, got ${ndb}`);
  const root = projectRoot();
  const dir = join(root, 'var', 'test', name);
  if (options.clean ?? true) rmSync(dir, { recursive: true, force: true });
  return {
    host: '127.0.0.1',
    ndb,
    lbPort: 12500 + block,
    dbBasePort: 13000 + BLOCK_SIZE * block,
    redisBasePort: 15555 + BLOCK_SIZE * block,
    qPort: 16000 + block,
    root,
    logDir: join(dir, 'log'),
    dataDir: join(dir, 'db'),
    dir,
    spare(k: number): number {
      if (!Number.isInteger(k) || k < 0 || k >= BLOCK_SIZE) throw new RangeError(`spare port index must be 0..${BLOCK_SIZE - 1}`);
      return 17000 + BLOCK_SIZE * block + k;
    },
  };
}
