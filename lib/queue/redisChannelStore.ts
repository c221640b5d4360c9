/**
 * Channels in a Redis of the queue's own. Channel C is the list `q:C` of
 * chunks (channelStore.ts): a chunk of one message is the message's JSON
 * text, a chunk of n >= 2 is `n\n<m1>\n...\n<mn>` (JSON text has no raw
 * newline, and one message per element is also how the previous version
 * kept channels, so its data reads as it is). `qn:C` counts the messages
 * waiting; leased chunks are the hash `ql:C` (id -> chunk) with deadlines in
 * the sorted set `qd:C`. Each operation is one Lua script, so a crash of the
 * queue process between steps cannot lose or duplicate a message. With the
 * Redis on appendonly/everysec, SIGKILL of either process loses nothing
 * acknowledged; a machine crash may lose the last second.
 *
 * Every script also returns how many messages wait, how many chunks are
 * leased and when the first lease expires, and the store remembers those: a
 * lease on a channel with nothing waiting and nothing leased (what most
 * drains find) is answered without asking Redis, and so is "how many wait"
 * until a lease may have expired. That holds because this process is the only writer
 * of its channels' keys.
 */
import Redis from 'ioredis';
import { ChannelStore, Leased } from './channelStore';

// Shared by every script. KEYS[1] list, KEYS[2] count, KEYS[3] lease hash, KEYS[4] deadlines.
const PRELUDE = `
local function size(chunk)
  if string.byte(chunk, 1) == 123 then return 1 end -- '{': a single message
  return tonumber(string.sub(chunk, 1, string.find(chunk, '\\n', 1, true) - 1))
end
local function waiting()
  local n = redis.call('GET', KEYS[2])
  if n then return tonumber(n) end
  n = 0
  for _, chunk in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do n = n + size(chunk) end
  redis.call('SET', KEYS[2], n)
  return n
end
local function requeueExpired(now)
  local expired = redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', now)
  if #expired == 0 then return end
  -- Lease ids count up: back in the order they were leased (equal deadlines sort as strings).
  table.sort(expired, function(a, b) return tonumber(a) < tonumber(b) end)
  local n = waiting()
  for i = #expired, 1, -1 do
    local chunk = redis.call('HGET', KEYS[3], expired[i])
    if chunk then
      redis.call('LPUSH', KEYS[1], chunk)
      n = n + size(chunk)
    end
    redis.call('HDEL', KEYS[3], expired[i])
    redis.call('ZREM', KEYS[4], expired[i])
  end
  redis.call('SET', KEYS[2], n)
end
-- Acknowledge the lease ids ARGV[first..]: forget their chunks. Returns how many were still leased.
local function forget(first)
  local n = 0
  for i = first, #ARGV do
    n = n + redis.call('HDEL', KEYS[3], ARGV[i])
    redis.call('ZREM', KEYS[4], ARGV[i])
  end
  return n
end
local function counts(w)
  local first = redis.call('ZRANGE', KEYS[4], 0, 0, 'WITHSCORES')
  return {w, redis.call('HLEN', KEYS[3]), first[2] or -1}
end
`;

// Every script returns first: messages waiting, chunks leased, the earliest lease deadline (-1: none).

// ARGV: chunk, its message count.
const PUT = `${PRELUDE}
local n = waiting() + tonumber(ARGV[2])
redis.call('RPUSH', KEYS[1], ARGV[1])
redis.call('SET', KEYS[2], n)
return counts(n)
`;

// ARGV: now. Then the oldest message, if any.
const TAKE = `${PRELUDE}
requeueExpired(ARGV[1])
local chunk = redis.call('LPOP', KEYS[1])
if not chunk then return counts(waiting()) end
local n = size(chunk)
local message = chunk
if n > 1 then
  local header = string.find(chunk, '\\n', 1, true)
  local stop = string.find(chunk, '\\n', header + 1, true)
  message = string.sub(chunk, header + 1, stop - 1)
  local rest = string.sub(chunk, stop + 1)
  if n > 2 then rest = (n - 1) .. '\\n' .. rest end
  redis.call('LPUSH', KEYS[1], rest)
end
local left = waiting() - 1
redis.call('SET', KEYS[2], left)
local out = counts(left)
out[4] = message
return out
`;

// KEYS[5] id counter. ARGV: now, max messages, lease ms, then ids to acknowledge first (see ACK). Then id, chunk pairs.
const LEASE = `${PRELUDE}
requeueExpired(ARGV[1])
forget(4)
local out = {0, 0, 0}
local deadline = tonumber(ARGV[1]) + tonumber(ARGV[3])
local left = waiting()
local taken = 0
while taken < tonumber(ARGV[2]) do
  local chunk = redis.call('LPOP', KEYS[1])
  if not chunk then break end
  local id = tostring(redis.call('INCR', KEYS[5]))
  redis.call('HSET', KEYS[3], id, chunk)
  redis.call('ZADD', KEYS[4], deadline, id)
  local n = size(chunk)
  taken = taken + n
  left = left - n
  out[#out + 1] = id
  out[#out + 1] = chunk
end
if taken > 0 then redis.call('SET', KEYS[2], left) end
local c = counts(left)
out[1], out[2], out[3] = c[1], c[2], c[3]
return out
`;

// ARGV: now, then ids. An expired lease goes back first: its id no longer counts. Then how many were acknowledged.
const ACK = `${PRELUDE}
requeueExpired(ARGV[1])
local n = forget(2)
local out = counts(waiting())
out[4] = n
return out
`;

