/**
 * Channels in a Redis of the queue's own: channel C is the list `q:C`; its
 * leased messages are the hash `ql:C` (id -> message) with deadlines in the
 * sorted set `qd:C`. Each operation is one Lua script, so a crash of the
 * queue process between steps cannot lose or duplicate a message. With the
 * Redis on appendonly/everysec, SIGKILL of either process loses nothing
 * acknowledged; a machine crash may lose the last second.
 *
 * Every script also returns how many messages wait and how many are leased,
 * and the store remembers those counts: a lease on a channel with nothing
 * waiting and nothing leased (what most drains find) is answered without
 * asking Redis. That holds because this process is the only writer of its
 * channels' keys.
 */
import Redis from 'ioredis';
import { ChannelStore, Leased } from './channelStore';

const REQUEUE_EXPIRED = `
local expired = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', ARGV[1])
for i = #expired, 1, -1 do
  local m = redis.call('HGET', KEYS[2], expired[i])
  if m then redis.call('LPUSH', KEYS[1], m) end
  redis.call('HDEL', KEYS[2], expired[i])
  redis.call('ZREM', KEYS[3], expired[i])
end
`;

// KEYS: list, lease hash, deadlines, id counter. ARGV: now, max, lease ms.
// Returns waiting, leased, then id, message pairs.
const LEASE = `${REQUEUE_EXPIRED}
local out = {0, 0}
local deadline = tonumber(ARGV[1]) + tonumber(ARGV[3])
for i = 1, tonumber(ARGV[2]) do
  local m = redis.call('LPOP', KEYS[1])
  if not m then break end
  local id = tostring(redis.call('INCR', KEYS[4]))
  redis.call('HSET', KEYS[2], id, m)
  redis.call('ZADD', KEYS[3], deadline, id)
  out[#out + 1] = id
  out[#out + 1] = m
end
out[1] = redis.call('LLEN', KEYS[1])
out[2] = redis.call('HLEN', KEYS[2])
return out
`;

// KEYS: list, lease hash, deadlines. ARGV: now. Returns waiting, leased, message or false.
const TAKE = `${REQUEUE_EXPIRED}
local m = redis.call('LPOP', KEYS[1])
return {redis.call('LLEN', KEYS[1]), redis.call('HLEN', KEYS[2]), m}
`;

// KEYS: lease hash, deadlines. ARGV: ids. Returns acknowledged, leased.
const ACK = `
local n = 0
for i = 1, #ARGV do
  n = n + redis.call('HDEL', KEYS[1], ARGV[i])
  redis.call('ZREM', KEYS[2], ARGV[i])
end
return {n, redis.call('HLEN', KEYS[1])}
`;

type ScriptedRedis = Redis & {
  qLease(list: string, leases: string, deadlines: string, seq: string, now: number, max: number, ms: number): Promise<(number | string)[]>;
  qTake(list: string, leases: string, deadlines: string, now: number): Promise<[number, number, string | null]>;
  qAck(leases: string, deadlines: string, ...ids: string[]): Promise<[number, number]>;
};

const keys = (channel: string) => ({ list: `q:${channel}`, leases: `ql:${channel}`, deadlines: `qd:${channel}` });

interface Counts {
  waiting: number;
  leased: number;
}

export class RedisChannelStore implements ChannelStore {
  private readonly redis: ScriptedRedis;
  /** Last known counts per channel; a channel not here is unknown and asks Redis. */
  private readonly counts = new Map<string, Counts>();

  constructor(redis: Redis, private readonly now: () => number = Date.now) {
    redis.defineCommand('qLease', { numberOfKeys: 4, lua: LEASE });
    redis.defineCommand('qTake', { numberOfKeys: 3, lua: TAKE });
    redis.defineCommand('qAck', { numberOfKeys: 2, lua: ACK });
    this.redis = redis as ScriptedRedis;
  }

  private isIdle(channel: string): boolean {
    const c = this.counts.get(channel);
    return c !== undefined && c.waiting === 0 && c.leased === 0;
  }

  async put(channel: string, messages: object[]): Promise<number> {
    try {
      const length = await this.redis.rpush(keys(channel).list, ...messages.map((m) => JSON.stringify(m)));
      const c = this.counts.get(channel);
      if (c) c.waiting = length;
      return length;
    } catch (e) {
      this.counts.delete(channel); // whether it landed is unknown
      throw e;
    }
  }

  async take(channel: string): Promise<object | null> {
    if (this.isIdle(channel)) return null;
    const k = keys(channel);
    const [waiting, leased, raw] = await this.redis.qTake(k.list, k.leases, k.deadlines, this.now());
    this.counts.set(channel, { waiting, leased });
    return raw == null ? null : (JSON.parse(raw) as object);
  }

  async lease(channel: string, max: number, leaseMs: number): Promise<Leased[]> {
    if (this.isIdle(channel)) return [];
    const k = keys(channel);
    const flat = await this.redis.qLease(k.list, k.leases, k.deadlines, 'qseq', this.now(), max, leaseMs);
    this.counts.set(channel, { waiting: Number(flat[0]), leased: Number(flat[1]) });
    const out: Leased[] = [];
    for (let i = 2; i < flat.length; i += 2) out.push({ id: String(flat[i]), body: JSON.parse(String(flat[i + 1])) as object });
    return out;
  }

  async ack(channel: string, ids: string[]): Promise<number> {
    if (ids.length === 0) return 0;
    const k = keys(channel);
    const [n, leased] = await this.redis.qAck(k.leases, k.deadlines, ...ids);
    const c = this.counts.get(channel);
    if (c) c.leased = leased;
    return n;
  }

  async waiting(channel: string): Promise<number> {
    const known = this.counts.get(channel);
    if (known) return known.waiting;
    const k = keys(channel);
    const [waiting, leased] = await Promise.all([this.redis.llen(k.list), this.redis.hlen(k.leases)]);
    this.counts.set(channel, { waiting, leased });
    return waiting;
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
      const n = isList ? await this.redis.llen(key) : await this.redis.hlen(key);
      counts[channel] = (counts[channel] ?? 0) + n;
      if (isList) await this.redis.del(key);
      else await this.redis.del(key, `qd:${channel}`);
    }
    this.counts.clear();
    return counts;
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
