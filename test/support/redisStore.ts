/**
 * What the RedisTeaStore integration tests (test/integration/redisStore*.test.ts)
 * share: commit steps as a client's writes and deletes make them, and
 * useRedisStore, a redis-server of the file's own with stores connected to it
 * as serverDB connects, and a raw connection for inspecting and planting values.
 */
import { expect } from 'chai';
import Redis from 'ioredis';
import { Managed } from '../../tools/cluster/processes';
import { Clock, makeClock } from '../../lib/core/clock';
import { TeaState, Version, deleteAll, mergeVersion } from '../../lib/core/versions';
import { DIGEST_KEY, RedisStoreOptions, RedisTeaStore, STORE_REDIS_OPTIONS } from '../../lib/db/redisStore';
import { CommitStep, TeaStore } from '../../lib/db/store';
import { startOwnRedis, stopTracked } from './cluster';
import { TestLayout } from './layout';

/** A clock and a version from plain objects; put(version) is the change that merges it into a state. */
export const clock = (o: Record<string, number>): Clock => makeClock(Object.entries(o));
export const v = (choice: number, c: Record<string, number>): Version => ({ choice, clock: clock(c) });
export const put = (version: Version) => (s: TeaState) => mergeVersion(s, version);

/** The tuple a client's write adds to the digest, as the DB builds it: from the result, none when nothing changed. */
export const tupleOf = (tea: string) => (before: TeaState, after: TeaState) =>
  after === before ? null : JSON.stringify({ key: tea, choices: after.versions.map((x) => x.choice) });

/** A client's write of `choice` at `c` to `tea`, as one commit step. */
export const write = (tea: string, choice: number, c: Record<string, number>): CommitStep => ({ tea, change: put(v(choice, c)), digest: tupleOf(tea) });
export const remove = (tea: string): CommitStep => ({ tea, change: deleteAll, digest: tupleOf(tea) });

/** A state as exact JSON: the order of versions and of clock keys counts. */
export const exact = (s: TeaState) => JSON.stringify({ versions: s.versions, tombstone: s.tombstone });

/** The error a commit that must fail rejects with. */
export async function commitError(store: TeaStore, steps: CommitStep[]): Promise<Error> {
  return store.commit({ trim: 0, steps }).then(
    () => {
      throw new Error('the commit should have failed');
    },
    (e: Error) => e,
  );
}

/** A commit of one step. */
export const commitOne = (store: TeaStore, step: CommitStep, trim = 0) => store.commit({ trim, steps: [step] });

/** The file's redis-server and the stores on it; Redis is emptied before each test. */
export interface RedisStoreFixture {
  layout: TestLayout;
  port: number;
  /** A plain connection, for inspecting and planting values. */
  raw: Redis;
  /** A connection as serverDB makes it, so the tests see the same command batching. */
  client(): Redis;
  /** A store on a connection of its own, as a DB process has; closed by the after hook. */
  newStore(options?: RedisStoreOptions): RedisTeaStore;
  /** A store that owns the Redis (as a starting DB does). */
  owningStore(options?: RedisStoreOptions): Promise<RedisTeaStore>;
  /** Every key and its value, for "nothing was written" checks. */
  snapshot(): Promise<Record<string, unknown>>;
  /** The commands `action` made Redis run (this file's INFO calls left out). */
  commandsOf(action: () => Promise<unknown>): Promise<Record<string, number>>;
  /** The digest list, oldest first. */
  digest(): Promise<string[]>;
}

/** Hooks for the describe block that calls it: a redis-server on the file's port block (`file`, `block`: test/support/layout.ts). */
export function useRedisStore(file: string, block: number): RedisStoreFixture {
  let redisProcess: Managed | null = null;
  const opened: RedisTeaStore[] = [];

  /** Calls per Redis command so far, commands run inside scripts included. */
  async function commandCounts(): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    for (const match of (await fx.raw.info('commandstats')).matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) counts[match[1]] = Number(match[2]);
    return counts;
  }

  const fx: RedisStoreFixture = {
    layout: undefined as unknown as TestLayout,
    port: 0,
    raw: undefined as unknown as Redis,
    client: () => new Redis({ host: fx.layout.host, port: fx.port, maxRetriesPerRequest: 1, ...STORE_REDIS_OPTIONS }),

    newStore(options) {
      const s = new RedisTeaStore(fx.client(), options);
      opened.push(s);
      return s;
    },

    async owningStore(options) {
      const s = fx.newStore(options);
      expect(await s.claim('force')).to.not.equal(null);
      return s;
    },

    async snapshot() {
      const { raw } = fx;
      const out: Record<string, unknown> = {};
      for (const key of (await raw.keys('*')).sort()) {
        const type = await raw.type(key);
        out[key] = type === 'hash' ? await raw.hgetall(key) : type === 'list' ? await raw.lrange(key, 0, -1) : type === 'string' ? await raw.get(key) : type;
      }
      return out;
    },

    async commandsOf(action) {
      const before = await commandCounts();
      await action();
      const after = await commandCounts();
      const delta: Record<string, number> = {};
      for (const [name, n] of Object.entries(after)) if (name !== 'info' && n !== (before[name] ?? 0)) delta[name] = n - (before[name] ?? 0);
      return delta;
    },

    digest: () => fx.raw.lrange(DIGEST_KEY, 0, -1),
  };

  before(async function () {
    ({ layout: fx.layout, port: fx.port, process: redisProcess } = await startOwnRedis(file, block));
    fx.raw = new Redis({ host: fx.layout.host, port: fx.port, maxRetriesPerRequest: 1 });
  });

  after(async function () {
    for (const s of opened) await s.close().catch(() => undefined);
    fx.raw?.disconnect();
    await stopTracked(redisProcess);
  });

  beforeEach(async function () {
    await fx.raw.flushall();
  });

  return fx;
}
