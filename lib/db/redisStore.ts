/**
 * TeaStore on Redis, in the layout of the contract (docs/protocol.md,
 * "Storage"): tea T is the hash `/rating/T` with fields `rating`, `choices`
 * (JSON array) and `clocks` (JSON array); once deleted, its tombstone clock
 * is the string `tombstone:T`. Bookkeeping lives outside `/rating/`:
 * `gossip:digest` is the digest (a list of tuple texts, oldest first, the
 * sent ones trimmed off the head) and `gossip:owner` names the process that
 * owns this Redis.
 *
 * Every write is one Lua script (COMMIT) that first checks `gossip:owner`:
 * a DB that another process has replaced, or whose Redis was flushed from
 * outside, writes nothing (FencedError). Being the only writer, a DB can
 * trust what it last wrote: it merges in TypeScript (core/versions.ts is the
 * one definition of the merge) against the values it remembers, reads only
 * the teas it does not remember, and writes the results without comparing
 * them again. The script also appends the group's digest tuples and drops
 * the sent ones, so the digest is exactly as durable as the teas.
 */
import Redis, { RedisOptions, ReplyError } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { BucketIndex, Words } from '../core/antiEntropy';
import { BoundedMap } from '../core/boundedMap';
import { EMPTY, TeaState } from '../core/versions';
import { weigh } from '../core/weight';
import { StoredForm, parseState, storedFormOf } from '../core/wire';
import {
  ClaimMode, CommitGroup, CommitResult, CorruptValueError, DEAD_LETTER_LIMIT, DEFAULT_RECENT_MS, FencedError, IndexedEntry, StepResult, TeaStore, planCommit,
} from './store';

export const ratingKey = (tea: string) => `/rating/${tea}`;
export const tombstoneKey = (tea: string) => `tombstone:${tea}`;
export const OWNER_KEY = 'gossip:owner';
export const DIGEST_KEY = 'gossip:digest';
export const DEAD_KEY = 'gossip:dead';

/**
 * Teas remembered decoded: a hot working set for a few MB; and beyond those,
 * teas remembered as their stored text (a third of the memory), decoded when
 * next written. Bounded in characters of stored JSON too: teas at their
 * limits (64 KiB each) would otherwise make these gigabytes.
 */
const REMEMBERED: RememberLimits = Object.freeze({ teas: 10_000, texts: 100_000, teaChars: 16 * 1024 * 1024, textChars: 64 * 1024 * 1024 });

export interface RememberLimits {
  teas: number;
  texts: number;
  /** Characters of stored JSON the decoded teas may weigh together, and the texts. */
  teaChars: number;
  textChars: number;
}

const charsOfText = (text: Stored) => text.choices.length + text.clocks.length + text.tombstone.length;

const COMMIT_COMMAND = 'teaCommit';
const CLAIM_COMMAND = 'teaClaim';
const SET_ASIDE_COMMAND = 'teaSetAside';

/**
 * How a DB connects to its Redis (serverDB.ts spreads these into its
 * ioredis options). Reads share socket writes with auto-pipelining; the
 * scripts go out at once, in the order they are issued, which the digest's
 * order relies on.
 */
export const STORE_REDIS_OPTIONS: Pick<RedisOptions, 'enableAutoPipelining' | 'autoPipeliningIgnoredCommands'> = {
  enableAutoPipelining: true,
  autoPipeliningIgnoredCommands: [COMMIT_COMMAND, CLAIM_COMMAND, SET_ASIDE_COMMAND],
};

