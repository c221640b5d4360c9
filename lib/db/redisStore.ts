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
 * happens when another process writes the same Redis. A batch (updateMany:
 * a drained batch of gossip) sends every tea's compare-and-set in one call
 * of the same script.
 *
 * The same script keeps the anti-entropy index (core/antiEntropy.ts): the
 * hashes `ae:sum0` / `ae:sum1` (bucket -> sum of entry digests) and the sets
 * `ae:teas:<bucket>` (the teas of a bucket). `ae:built` marks an index that
 * covers every tea; a Redis filled some other way is indexed at start-up.
 */
import Redis, { RedisOptions, ReplyError } from 'ioredis';
import { Clock } from '../core/clock';
import { EMPTY, TeaState, rating } from '../core/versions';
import { parseClock, parseVersions } from '../core/wire';
import { KeyedMutex } from '../util/keyedMutex';
import { Entry, SkippedTea, TeaChange, TeaStore, UpdateResult } from './store';
import { BUCKETS, Words, bucketOf, digestDelta, entryDigest, normalize } from '../core/antiEntropy';

export const ratingKey = (tea: string) => `/rating/${tea}`;
export const tombstoneKey = (tea: string) => `tombstone:${tea}`;

/** Give up after this many lost races: only a pathological write storm from many processes gets here. */
const MAX_ATTEMPTS = 100;
/**
 * Teas whose last written value this store remembers. A DB is normally the
 * only writer of its Redis, so the value it last wrote is almost always
 * still there: an update of a remembered tea merges against it and goes
 * straight to the compare-and-set, one round trip instead of two (the
 * compare-and-set still catches the rare time someone else wrote). 10k
 * entries cover a hot working set for a few MB.
 */
const REMEMBERED_TEAS = 10_000;
/**
 * Beyond those, teas whose last written value this store keeps as the text
 * it stored, decoded when next written: a decoded state (null-prototype
 * clocks and all) costs about three times the memory. Measured (one store,
 * 8 writers, random teas out of 100k), per write, DB CPU / Redis CPU / the
 * process's memory: 10k decoded only, 127-163 us / 67-82 us / 143 MB (most
 * writes read the tea back first); plus 100k texts, 71-85 / 49-53 / 191-206
 * MB; all 100k decoded, 56-78 / 46-51 / 285-345 MB.
 */
const REMEMBERED_TEXTS = 100_000;

/** The name the compare-and-set script is defined under on the connection. */
const COMPARE_AND_SET_COMMAND = 'teaCompareAndSet';

/**
 * How a DB should connect to its Redis (serverDB.ts spreads these into its
 * ioredis options). Auto-pipelining lets a read's two commands (loadRaw)
 * share one socket write with every other command of the tick. The
 * compare-and-set is left out of it: a write sends exactly one, and a
 * drained batch of gossip is already one call, so the pipeline ioredis
 * builds per tick was pure overhead. Measured side by side (two clusters,
 * alternating 6,000-PUT windows through each LB, 4 pairs): the DBs' CPU per
 * PUT fell from 690 to 568 us and PUT throughput rose 16%; GET throughput
 * moved by under 1%. Turning auto-pipelining off altogether cost GETs 4%.
 */
export const STORE_REDIS_OPTIONS: Pick<RedisOptions, 'enableAutoPipelining' | 'autoPipeliningIgnoredCommands'> = {
  enableAutoPipelining: true,
  autoPipeliningIgnoredCommands: [COMPARE_AND_SET_COMMAND],
};

// Compare-and-set of any number of teas in one call; each tea is written only if it still
// holds what the caller merged against, and the reply says, per tea, whether it was (1) or
// not (0). KEYS: ae:sum0, ae:sum1, then per tea its rating hash, tombstone and ae:teas:<bucket>.
// ARGV, per tea: expected choices, clocks, tombstone ('' = absent); new rating, choices,
// clocks ('' = delete the hash), new tombstone ('' = leave); bucket, digest deltas, tea.
const KEYS_PER_TEA = 3;
const ARGS_PER_TEA = 11;
const COMPARE_AND_SET = `
local written = {}
for i = 0, (#KEYS - 2) / ${KEYS_PER_TEA} - 1 do
  local k = 2 + ${KEYS_PER_TEA} * i
  local a = ${ARGS_PER_TEA} * i
  local cur = redis.call('HMGET', KEYS[k + 1], 'choices', 'clocks')
  local tomb = redis.call('GET', KEYS[k + 2])
  if (cur[1] or '') ~= ARGV[a + 1] or (cur[2] or '') ~= ARGV[a + 2] or (tomb or '') ~= ARGV[a + 3] then
    written[i + 1] = 0
  else
    if ARGV[a + 6] == '' then
      redis.call('DEL', KEYS[k + 1])
    else
      redis.call('HSET', KEYS[k + 1], 'rating', ARGV[a + 4], 'choices', ARGV[a + 5], 'clocks', ARGV[a + 6])
    end
    if ARGV[a + 7] ~= '' then
      redis.call('SET', KEYS[k + 2], ARGV[a + 7])
    end
    redis.call('HINCRBY', KEYS[1], ARGV[a + 8], ARGV[a + 9])
    redis.call('HINCRBY', KEYS[2], ARGV[a + 8], ARGV[a + 10])
    redis.call('SADD', KEYS[k + 3], ARGV[a + 11])
    written[i + 1] = 1
  end
end
return written
`;