// ARGV: now.
const COUNTS = `${PRELUDE}
requeueExpired(ARGV[1])
return counts(waiting())
`;

type Keys = [list: string, count: string, leases: string, deadlines: string];

/** Waiting, leased, earliest deadline, then what the script returns. */
type Reply = [number, number, number | string, ...(number | string | null)[]];

type ScriptedRedis = Redis & {
  qPut(...args: [...Keys, string, number]): Promise<Reply>;
  qTake(...args: [...Keys, number]): Promise<Reply>;
  qLease(...args: [...Keys, string, number, number, number, ...string[]]): Promise<Reply>;
  qAck(...args: [...Keys, number, ...string[]]): Promise<Reply>;
  qCounts(...args: [...Keys, number]): Promise<Reply>;
};

const keysOf = (channel: string): Keys => [`q:${channel}`, `qn:${channel}`, `ql:${channel}`, `qd:${channel}`];
const SEQ = 'qseq';

/** A chunk as stored: see the header comment. */
export function encodeChunk(messages: string[]): string {
  return messages.length === 1 ? messages[0] : `${messages.length}\n${messages.join('\n')}`;
}

export function decodeChunk(chunk: string): string[] {
  if (chunk.startsWith('{')) return [chunk];
  return chunk.split('\n').slice(1);
}

interface Counts {
  waiting: number;
  leased: number;
  /** When the earliest lease expires (Infinity: none): from then on the counts may be out of date. */
  nextDeadline: number;
}

export class RedisChannelStore implements ChannelStore {
  private readonly redis: ScriptedRedis;
  /** Last known counts per channel; a channel not here is unknown and asks Redis. */
  private readonly counts = new Map<string, Counts>();

  constructor(redis: Redis, private readonly now: () => number = Date.now) {
    redis.defineCommand('qPut', { numberOfKeys: 4, lua: PUT });
    redis.defineCommand('qTake', { numberOfKeys: 4, lua: TAKE });
    redis.defineCommand('qLease', { numberOfKeys: 5, lua: LEASE });
    redis.defineCommand('qAck', { numberOfKeys: 4, lua: ACK });
    redis.defineCommand('qCounts', { numberOfKeys: 4, lua: COUNTS });
    this.redis = redis as ScriptedRedis;
  }

  private isIdle(channel: string): boolean {
    const c = this.counts.get(channel);
    return c !== undefined && c.waiting === 0 && c.leased === 0;
  }

  /** Run a script on the channel; its counts are remembered, or forgotten if it may or may not have run. */
  private async counted(channel: string, run: Promise<Reply>): Promise<Reply> {
    try {
      const result = await run;
      const deadline = Number(result[2]);
      this.counts.set(channel, { waiting: Number(result[0]), leased: Number(result[1]), nextDeadline: deadline < 0 ? Infinity : deadline });
      return result;
    } catch (e) {
      this.counts.delete(channel);
      throw e;
    }
  }

  async put(channel: string, messages: string[]): Promise<number> {
    if (messages.length === 0) return this.waiting(channel);
    const [waiting] = await this.counted(channel, this.redis.qPut(...keysOf(channel), encodeChunk(messages), messages.length));
    return Number(waiting);
  }

  async take(channel: string): Promise<string | null> {
    if (this.isIdle(channel)) return null;
    const reply = await this.counted(channel, this.redis.qTake(...keysOf(channel), this.now()));
    return reply.length > 3 ? String(reply[3]) : null;
  }

  async lease(channel: string, max: number, leaseMs: number, ack: readonly string[] = []): Promise<Leased[]> {
    if (ack.length === 0 && this.isIdle(channel)) return [];
    const flat = await this.counted(channel, this.redis.qLease(...keysOf(channel), SEQ, this.now(), max, leaseMs, ...ack));
    const out: Leased[] = [];
    for (let i = 3; i < flat.length; i += 2) out.push({ id: String(flat[i]), messages: decodeChunk(String(flat[i + 1])) });
    return out;
  }

  async ack(channel: string, ids: readonly string[]): Promise<number> {
    if (ids.length === 0) return 0;
    const reply = await this.counted(channel, this.redis.qAck(...keysOf(channel), this.now(), ...ids));
    return Number(reply[3]);
  }

  async waiting(channel: string): Promise<number> {
    const known = this.counts.get(channel);
    if (known && this.now() < known.nextDeadline) return known.waiting;
    const [waiting] = await this.counted(channel, this.redis.qCounts(...keysOf(channel), this.now()));
    return Number(waiting);
  }

  async clear(): Promise<Record<string, number>> {
    const counts: Record<string, number> = Object.create(null);
    const found: string[] = [];
    for (const pattern of ['q:*', 'ql:*']) {
      let cursor = '0';
      do {
        const [next, batch] = await this.redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
        cursor = next;
        found.push(...batch);
      } while (cursor !== '0');
    }
    for (const key of found) {
      const isList = key.startsWith('q:');
      const channel = key.slice(isList ? 2 : 3);
      const chunks = isList ? await this.redis.lrange(key, 0, -1) : await this.redis.hvals(key);
      counts[channel] = (counts[channel] ?? 0) + chunks.reduce((n, chunk) => n + decodeChunk(chunk).length, 0);
      if (isList) await this.redis.del(key, `qn:${channel}`);
      else await this.redis.del(key, `qd:${channel}`);
    }
    this.counts.clear();
    return counts;
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
