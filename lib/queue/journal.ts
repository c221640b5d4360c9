/**
 * Where the queue keeps chunks that must survive a crash of the queue
 * process: those it could not hand to a subscriber at once, and those held
 * unapplied for a while (hub.ts says when). Gossip that flows never comes
 * here, so a busy ring costs the queue's Redis nothing.
 *
 * In Redis, channel C is the sorted set `qz:C`: score the chunk's id, member
 * `<id>\n<m1>\n...\n<mn>` (the id keeps equal chunks apart; JSON text has no
 * raw newline). The queue process is the only writer of these keys. The
 * layout of the previous version (lists `q:C` of chunks, leased chunks in
 * `ql:C`) is read once at start-up and converted.
 */
import type Redis from 'ioredis';

export interface JournaledChunk {
  id: number;
  messages: readonly string[];
}

export interface Journal {
  /** Every chunk kept, by channel, oldest first. */
  load(): Promise<Map<string, JournaledChunk[]>>;
  add(channel: string, chunk: JournaledChunk): Promise<void>;
  addMany(channel: string, chunks: readonly JournaledChunk[]): Promise<void>;
  remove(channel: string, chunks: readonly JournaledChunk[]): Promise<void>;
  /** The chunk lost its first messages to a take(). */
  replace(channel: string, before: JournaledChunk, after: JournaledChunk): Promise<void>;
  clear(): Promise<void>;
}

/** Keeps nothing: the queue's single-instance mode and tests, where a crash loses the channels. */
export class MemoryJournal implements Journal {
  async load(): Promise<Map<string, JournaledChunk[]>> {
    return new Map();
  }
  async add(): Promise<void> {}
  async addMany(): Promise<void> {}
  async remove(): Promise<void> {}
  async replace(): Promise<void> {}
  async clear(): Promise<void> {}
}

const PREFIX = 'qz:';
/** Chunks per Redis command. */
const SLICE = 1000;
const keyOf = (channel: string) => `${PREFIX}${channel}`;
const memberOf = (c: JournaledChunk) => `${c.id}\n${c.messages.join('\n')}`;

function parseMember(member: string): JournaledChunk {
  const [id, ...messages] = member.split('\n');
  return { id: Number(id), messages };
}

/** A chunk as the previous version stored it: one message's JSON, or `n\n<m1>\n...`. */
function legacyMessages(chunk: string): string[] {
  return chunk.startsWith('{') ? [chunk] : chunk.split('\n').slice(1);
}

async function scanKeys(redis: Redis, pattern: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  return keys;
}

export class RedisJournal implements Journal {
  constructor(
    private readonly redis: Redis,
    private readonly now: () => number = Date.now,
  ) {}

  async load(): Promise<Map<string, JournaledChunk[]>> {
    await this.convertLegacy();
    const out = new Map<string, JournaledChunk[]>();
    for (const key of await scanKeys(this.redis, `${PREFIX}*`)) {
      const members = await this.redis.zrange(key, 0, -1);
      if (members.length > 0) out.set(key.slice(PREFIX.length), members.map(parseMember));
    }
    return out;
  }

  /** The previous version's lists and leases, as chunks of this one, in their order (leased ones were the oldest). */
  private async convertLegacy(): Promise<void> {
    const channels = new Set<string>();
    // A drained channel may have left only its count (qn:) or its lease deadlines (qd:).
    for (const prefix of ['q:', 'qn:', 'ql:', 'qd:']) {
      for (const key of await scanKeys(this.redis, `${prefix}*`)) channels.add(key.slice(prefix.length));
    }
    let id = this.now() * 1000 - 1_000_000;
    for (const channel of channels) {
      const leased = (await this.redis.type(`ql:${channel}`)) === 'hash' ? await this.redis.hgetall(`ql:${channel}`) : {};
      const waiting = (await this.redis.type(`q:${channel}`)) === 'list' ? await this.redis.lrange(`q:${channel}`, 0, -1) : [];
      const chunks = [
        ...Object.entries(leased).sort(([a], [b]) => Number(a) - Number(b)).map(([, chunk]) => chunk),
        ...waiting,
      ].map((chunk) => ({ id: id++, messages: legacyMessages(chunk) }));
      if (chunks.length > 0) await this.addMany(channel, chunks);
      await this.redis.del(`q:${channel}`, `qn:${channel}`, `ql:${channel}`, `qd:${channel}`);
    }
    await this.redis.del('qseq');
  }

  async add(channel: string, chunk: JournaledChunk): Promise<void> {
    await this.redis.zadd(keyOf(channel), chunk.id, memberOf(chunk));
  }

  // In slices: a backlog of 100,000 chunks spread into one call's arguments overflows the stack.
  async addMany(channel: string, chunks: readonly JournaledChunk[]): Promise<void> {
    for (let k = 0; k < chunks.length; k += SLICE) {
      await this.redis.zadd(keyOf(channel), ...chunks.slice(k, k + SLICE).flatMap((c) => [c.id, memberOf(c)]));
    }
  }

  async remove(channel: string, chunks: readonly JournaledChunk[]): Promise<void> {
    for (let k = 0; k < chunks.length; k += SLICE) await this.redis.zrem(keyOf(channel), ...chunks.slice(k, k + SLICE).map(memberOf));
  }

  async replace(channel: string, before: JournaledChunk, after: JournaledChunk): Promise<void> {
    await this.redis.multi().zrem(keyOf(channel), memberOf(before)).zadd(keyOf(channel), after.id, memberOf(after)).exec();
  }

  async clear(): Promise<void> {
    const keys = await scanKeys(this.redis, `${PREFIX}*`);
    for (let k = 0; k < keys.length; k += 500) await this.redis.del(...keys.slice(k, k + 500));
  }
}
