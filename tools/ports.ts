/**
 * The one table of ports for everything that starts servers besides `npm
 * start` and the scenario runner (which use the contract's defaults): the
 * integration test files, the fault suite and the benchmark's systems. Each
 * user gets a block of 100 ports of its own:
 *
 *   block n, from 10000 + 100 n:   LB          + 0
 *                                  Q           + 1
 *                                  Q's Redis   + 2
 *                                  DB i        + 20 + i   (i < 20)
 *                                  Redis i     + 40 + i
 *                                  spare k     + 60 + k   (k < 20: a user's own extra servers, proxies)
 *
 *   n = 0        the fault suite                    10000-10099
 *   n = 1, 2     the benchmark's store, baseline    10100-10299
 *   n = 3        the HTTP client benchmark's server 10300
 *   n = 4        the hostile-input suite            10400-10499
 *   n = 10 + 20 s + f   integration test file f (TEST_FILES) in slot s (s < 3): 11000-16999
 *
 * So no two users share a port, none is one of the contract's defaults (LB 2500,
 * DBs 3000+, Redis 5555+, Q 6000, Q's Redis 6001), and all stay below
 * Linux's ephemeral range (32768 and up), where any outgoing connection may
 * hold a port. A test file that finds its block busy (another run of the
 * suite) takes the same block in the next slot (test/support/layout.ts).
 */
import type { Layout } from './cluster/cluster';

export const FIRST_PORT = 10_000;
export const BLOCK_PORTS = 100;
/** DBs (and their Redis servers) a block has room for. */
export const MAX_NDB = 20;
/** Spare ports per block. */
export const SPARE_PORTS = 20;

/** Users with one block each, always the same. */
const FIXED_BLOCKS = Object.freeze({
  fault: 0,
  'bench-store': 1,
  'bench-baseline': 2,
  'bench-clients': 3,
  hostile: 4,
});
export type FixedUser = keyof typeof FIXED_BLOCKS;

/** The integration test files: one block each per slot, never shared. At most TEST_FILES_PER_SLOT. */
export const TEST_FILES = Object.freeze({
  redisStore: 0,
  lb: 1,
  startup: 2,
  journal: 3,
  db: 4,
  queue: 5,
  queueBatch: 6,
  link: 7,
  redisStoreFence: 8,
  redisStoreCache: 9,
  redisStoreIndex: 10,
  linkFailures: 11,
});
export type TestFile = keyof typeof TEST_FILES;
const FIRST_TEST_BLOCK = 10;
const TEST_FILES_PER_SLOT = 20;
/** Slots a test file can move to when its block is busy. */
export const TEST_SLOTS = 3;

/** The ports of one block, named as Layout names them. */
export interface PortBlock {
  lbPort: number;
  qPort: number;
  qRedisPort: number;
  dbBasePort: number;
  redisBasePort: number;
  /** The block's k-th spare port (0 <= k < SPARE_PORTS). */
  spare(k: number): number;
}

function block(n: number): PortBlock {
  const base = FIRST_PORT + BLOCK_PORTS * n;
  if (base + BLOCK_PORTS > 32_768) throw new RangeError(`port block ${n} would reach Linux's ephemeral range`);
  return {
    lbPort: base,
    qPort: base + 1,
    qRedisPort: base + 2,
    dbBasePort: base + 20,
    redisBasePort: base + 40,
    spare(k: number): number {
      if (!Number.isInteger(k) || k < 0 || k >= SPARE_PORTS) throw new RangeError(`spare port index must be 0..${SPARE_PORTS - 1}, got ${k}`);
      return base + 60 + k;
    },
  };
}

/** The block of the fault suite or of one of the benchmark's systems. */
export function portsFor(user: FixedUser): PortBlock {
  return block(FIXED_BLOCKS[user]);
}

/** The block of an integration test file (a TEST_FILES index) in a slot. */
export function testPorts(file: number, slot: number): PortBlock {
  if (!Number.isInteger(file) || file < 0 || file >= TEST_FILES_PER_SLOT) throw new RangeError(`test file block must be 0..${TEST_FILES_PER_SLOT - 1}, got ${file}`);
  if (!Number.isInteger(slot) || slot < 0 || slot >= TEST_SLOTS) throw new RangeError(`slot must be 0..${TEST_SLOTS - 1}, got ${slot}`);
  return block(FIRST_TEST_BLOCK + TEST_FILES_PER_SLOT * slot + file);
}

/**
 * `layout` (config.json's, with its settings) on the block's ports instead.
 * Throws for a Layout port this table does not know: left alone, it would
 * be one of the contract's defaults.
 */
export function onPorts<L extends Layout>(layout: L, ports: PortBlock): L {
  const { lbPort, qPort, qRedisPort, dbBasePort, redisBasePort } = ports;
  const known: Record<string, number> = { lbPort, qPort, qRedisPort, dbBasePort, redisBasePort };
  for (const key of Object.keys(layout)) {
    if (/port/i.test(key) && !(key in known)) throw new Error(`tools/ports.ts does not know the Layout port "${key}": give it a place in a block before using it`);
  }
  if (layout.ndb > MAX_NDB) throw new RangeError(`ndb must be at most ${MAX_NDB} (a port block's room), got ${layout.ndb}`);
  return { ...layout, ...known };
}

/** Every port a block uses with ndb DBs: its servers' and its spares. */
export function portsInUse(ports: PortBlock, ndb: number): number[] {
  const all = [ports.lbPort, ports.qPort, ports.qRedisPort];
  for (let i = 0; i < ndb; i++) all.push(ports.dbBasePort + i, ports.redisBasePort + i);
  for (let k = 0; k < SPARE_PORTS; k++) all.push(ports.spare(k));
  return all;
}