// KEYS: owner, digest, then per tea its rating hash and tombstone. ARGV: owner id, how many tuples to
// trim from the digest's head, how many to append, for each of them the number of the tea whose write
// built it (comma-separated; 0 = none), the tuples, then per tea: what to do with the hash ('k' keep,
// 'd' delete, 's' set), rating, choices, clocks, the tombstone ('' = leave it).
// Returns {-1} when this process does not own the Redis; else the numbers of the teas whose write failed
// (a key of the wrong type): the rest are written, and the tuples those writes built are not appended.
const ARGS_PER_TEA = 5;
const COMMIT = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return {-1} end
local trim = tonumber(ARGV[2])
if trim > 0 then redis.call('LTRIM', KEYS[2], trim, -1) end
local n = tonumber(ARGV[3])
local failed, failedSet = {}, {}
local a = 5 + n
for k = 3, #KEYS, 2 do
  local tea = (k - 1) / 2
  local op = ARGV[a]
  local r = true
  if op == 'd' then
    r = redis.pcall('DEL', KEYS[k])
  elseif op == 's' then
    r = redis.pcall('HSET', KEYS[k], 'rating', ARGV[a + 1], 'choices', ARGV[a + 2], 'clocks', ARGV[a + 3])
  end
  if not (type(r) == 'table' and r.err) and ARGV[a + 4] ~= '' then r = redis.pcall('SET', KEYS[k + 1], ARGV[a + 4]) end
  if type(r) == 'table' and r.err then
    failed[#failed + 1] = tea
    failedSet[tea] = true
  end
  a = a + ${ARGS_PER_TEA}
end
local push, i = {}, 0
for t in string.gmatch(ARGV[4], '[^,]+') do
  i = i + 1
  if not failedSet[tonumber(t)] then push[#push + 1] = ARGV[4 + i] end
end
for j = 1, #push, 1000 do
  redis.call('RPUSH', KEYS[2], unpack(push, j, math.min(j + 999, #push)))
end
return failed
`;

// KEYS: owner, digest. ARGV: the new owner id, the mode: 'force' (take it from anyone), 'free' (only when
// nobody owns it), 'mine' (only when this id still owns it, or nobody). Returns the digest, or nil.
const CLAIM = `
local owner = redis.call('GET', KEYS[1])
if owner and ((ARGV[2] == 'free') or (ARGV[2] == 'mine' and owner ~= ARGV[1])) then return nil end
redis.call('SET', KEYS[1], ARGV[1])
return redis.call('LRANGE', KEYS[2], 0, -1)
`;

// KEYS: owner, dead letters. ARGV: owner id, how many to keep, the entries. Nothing unless this process owns the Redis.
const SET_ASIDE = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
for j = 3, #ARGV, 1000 do
  redis.call('RPUSH', KEYS[2], unpack(ARGV, j, math.min(j + 999, #ARGV)))
end
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[2]), -1)
return 1
`;

type ScriptedRedis = Redis & {
  teaSetAside(owner: string, dead: string, id: string, keep: string, ...entries: string[]): Promise<number>;
  teaCommit(numberOfKeys: number, keys: string[], args: string[]): Promise<number[]>;
  teaClaim(owner: string, digest: string, id: string, mode: ClaimMode): Promise<string[] | null>;
};

/** What a tea's hash fields and tombstone hold, as text ('' = absent). */
type Stored = Pick<StoredForm, 'choices' | 'clocks' | 'tombstone'>;

/** A failure that belongs to one tea's stored value (corrupt, or a key of the wrong type), not to Redis as a whole. */
function isTeaValueError(e: unknown): boolean {
  return e instanceof CorruptValueError || (e instanceof ReplyError && /WRONGTYPE/.test((e as Error).message));
}

function parseStored(text: string, key: string, field: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new CorruptValueError(`${key} holds an invalid value: ${field} is not JSON: ${(e as Error).message}`);
  }
}

function decode(tea: string, stored: Stored): TeaState {
  if (stored.clocks === '' && stored.tombstone === '') return EMPTY;
  const key = ratingKey(tea);
  const live = stored.clocks !== '';
  const parsed = parseState(
    live ? parseStored(stored.choices, key, 'choices') : [],
    live ? parseStored(stored.clocks, key, 'clocks') : [],
    stored.tombstone === '' ? null : parseStored(stored.tombstone, tombstoneKey(tea), 'tombstone'),
  );
  if (!parsed.ok) throw new CorruptValueError(`${key} holds an invalid value: ${parsed.error}`);
  return parsed.value;
}

const SCAN_PATTERNS = [['/rating/*', '/rating/'], ['tombstone:*', 'tombstone:']] as const;

export interface RedisStoreOptions {
  /** How many teas to remember decoded, and how many more as text, and what they may weigh (tests make them small). */
  limits?: Partial<RememberLimits>;
  recentMs?: number;
  now?: () => number;
}

export class RedisTeaStore implements TeaStore {
  private readonly redis: ScriptedRedis;
  private readonly id = randomBytes(8).toString('hex');
  private readonly now: () => number;
  private readonly index: BucketIndex;
  /** Least recently written first. */
  private readonly remembered: BoundedMap<string, TeaState>;
  /** Teas pushed out of `remembered`, as stored text only, least recently written first. */
  private readonly rememberedTexts: BoundedMap<string, Stored>;
  /** Where the index's start-up scan stands; null once it is complete. */
  private scan: { pattern: number; cursor: string } | null = { pattern: 0, cursor: '0' };

  constructor(redis: Redis, options: RedisStoreOptions = {}) {
    redis.defineCommand(COMMIT_COMMAND, { lua: COMMIT });
    redis.defineCommand(CLAIM_COMMAND, { numberOfKeys: 2, lua: CLAIM });
    redis.defineCommand(SET_ASIDE_COMMAND, { numberOfKeys: 2, lua: SET_ASIDE });
    this.redis = redis as ScriptedRedis;
    const limits = { ...REMEMBERED, ...options.limits };
    this.remembered = new BoundedMap(limits.teas, limits.teaChars);
    this.rememberedTexts = new BoundedMap(limits.texts, limits.textChars);
    this.now = options.now ?? Date.now;
    this.index = new BucketIndex(options.recentMs ?? DEFAULT_RECENT_MS);
  }

  /** This process's name in `gossip:owner`. */
  get ownerId(): string {
    return this.id;
  }

  async claim(mode: ClaimMode): Promise<string[] | null> {
    const digest = await this.redis.teaClaim(OWNER_KEY, DIGEST_KEY, this.id, mode);
    if (digest === null) return null;
    this.forgetAll();
    this.index.clear();
    this.scan = { pattern: 0, cursor: '0' };
    await this.dropOldIndex();
    return digest;
  }

  /** The previous version kept the anti-entropy index in Redis (ae:*); it is in memory now. */
  private async dropOldIndex(): Promise<void> {
    if ((await this.redis.exists('ae:sum0', 'ae:built')) === 0) return;
    await this.redis.del('ae:sum0', 'ae:sum1', 'ae:built', ...Array.from({ length: 256 }, (_, b) => `ae:teas:${b}`));
  }

  private forgetAll(): void {
    this.remembered.clear();
    this.rememberedTexts.clear();
  }

  private remember(tea: string, state: TeaState | null): void {
    this.remembered.delete(tea);
    this.rememberedTexts.delete(tea);
    if (state === null) return;
    for (const [older, old] of this.remembered.set(tea, state, weigh(state).chars)) {
      const text = storedFormOf(old);
      this.rememberedTexts.set(older, text, charsOfText(text));
    }
  }

  /** What this store last wrote for `tea`, if it remembers it. */
  private recall(tea: string): TeaState | undefined {
    const known = this.remembered.get(tea);
    if (known !== undefined) return known;
    const text = this.rememberedTexts.get(tea);
    if (text === undefined) return undefined;
    try {
      return decode(tea, text);
    } catch {
      return undefined; // cannot happen for text this store wrote; Redis's own value will say
    }
  }

  /**
   * The tea's hash fields and tombstone: two plain commands issued together,
   * which auto-pipelining sends with every other command of the tick.
   */
  private async loadStored(tea: string): Promise<Stored> {
    const [[choices, clocks], tombstone] = await Promise.all([
      this.redis.hmget(ratingKey(tea), 'choices', 'clocks'),
      this.redis.get(tombstoneKey(tea)),
    ]);
    return { choices: choices ?? '', clocks: clocks ?? '', tombstone: tombstone ?? '' };
  }

  async load(tea: string): Promise<TeaState> {
    return decode(tea, await this.loadStored(tea));
  }

  /** load(), with an unusable stored value as the error it is rather than a rejection. */
  private loadOrError(tea: string): Promise<TeaState | Error> {
    return this.load(tea).catch((e: unknown) => {
      if (isTeaValueError(e)) return e as Error;
      throw e;
    });
  }

  async commit(group: CommitGroup): Promise<CommitResult> {
    const states = new Map<string, TeaState | Error>();
    const missing: string[] = [];
    for (const { tea } of group.steps) {
      if (states.has(tea)) continue;
      const known = this.recall(tea);
      if (known === undefined) missing.push(tea);
      states.set(tea, known ?? EMPTY);
    }
    const loaded = await Promise.all(missing.map((tea) => this.loadOrError(tea)));
    missing.forEach((tea, k) => states.set(tea, loaded[k]));
    const plan = planCommit(group.steps, (tea) => states.get(tea)!);
    const written = [...plan.teas].filter(([, t]) => t.after !== t.before);
    const numberOf = new Map(written.map(([tea], k) => [tea, k + 1]));
    const keys = [OWNER_KEY, DIGEST_KEY];
    const args = [this.id, String(group.trim), String(plan.appended.length), plan.builtFor.map((tea) => (tea === null ? 0 : numberOf.get(tea) ?? 0)).join(','), ...plan.appended];
    for (const [tea, { before, after }] of written) {
      const next = storedFormOf(after);
      const hash = next.clocks === '' ? (before.versions.length > 0 ? 'd' : 'k') : 's';
      const tombstone = after.tombstone !== before.tombstone ? next.tombstone : '';
      keys.push(ratingKey(tea), tombstoneKey(tea));
      args.push(hash, next.rating, next.choices, next.clocks, tombstone);
    }
    let reply: number[];
    try {
      reply = await this.redis.teaCommit(keys.length, keys, args);
    } catch (e) {
      // Whether the script ran is unknown: what this store remembers may be wrong.
      this.forgetAll();
      throw e;
    }
    if (reply[0] === -1) {
      this.forgetAll();
      throw new FencedError(await this.redis.get(OWNER_KEY));
    }
    const failedTeas = new Set(reply.map((k) => written[k - 1][0]));
    const now = this.now();
    for (const [tea, { before, after, repairOnly }] of plan.teas) {
      if (failedTeas.has(tea)) {
        this.remember(tea, null);
        continue;
      }
      this.remember(tea, after);
      if (after !== before) this.index.changed(tea, after, repairOnly ? null : now);
    }
    const results: StepResult[] = plan.results.map((r, k) =>
      failedTeas.has(group.steps[k].tea) ? { error: new CorruptValueError(`${ratingKey(group.steps[k].tea)} could not be written (wrong type?)`) } : r,
    );
    const appended = failedTeas.size === 0 ? plan.appended : plan.appended.filter((_, k) => !failedTeas.has(plan.builtFor[k] ?? ''));
    return { results, appended };
  }

  async scanSlice(): Promise<boolean> {
    const scan = this.scan;
    if (scan === null) return false;
    const [pattern, prefix] = SCAN_PATTERNS[scan.pattern];
    const [next, keys] = await this.redis.scan(scan.cursor, 'MATCH', pattern, 'COUNT', 1000);
    const teas = keys.map((key) => key.slice(prefix.length));
    const states = await Promise.all(teas.map((tea) => this.loadOrError(tea)));
    // A commit may have run since this slice began; found() leaves the teas it indexed alone.
    teas.forEach((tea, k) => {
      const state = states[k];
      if (!(state instanceof Error)) this.index.found(tea, state);
    });
    if (next !== '0') scan.cursor = next;
    else if (scan.pattern + 1 < SCAN_PATTERNS.length) this.scan = { pattern: scan.pattern + 1, cursor: '0' };
    else this.scan = null;
    return this.scan !== null;
  }

  get indexReady(): boolean {
    return this.scan === null;
  }

  bucketSums(): Words[] {
    return this.index.sums();
  }

  async bucketEntries(bucket: number, now: number): Promise<IndexedEntry[]> {
    const teas = this.index.teasOf(bucket);
    const states = await Promise.all(teas.map((tea) => this.loadOrError(tea)));
    const out: IndexedEntry[] = [];
    teas.forEach((tea, k) => {
      const state = states[k];
      if (!(state instanceof Error) && state !== EMPTY) out.push({ tea, state, ageMs: this.index.ageOf(tea, now) });
    });
    return out;
  }

  async setAside(entries: readonly string[]): Promise<void> {
    if (entries.length > 0) await this.redis.teaSetAside(OWNER_KEY, DEAD_KEY, this.id, String(DEAD_LETTER_LIMIT), ...entries.slice(-DEAD_LETTER_LIMIT));
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}