interface Raw {
  choices: string;
  clocks: string;
  tombstone: string;
}

type RedisWithCas = Redis & {
  /**
   * numberOfKeys, the keys, the arguments: see COMPARE_AND_SET. ioredis flattens the two
   * arrays into the command; spreading them into the call instead cost a copy of every
   * argument, a batch of gossip has thousands.
   */
  teaCompareAndSet(numberOfKeys: number, keys: string[], args: string[]): Promise<number[]>;
};

/** One tea's compare-and-set: what it was merged against, and what to write. */
interface PlannedWrite {
  tea: string;
  raw: Raw;
  before: TeaState;
  after: TeaState;
  next: ReturnType<typeof encode>;
}

const SUM0 = 'ae:sum0';
const SUM1 = 'ae:sum1';
const BUILT = 'ae:built';
const bucketKey = (bucket: number) => `ae:teas:${bucket}`;

export class CorruptValueError extends Error {}

/** A failure that belongs to one tea's stored value (corrupt, or a key of the wrong Redis type), not to Redis as a whole. */
function isTeaValueError(e: unknown): boolean {
  return e instanceof CorruptValueError || e instanceof ReplyError;
}

/** JSON.parse, but a value that is not JSON is a CorruptValueError naming the key. */
function parseStored(text: string, key: string, field: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new CorruptValueError(`${key} holds an invalid value: ${field} is not JSON: ${(e as Error).message}`);
  }
}

