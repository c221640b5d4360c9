/**
 * What the benchmark does to the systems' Redis servers directly: read their
 * INFO figures, flush them, write teas straight into them (the scale phase),
 * and wait for the store's replication to settle.
 */
import Redis from 'ioredis';
import type { System } from './systems';

function redisClient(host: string, port: number): Redis {
  return new Redis({ host, port, maxRetriesPerRequest: 2 });
}

/** Run `fn` on a fresh client of each Redis, in parallel, and always disconnect. */
function onEachRedis<T>(host: string, ports: number[], fn: (r: Redis) => Promise<T>): Promise<T[]> {
  return Promise.all(
    ports.map(async (port) => {
      const r = redisClient(host, port);
      try {
        return await fn(r);
      } finally {
        r.disconnect();
      }
    }),
  );
}

export async function flushRedis(host: string, ports: number[]): Promise<void> {
  await onEachRedis(host, ports, (r) => r.flushall());
}

/** A number from a field of Redis INFO, NaN when it is missing. */
function infoField(info: string, field: string): number {
  const m = new RegExp(`^${field}:(\\d+)`, 'm').exec(info);
  return m ? Number(m[1]) : NaN;
}

/** used_memory of each Redis, bytes. */
export async function redisUsedMemory(sys: System): Promise<number[]> {
  return onEachRedis(sys.host, sys.redisPorts, async (r) => infoField(await r.info('memory'), 'used_memory'));
}

/** Commands each Redis of the system (allRedisPorts order) has processed so far: INFO stats total_commands_processed. */
export async function redisCommandsProcessed(sys: System): Promise<number[]> {
  return onEachRedis(sys.host, sys.allRedisPorts, async (r) => infoField(await r.info('stats'), 'total_commands_processed'));
}

export const scaleTea = (k: number) => `scale-${k}`;

/**
 * Write teas scaleTea(from) .. scaleTea(to - 1) straight into Redis, in the
 * the contract's layout (hash /rating/<tea>: rating, choices, clocks), on every
 * Redis that holds them. One version each, clock {"bench": 0}, so that the
 * benchmark's writes ({"bench": n}, n > 0) supersede it.
 */
export async function preload(sys: System, from: number, to: number, onProgress?: (done: number) => void): Promise<void> {
  const clients = sys.redisPorts.map((port) => redisClient(sys.host, port));
  const BATCH = 2000;
  try {
    for (let start = from; start < to; start += BATCH) {
      const pipes = clients.map((c) => c.pipeline());
      const stop = Math.min(to, start + BATCH);
      for (let k = start; k < stop; k++) {
        const tea = scaleTea(k);
        const rating = (k % 10) + 1;
        for (const i of sys.holders(tea)) {
          pipes[i].hset(`/rating/${tea}`, 'rating', String(rating), 'choices', `[${rating}]`, 'clocks', '[{"bench":0}]');
        }
      }
      const results = await Promise.all(pipes.map((p) => p.exec()));
      for (const r of results) for (const [err] of r ?? []) if (err) throw err;
      onProgress?.(stop - from);
    }
  } finally {
    for (const c of clients) c.disconnect();
  }
}

/**
 * Wait until the store has replicated everything it acknowledged, and then
 * until it is quiet. Returns the seconds until *replicated*: every DB holds
 * the same data, which their anti-entropy sums (GET /ae/buckets) say
 * exactly (the sums are digests of every tea's whole state), polled every
 * 20 ms. Quiet comes after: the queue holds no message (GET /stats) and no
 * DB has a tuple in its digest or a chunk in its inbox, twice in a row 100
 * ms apart, so that no gossip (a tuple's last hop back to its primary)
 * overlaps what is measured next. Gives up after two minutes.
 */
export async function settleStore(queueUrl: string, dbUrls: string[]): Promise<number> {
  const started = Date.now();
  const getJson = async (url: string): Promise<unknown> => {
    const res = await fetch(url, { headers: { accept: 'application/json' } });
    return res.json();
  };
  const replicated = async (): Promise<boolean> => {
    const sums = await Promise.all(dbUrls.map(async (url) => JSON.stringify(((await getJson(`${url}/ae/buckets`)) as { sums: unknown }).sums)));
    return sums.every((x) => x === sums[0]);
  };
  const quiet = async (): Promise<boolean> => {
    const { channels } = (await getJson(`${queueUrl}/stats`)) as { channels: Record<string, { held: number }> };
    if (Object.values(channels).some((c) => c.held > 0)) return false;
    for (const url of dbUrls) {
      const body = (await getJson(`${url}/health`)) as { pending?: number; inbox?: number };
      if ((body.pending ?? 0) > 0 || (body.inbox ?? 0) > 0) return false;
    }
    return true;
  };
  const giveUpAt = started + 120_000;
  try {
    while (!(await replicated()) && Date.now() < giveUpAt) await new Promise((r) => setTimeout(r, 20));
    const seconds = (Date.now() - started) / 1000;
    let inARow = 0;
    while (inARow < 2 && Date.now() < giveUpAt) {
      inARow = (await quiet()) ? inARow + 1 : 0;
      if (inARow < 2) await new Promise((r) => setTimeout(r, 100));
    }
    return seconds;
  } catch (e) {
    throw new Error(`waiting for the store to settle: ${(e as Error).message}`);
  }
}
