/**
 * TeaStore on Redis, in the layout of SPEC.md: tea T lives in the hash
 * `/rating/T` with fields `rating`, `choices` (JSON array) and `clocks` (JSON
 * array). Its tombstone, once deleted, lives in the string `tombstone:T`,
 * outside the `/rating/` namespace.
 *
 * An update reads the tea, merges in TypeScript (core/versions.ts is the one
 * definition of the merge) and writes back with a Lua compare-and-set that
 * fails if anyone changed the tea in between; then it retries. A per-tea
 * mutex makes writes from this process meet in memory, so the retry only
 * happens when another process writes the same Redis.
 */
import Redis from 'ioredis';
import { Clock } from '../core/clock';
import { EMPTY, TeaState, rating } from '../core/versions';
import { parseClock, parseVersions } from '../core/wire';
import { KeyedMutex } from '../util/keyedMutex';
import { TeaStore, UpdateResult } from './store';

export const ratingKey = (tea: string) => `/rating/${tea}`;
export const tombstoneKey = (tea: string) => `tombstone:${tea}`;

/** Give up after this many lost races: only a pathological write storm from many processes gets here. */
const MAX_ATTEMPTS = 100;

// KEYS: rating hash, tombstone. ARGV: expected choices, clocks, tombstone ('' = absent);
// new rating, choices, clocks ('' = delete the hash), new tombstone ('' = leave).
const COMPARE_AND_SET = `
local cur = redis.call('HMGET', KEYS[1], 'choices', 'clocks')
local tomb = redis.call('GET', KEYS[2])
if (cur[1] or '') ~= ARGV[1] or (cur[2] or '') ~= ARGV[2] or (tomb or '') ~= ARGV[3] then
  return 0
end
if ARGV[6] == '' then
  redis.call('DEL', KEYS[1])
else
  redis.call('HSET', KEYS[1], 'rating', ARGV[4], 'choices', ARGV[5], 'clocks', ARGV[6])
end
if ARGV[7] ~= '' then
  redis.call('SET', KEYS[2], ARGV[7])
end
return 1
`;

interface Raw {
  choices: string;
  clocks: string;
  tombstone: string;
}

type RedisWithCas = Redis & {
  teaCompareAndSet(ratingKey: string, tombstoneKey: string, ...args: string[]): Promise<number>;
};

export class CorruptValueError extends Error {}

function decode(tea: string, raw: Raw): TeaState {
  if (raw.clocks === '' && raw.tombstone === '') return EMPTY;
  let versions: TeaState['versions'] = [];
  if (raw.clocks !== '') {
    const parsed = parseVersions(JSON.parse(raw.choices), JSON.parse(raw.clocks));
    if (!parsed.ok) throw new CorruptValueError(`${ratingKey(tea)} holds an invalid value: ${parsed.error}`);
    versions = parsed.value;
  }
  let tombstone: Clock | null = null;
  if (raw.tombstone !== '') {
    const parsed = parseClock(JSON.parse(raw.tombstone), 'tombstone');
    if (!parsed.ok) throw new CorruptValueError(`${tombstoneKey(tea)} holds an invalid value: ${parsed.error}`);
    tombstone = parsed.value;
  }
  return { versions, tombstone };
}

function encode(state: TeaState): { rating: string; choices: string; clocks: string; tombstone: string } {
  if (state.versions.length === 0) {
    return { rating: '', choices: '', clocks: '', tombstone: state.tombstone ? JSON.stringify(state.tombstone) : '' };
  }
  return {
    rating: JSON.stringify(rating(state)),
    choices: JSON.stringify(state.versions.map((v) => v.choice)),
    clocks: JSON.stringify(state.versions.map((v) => v.clock)),
    tombstone: state.tombstone ? JSON.stringify(state.tombstone) : '',
  };
}

export class RedisTeaStore implements TeaStore {
  private readonly redis: RedisWithCas;
  private readonly mutex = new KeyedMutex();

  constructor(redis: Redis) {
    redis.defineCommand('teaCompareAndSet', { numberOfKeys: 2, lua: COMPARE_AND_SET });
    this.redis = redis as RedisWithCas;
  }

  private async loadRaw(tea: string): Promise<Raw> {
    const results = await this.redis.pipeline().hmget(ratingKey(tea), 'choices', 'clocks').get(tombstoneKey(tea)).exec();
    if (results === null) throw new Error('redis pipeline was discarded');
    for (const [err] of results) if (err) throw err;
    const [choices, clocks] = results[0][1] as (string | null)[];
    const tombstone = results[1][1] as string | null;
    return { choices: choices ?? '', clocks: clocks ?? '', tombstone: tombstone ?? '' };
  }

  async load(tea: string): Promise<TeaState> {
    return decode(tea, await this.loadRaw(tea));
  }

  update(tea: string, change: (state: TeaState) => TeaState): Promise<UpdateResult> {
    return this.mutex.run(tea, async () => {
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        const raw = await this.loadRaw(tea);
        const before = decode(tea, raw);
        const after = change(before);
        if (after === before) return { before, after };
        const next = encode(after);
        const written = await this.redis.teaCompareAndSet(
          ratingKey(tea), tombstoneKey(tea),
          raw.choices, raw.clocks, raw.tombstone,
          next.rating, next.choices, next.clocks, next.tombstone,
        );
        if (written === 1) return { before, after };
      }
      throw new Error(`gave up updating ${ratingKey(tea)} after ${MAX_ATTEMPTS} conflicting writes`);
    });
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