function decode(tea: string, raw: Raw): TeaState {
  if (raw.clocks === '' && raw.tombstone === '') return EMPTY;
  let versions: TeaState['versions'] = [];
  if (raw.clocks !== '') {
    const key = ratingKey(tea);
    const parsed = parseVersions(parseStored(raw.choices, key, 'choices'), parseStored(raw.clocks, key, 'clocks'));
    if (!parsed.ok) throw new CorruptValueError(`${ratingKey(tea)} holds an invalid value: ${parsed.error}`);
    versions = parsed.value;
  }
  let tombstone: Clock | null = null;
  if (raw.tombstone !== '') {
    const parsed = parseClock(parseStored(raw.tombstone, tombstoneKey(tea), 'tombstone'), 'tombstone');
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

interface Remembered {
  raw: Raw;
  state: TeaState;
}

export class RedisTeaStore implements TeaStore {
  private readonly redis: RedisWithCas;
  private readonly mutex = new KeyedMutex();
  /** Least recently written first (a Map keeps insertion order). */
  private readonly remembered = new Map<string, Remembered>();
  /** Teas pushed out of `remembered`, as text only, least recently written first. */
  private readonly rememberedTexts = new Map<string, Raw>();

  private remember(tea: string, entry: Remembered | null): void {
    this.remembered.delete(tea);
    this.rememberedTexts.delete(tea);
    if (entry === null) return;
    this.remembered.set(tea, entry);
    if (this.remembered.size > this.limits.teas) {
      const [oldest, { raw }] = this.remembered.entries().next().value as [string, Remembered];
      this.remembered.delete(oldest);
      this.rememberedTexts.set(oldest, raw);
      if (this.rememberedTexts.size > this.limits.texts) this.rememberedTexts.delete(this.rememberedTexts.keys().next().value as string);
    }
  }

  /** What this store last wrote for `tea`, if it remembers it, decoded. */
  private recall(tea: string): Remembered | undefined {
    const known = this.remembered.get(tea);
    if (known !== undefined) return known;
    const raw = this.rememberedTexts.get(tea);
    if (raw === undefined) return undefined;
    this.rememberedTexts.delete(tea); // the caller writes it, and remembers it decoded then
    try {
      return { raw, state: decode(tea, raw) };
    } catch {
      return undefined; // cannot happen for text this store wrote; Redis's own value will say
    }
  }

  /** `limits`: how many teas to remember decoded, and how many more as text (tests make them small). */
  constructor(
    redis: Redis,
    private readonly limits: { teas: number; texts: number } = { teas: REMEMBERED_TEAS, texts: REMEMBERED_TEXTS },
  ) {
    redis.defineCommand(COMPARE_AND_SET_COMMAND, { lua: COMPARE_AND_SET });
    this.redis = redis as RedisWithCas;
  }

  /**
   * The tea's hash fields and tombstone. Two plain commands, issued together:
   * on one connection they run back to back, and with auto-pipelining (as
   * serverDB connects) they share a write with every other command of the
   * tick. An explicit ioredis pipeline per read cost 41 us of CPU here
   * against 14 (measured, 20k reads at 32 concurrent), most of a GET's
   * share in the DB profile.
   */
  private async loadRaw(tea: string): Promise<Raw> {
    const [[choices, clocks], tombstone] = await Promise.all([
      this.redis.hmget(ratingKey(tea), 'choices', 'clocks'),
      this.redis.get(tombstoneKey(tea)),
    ]);
    return { choices: choices ?? '', clocks: clocks ?? '', tombstone: tombstone ?? '' };
  }

  async load(tea: string): Promise<TeaState> {
    return decode(tea, await this.loadRaw(tea));
  }

  update(tea: string, change: (state: TeaState) => TeaState): Promise<UpdateResult> {
    return this.mutex.run(tea, () => this.updateHeld(tea, change));
  }

  /**
   * One compare-and-set for the whole batch, against remembered or freshly
   * read values. A tea whose write lost a race, or whose remembered value
   * says "nothing to write" (which only Redis's own value may say), then
   * takes update()'s path; that is rare, as this process is normally its
   * Redis's only writer.
   */
  updateMany(changes: Iterable<TeaChange>): Promise<SkippedTea[]> {
    const byTea = new Map<string, (state: TeaState) => TeaState>();
    for (const [tea, change] of changes) {
      const earlier = byTea.get(tea);
      byTea.set(tea, earlier ? (state) => change(earlier(state)) : change);
    }
    if (byTea.size === 0) return Promise.resolve([]);
    return this.mutex.runAll(byTea.keys(), async () => {
      const skipped: SkippedTea[] = [];
      const teas = [...byTea.keys()];
      const known = teas.map((tea) => this.recall(tea));
      const skip = (tea: string) => (e: unknown) => {
        if (!isTeaValueError(e)) throw e;
        skipped.push({ tea, error: e as Error });
        return null;
      };
      const raws = await Promise.all(teas.map((tea, k) => known[k]?.raw ?? this.loadRaw(tea).catch(skip(tea))));
      const planned: PlannedWrite[] = [];
      const retry: string[] = [];
      teas.forEach((tea, k) => {
        const raw = raws[k];
        if (raw === null) return;
        const remembered = known[k];
        let before: TeaState;
        try {
          before = remembered?.state ?? decode(tea, raw);
        } catch (e) {
          skip(tea)(e);
          return;
        }
        const after = byTea.get(tea)!(before);
        if (after !== before) {
          planned.push({ tea, raw, before, after, next: encode(after) });
        } else if (remembered) {
          this.remember(tea, null); // only Redis's own value may say "nothing to write"
          retry.push(tea);
        } else {
          this.remember(tea, { raw, state: before });
        }
      });
      let written: boolean[];
      try {
        written = await this.compareAndSet(planned);
      } catch (e) {
        // A key of the wrong type that this store's memory did not know about stops the script
        // at that tea (those before it are written: harmless, the merge is idempotent). Take
        // every tea of the batch on its own, so only the bad one is skipped.
        if (!isTeaValueError(e)) throw e;
        written = planned.map(() => false);
      }
      planned.forEach((write, k) => {
        if (written[k]) {
          this.rememberWritten(write);
        } else {
          this.remember(write.tea, null); // what it was merged against is not what Redis holds
          retry.push(write.tea);
        }
      });
      await Promise.all(retry.map((tea) => this.updateHeld(tea, byTea.get(tea)!).catch(skip(tea))));
      return skipped;
    });
  }

  /** update(), for a caller that holds the tea's mutex. */
  private async updateHeld(tea: string, change: (state: TeaState) => TeaState): Promise<UpdateResult> {
    let remembered = this.recall(tea);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const raw = remembered?.raw ?? (await this.loadRaw(tea));
      const before = remembered?.state ?? decode(tea, raw);
      const after = change(before);
      if (after === before) {
        // Nothing to write. A remembered value may be out of date, so only Redis's own says "unchanged".
        if (remembered) {
          remembered = undefined;
          continue;
        }
        this.remember(tea, { raw, state: before });
        return { before, after };
      }
      const write = { tea, raw, before, after, next: encode(after) };
      const [written] = await this.compareAndSet([write]);
      if (written) {
        this.rememberWritten(write);
        return { before, after };
      }
      remembered = undefined;
      this.remember(tea, null);
    }
    throw new Error(`gave up updating ${ratingKey(tea)} after ${MAX_ATTEMPTS} conflicting writes`);
  }

  /** Per write, whether it happened (true) or lost a race with another writer (false), in one round trip. */
  private async compareAndSet(writes: readonly PlannedWrite[]): Promise<boolean[]> {
    if (writes.length === 0) return [];
    const keys: string[] = [SUM0, SUM1];
    const args: string[] = [];
    for (const { tea, raw, before, after, next } of writes) {
      const bucket = bucketOf(tea);
      const [d0, d1] = digestDelta(tea, before, after);
      keys.push(ratingKey(tea), tombstoneKey(tea), bucketKey(bucket));
      args.push(
        raw.choices, raw.clocks, raw.tombstone,
        next.rating, next.choices, next.clocks, next.tombstone,
        String(bucket), String(d0), String(d1), tea,
      );
    }
    const written = await this.redis.teaCompareAndSet(keys.length, keys, args);
    return written.map((w) => w === 1);
  }

  private rememberWritten({ tea, raw, after, next }: PlannedWrite): void {
    this.remember(tea, { raw: { choices: next.choices, clocks: next.clocks, tombstone: next.tombstone || raw.tombstone }, state: after });
  }

  async bucketSums(): Promise<Words[]> {
    const [s0, s1] = await Promise.all([this.redis.hgetall(SUM0), this.redis.hgetall(SUM1)]);
    return Array.from({ length: BUCKETS }, (_, b) => [Number(s0[b] ?? 0), Number(s1[b] ?? 0)] as const);
  }

  async bucketEntries(bucket: number): Promise<Entry[]> {
    const teas = await this.redis.smembers(bucketKey(bucket));
    return Promise.all(teas.map(async (tea) => ({ tea, state: await this.load(tea) })));
  }

  /**
   * Build the anti-entropy index from the data when it is missing: for a
   * Redis written by something other than this store (a restore, a bulk
   * load). Idempotent; cheap when the index is there.
   */
  async ensureIndex(): Promise<number> {
    if ((await this.redis.exists(BUILT)) === 1) return 0;
    const teas = new Set<string>();
    for (const [pattern, prefix] of [['/rating/*', '/rating/'], ['tombstone:*', 'tombstone:']] as const) {
      let cursor = '0';
      do {
        const [next, keys] = await this.redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
        cursor = next;
        for (const key of keys) teas.add(key.slice(prefix.length));
      } while (cursor !== '0');
    }
    const sums: [number, number][] = Array.from({ length: BUCKETS }, () => [0, 0]);
    const batch = this.redis.pipeline().del(SUM0, SUM1);
    for (let b = 0; b < BUCKETS; b++) batch.del(bucketKey(b));
    await batch.exec();
    // A thousand teas at a time: their loads go out together, then their index entries.
    const all = [...teas];
    for (let start = 0; start < all.length; start += 1000) {
      const chunk = all.slice(start, start + 1000);
      const states = await Promise.all(chunk.map((tea) => this.load(tea)));
      const pipeline = this.redis.pipeline();
      chunk.forEach((tea, k) => {
        const [a, b] = entryDigest(tea, states[k]);
        const bucket = bucketOf(tea);
        sums[bucket][0] = normalize(sums[bucket][0] + a);
        sums[bucket][1] = normalize(sums[bucket][1] + b);
        pipeline.sadd(bucketKey(bucket), tea);
      });
      await pipeline.exec();
    }
    const pipeline = this.redis.pipeline();
    for (let b = 0; b < BUCKETS; b++) pipeline.hset(SUM0, String(b), String(sums[b][0])).hset(SUM1, String(b), String(sums[b][1]));
    pipeline.set(BUILT, '1');
    await pipeline.exec();
    return teas.size;
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
