/**
 * Channels in a Redis of the queue's own: channel C is the list `q:C`; its
 * leased messages are the hash `ql:C` (id -> message) with deadlines in the
 * sorted set `qd:C`. Each operation is one Lua script, so a crash of the
 * queue process between steps cannot lose or duplicate a message. With the
 * Redis on appendonly/everysec, SIGKILL of either process loses nothing
 * acknowledged; a machine crash may lose the last second.
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
const LEASE = `${REQUEUE_EXPIRED}
local out = {}
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
return out
`;

// KEYS: list, lease hash, deadlines. ARGV: now.
const TAKE = `${REQUEUE_EXPIRED}
return redis.call('LPOP', KEYS[1])
`;

// KEYS: lease hash, deadlines. ARGV: ids.
const ACK = `
local n = 0
for i = 1, #ARGV do
  n = n + redis.call('HDEL', KEYS[1], ARGV[i])
  redis.call('ZREM', KEYS[2], ARGV[i])
end
return n
`;

type ScriptedRedis = Redis & {
  qLease(list: string, leases: string, deadlines: string, seq: string, now: number, max: number, ms: number): Promise<string[]>;
  qTake(list: string, leases: string, deadlines: string, now: number): Promise<string | null>;
  qAck(leases: string, deadlines: string, ...ids: string[]): Promise<number>;
};

const keys = (channel: string) => ({ list: `q:${channel}`, leases: `ql:${channel}`, deadlines: `qd:${channel}` });

export class RedisChannelStore implements ChannelStore {
  private readonly redis: ScriptedRedis;

  constructor(redis: Redis, private readonly now: () => number = Date.now) {
    redis.defineCommand('qLease', { numberOfKeys: 4, lua: LEASE });
    redis.defineCommand('qTake', { numberOfKeys: 3, lua: TAKE });
    redis.defineCommand('qAck', { numberOfKeys: 2, lua: ACK });
    this.redis = redis as ScriptedRedis;
  }

  async put(channel: string, messages: object[]): Promise<number> {
    return this.redis.rpush(keys(channel).list, ...messages.map((m) => JSON.stringify(m)));
  }

  async take(channel: string): Promise<object | null> {
    const k = keys(channel);
    const raw = await this.redis.qTake(k.list, k.leases, k.deadlines, this.now());
    return raw === null ? null : (JSON.parse(raw) as object);
  }

  async lease(channel: string, max: number, leaseMs: number): Promise<Leased[]> {
    const k = keys(channel);
    const flat = await this.redis.qLease(k.list, k.leases, k.deadlines, 'qseq', this.now(), max, leaseMs);
    const out: Leased[] = [];
    for (let i = 0; i < flat.length; i += 2) out.push({ id: flat[i], body: JSON.parse(flat[i + 1]) as object });
    return out;
  }

  async ack(channel: string, ids: string[]): Promise<number> {
    if (ids.length === 0) return 0;
    const k = keys(channel);
    return this.redis.qAck(k.leases, k.deadlines, ...ids);
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
    return counts;
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
