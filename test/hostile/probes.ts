/**
 * The probes of issue 16, items 1-6: requests a hostile but realistic client,
 * or anything on the host that reaches the internal routes, can send. Each
 * probe sends its input, watches the cluster meanwhile (latency of GETs of
 * other teas, whether a tea written during it reaches every DB) and returns
 * what it saw. The hostile suite (hostile.test.ts) asserts on these
 * observations; `node dist/test/hostile/report.js` prints them.
 */
import { gzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import Redis from 'ioredis';
import { bucketOf } from '../../lib/core/antiEntropy';
import { JSON_HEADERS, RawResponse, getRating, putRating, rawTcp, request, teaPath } from '../support/http';
import { NDB, Target } from './target';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Run `fn(0..n-1)` with at most `concurrency` at once; results in order. */
export async function pool<T>(n: number, concurrency: number, fn: (k: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(n);
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const k = next++;
      out[k] = await fn(k);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, concurrency) }, worker));
  return out;
}

/** How many answers had each status ("err" for none). */
export function statusCounts(statuses: (number | 'err')[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const s of statuses) counts[String(s)] = (counts[String(s)] ?? 0) + 1;
  return counts;
}

const settle = (p: Promise<RawResponse>): Promise<RawResponse | null> => p.catch(() => null);
const statusOf = (r: RawResponse | null): number | 'err' => (r === null ? 'err' : r.status);

/** GETs of a tea nobody touches, every 200 ms through the LB, while a probe runs. */
export class Watch {
  private readonly latencies: number[] = [];
  private failures = 0;
  private running = true;
  private readonly loop: Promise<void>;

  constructor(t: Target, tea = 'watched') {
    this.loop = (async () => {
      while (this.running) {
        const start = Date.now();
        const res = await settle(getRating(t.lb, tea));
        if (res?.status === 200) this.latencies.push(Date.now() - start);
        else this.failures++;
        await sleep(200);
      }
    })();
  }

  async stop(): Promise<{ gets: number; maxMs: number; medianMs: number; failures: number }> {
    this.running = false;
    await this.loop;
    const sorted = [...this.latencies].sort((a, b) => a - b);
    return { gets: sorted.length, maxMs: sorted.at(-1) ?? NaN, medianMs: sorted[Math.floor(sorted.length / 2)] ?? NaN, failures: this.failures };
  }
}

/**
 * Write `tea` at DB `at` (the LB when undefined) and return how long it took
 * to be read at every DB, or null when it was not everywhere within `boundMs`.
 */
export async function spreadMs(t: Target, tea: string, at?: number, boundMs = 10_000): Promise<number | null> {
  const start = Date.now();
  const res = await settle(putRating(at === undefined ? t.lb : t.db(at), tea, 7, { spreader: 1 }));
  if (res?.status !== 200) return null;
  while (Date.now() - start < boundMs) {
    const views = await Promise.all(Array.from({ length: NDB }, (_, i) => settle(getRating(t.db(i), tea))));
    if (views.every((v) => v?.status === 200 && JSON.stringify(v.json().choices) === '[7]')) return Date.now() - start;
    await sleep(100);
  }
  return null;
}

/** Resident memory of the process answering /health on `port`, in MB (null when it does not answer). */
export async function rssMb(t: Target, port: number): Promise<number | null> {
  const res = await settle(request(port, { method: 'GET', path: '/health', headers: { Accept: 'application/json' }, timeoutMs: 5000 }));
  if (res?.status !== 200) return null;
  const pid = res.json().pid as number;
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Math.round(Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN) / 1024);
}

export async function dbHealth(t: Target, i: number): Promise<Record<string, unknown> | null> {
  const res = await settle(request(t.db(i), { method: 'GET', path: '/health', headers: { Accept: 'application/json' }, timeoutMs: 5000 }));
  return res?.status === 200 ? res.json() : null;
}

export async function queueStats(t: Target): Promise<Record<string, { held: number; delivered: number }> | string> {
  const res = await settle(request(t.q, { method: 'GET', path: '/stats', headers: t.internal, timeoutMs: 5000 }));
  return res?.status === 200 ? res.json().channels : `stats answered ${statusOf(res)}`;
}

/** A clock of `n` entries `<prefix>0..`, each at `counter`. */
export function bigClock(prefix: string, n: number, counter = 1): Record<string, number> {
  return Object.fromEntries(Array.from({ length: n }, (_, k) => [`${prefix}${k}`, counter]));
}

/** A tea whose primary is DB `db`, named from `prefix`. */
export function teaOn(t: Target, db: number, prefix: string): string {
  for (let n = 0; ; n++) if (t.ring.primaryOf(`${prefix}-${n}`) === db) return `${prefix}-${n}`;
}

// ---- item 1 ----

export interface FloodOptions {
  puts: number;
  ids: number;
  concurrency: number;
}

/** Item 1: PUTs to one tea from many distinct client ids through the LB, `concurrency` at a time. */
export async function siblingFlood(t: Target, o: FloodOptions): Promise<Record<string, unknown>> {
  const tea = 'flooded';
  const watch = new Watch(t);
  const start = Date.now();
  const during = spreadMs(t, 'written-during-flood', 0);
  const statuses = await pool(o.puts, o.concurrency, async (k) =>
    statusOf(await settle(putRating(t.lb, tea, (k % 5) + 1, { [`client-${k % o.ids}`]: Math.floor(k / o.ids) + 1 }))),
  );
  const floodMs = Date.now() - start;
  const spreadDuring = await during;
  const spreadAfter = await spreadMs(t, 'written-after-flood', 0);
  const latency = await watch.stop();
  const primary = await settle(getRating(t.db(t.ring.primaryOf(tea)), tea));
  return {
    statuses: statusCounts(statuses), floodMs, spreadDuringMs: spreadDuring, spreadAfterMs: spreadAfter, otherGets: latency,
    siblingsAtPrimary: primary?.status === 200 ? primary.json().choices.length : `GET ${statusOf(primary)}`,
    refusal: await refusalText(t, tea, o.ids),
  };
}

async function refusalText(t: Target, tea: string, ids: number): Promise<string | null> {
  const res = await settle(putRating(t.lb, tea, 1, { [`client-${ids + 1}`]: 1 }));
  return res === null || res.status === 200 ? null : `${res.status} ${res.text}`;
}

// ---- item 2 ----

/** Item 2: PUTs to one tea, each with a clock of `entries` entries: all but one shared, one unique. */
export async function largeClocks(t: Target, puts: number, entries: number): Promise<Record<string, unknown>> {
  const tea = 'large-clocks';
  const watch = new Watch(t);
  const during = spreadMs(t, 'written-during-large-clocks', 0);
  const shared = bigClock('shared-', entries - 1);
  const statuses = await pool(puts, 8, async (k) => statusOf(await settle(putRating(t.lb, tea, 3, { ...shared, [`unique-${k}`]: 1 }))));
  const spreadDuring = await during;
  const start = Date.now();
  const get = await settle(getRating(t.lb, tea));
  const getMs = Date.now() - start;
  const spreadAfter = await spreadMs(t, 'written-after-large-clocks', 0);
  const redis = t.cluster.redisClient(t.ring.primaryOf(tea));
  const storedBytes = (await redis.hstrlen(`/rating/${tea}`, 'clocks').catch(() => -1)) as number;
  redis.disconnect();
  return {
    statuses: statusCounts(statuses), spreadDuringMs: spreadDuring, spreadAfterMs: spreadAfter, getStatus: statusOf(get), getMs,
    storedClocksBytes: storedBytes, otherGets: await watch.stop(),
    rssMb: await Promise.all(Array.from({ length: NDB }, (_, i) => rssMb(t, t.db(i)))),
    refusal: statuses.every((s) => s === 200) ? null : (await settle(putRating(t.lb, tea, 3, { ...shared, 'unique-x': 1 })))?.text ?? null,
  };
}

// ---- item 3 ----

/** Item 3: two PUTs with disjoint clocks of `entries` entries each, then DELETE. */
export async function bigDelete(t: Target, entries: number): Promise<Record<string, unknown>> {
  const tea = 'big-delete';
  const primary = t.ring.primaryOf(tea);
  const during = spreadMs(t, 'written-during-big-delete', (primary + 1) % NDB);
  const first = await putRating(t.lb, tea, 1, bigClock('left-', entries));
  const second = await putRating(t.lb, tea, 2, bigClock('right-', entries));
  const del = await request(t.lb, { method: 'DELETE', path: teaPath(tea), headers: { Accept: 'application/json' } });
  const redis = t.cluster.redisClient(primary);
  const tombstone = await redis.get(`tombstone:${tea}`).catch(() => null);
  redis.disconnect();
  const getAtPrimary = await settle(getRating(t.db(primary), tea));
  // Wait for the delete (or whatever state the primary has) to reach every DB.
  const deadline = Date.now() + 10_000;
  let everywhere: string[] = [];
  while (Date.now() < deadline) {
    const views = await Promise.all(Array.from({ length: NDB }, (_, i) => settle(getRating(t.db(i), tea))));
    everywhere = views.map((v) => (v?.status === 200 ? `${v.json().choices.length} versions` : `GET ${statusOf(v)}`));
    if (new Set(everywhere).size === 1) break;
    await sleep(250);
  }
  return {
    puts: [first.status, second.status], secondPut: second.status === 200 ? null : second.text, deleteStatus: del.status,
    tombstoneEntries: tombstone === null ? 0 : Object.keys(JSON.parse(tombstone)).length,
    getAtPrimary: statusOf(getAtPrimary), atEveryDb: everywhere, spreadDuringMs: await during,
    spreadAfterMs: await spreadMs(t, 'written-after-big-delete', primary),
  };
}

// ---- item 4 ----

/** A gossip tuple as DB `primary` would send it. */
export function tupleOf(primary: string, key: string, choice: number, clock: Record<string, number>, tombstone?: Record<string, number>): Record<string, unknown> {
  return { primary, key, rating: choice, choices: [choice], clocks: [clock], ...(tombstone ? { tombstone } : {}) };
}

/**
 * Item 4: `n` tuples of one tea put on db0's channel as db0 would, in
 * batches of `perBatch` (POST batch), and one batch of one more than the
 * chunk limit.
 */
export async function sameTeaBatch(t: Target, n: number, perBatch: number, overLimit: number): Promise<Record<string, unknown>> {
  const tea = 'batched';
  const headers = { ...t.internal, 'Content-Type': 'application/x-ndjson', Accept: 'application/json' };
  const lines = (from: number, count: number) => Array.from({ length: count }, (_, k) => JSON.stringify(tupleOf('db0', tea, (from + k) % 10, { batcher: from + k + 1 }))).join('\n');
  const start = Date.now();
  const during = spreadMs(t, 'written-during-batches', 2);
  const statuses: (number | 'err')[] = [];
  for (let from = 0; from < n; from += perBatch) {
    statuses.push(statusOf(await settle(request(t.q, { method: 'POST', path: '/q/db0/batch', headers, body: lines(from, Math.min(perBatch, n - from)), timeoutMs: 30_000 }))));
  }
  const over = await settle(request(t.q, { method: 'POST', path: '/q/db0/batch', headers, body: lines(n, overLimit), timeoutMs: 30_000 }));
  // db0 is the tuples' primary: they stop there, after db1, db2 and db3.
  const want = JSON.stringify([{ batcher: n }]);
  let mergedMs: number | null = null;
  let views: string[] = [];
  while (Date.now() - start < 15_000) {
    views = await viewsOfClocks(t, tea);
    if (views.slice(1).every((v) => v === want)) {
      mergedMs = Date.now() - start;
      break;
    }
    await sleep(250);
  }
  return {
    batchStatuses: statusCounts(statuses), overLimit: `${statusOf(over)} ${over?.text.slice(0, 200)}`, mergedAtDb1to3Ms: mergedMs, atEveryDb: views,
    stackErrors: [1, 2, 3].map((i) => t.logLines(`serverDB${i}.log`).filter((l) => /call stack/i.test(l)).length),
    spreadDuringMs: await during,
    spreadAfterMs: await spreadMs(t, 'written-after-batch', 0),
  };
}

async function viewsOfClocks(t: Target, tea: string): Promise<string[]> {
  const views = await Promise.all(Array.from({ length: NDB }, (_, i) => settle(getRating(t.db(i), tea))));
  return views.map((v) => (v?.status === 200 ? JSON.stringify(v.json().clocks) : `GET ${statusOf(v)}`));
}

// ---- item 5 ----

/** PUT one message on a queue channel with the original route, with or without the cluster's secret. */
export function queuePut(t: Target, channel: string, message: unknown, withSecret = false): Promise<RawResponse> {
  return request(t.q, { method: 'PUT', path: `/q/${channel}`, headers: { ...JSON_HEADERS, ...(withSecret ? t.internal : {}) }, body: JSON.stringify(message) });
}

async function viewsOf(t: Target, tea: string): Promise<string[]> {
  const views = await Promise.all(Array.from({ length: NDB }, (_, i) => settle(getRating(t.db(i), tea))));
  return views.map((v) => (v?.status === 200 ? JSON.stringify(v.json().choices) : `GET ${statusOf(v)}`));
}

/**
 * Item 5: forged gossip, forged anti-entropy, names the API refuses, and
 * many large bodies at once: without the cluster secret, or (withSecret)
 * with it, as a process that has it but sends nonsense.
 */
export async function internalRoutes(t: Target, bombs: number, withSecret = false): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const auth = withSecret ? t.internal : {};
  // A forged tuple: does it rewrite a tea on every DB?
  const forged = await queuePut(t, 'db0', tupleOf('db0', 'forged', 66, { mallory: 1 }), withSecret);
  // A forged tombstone over a tea a client wrote: deleted everywhere, and the owner's next write dropped?
  const victim = teaOn(t, 2, 'victim');
  await putRating(t.lb, victim, 4, { alice: 1 });
  await sleep(200);
  const tomb = await queuePut(t, 'db1', { primary: 'db1', key: victim, rating: 0, choices: [], clocks: [], tombstone: { alice: 1_000_000 } }, withSecret);
  // A tuple whose primary is no DB: does it go round the ring for ever?
  const loop = await queuePut(t, 'db0', tupleOf('nobody', 'looping', 1, { loop: 1 }), withSecret);
  await sleep(7000);
  const afterLoadWrite = await putRating(t.lb, victim, 5, { alice: 2 });
  await sleep(7000);
  out.forgedTuple = { put: forged.status, views: await viewsOf(t, 'forged') };
  out.forgedTombstone = { put: tomb.status, views: await viewsOf(t, victim), ownersNextWrite: afterLoadWrite.status };
  // A tuple that loops is sent on by every DB every flush-after-ms or so: it shows in every idle window; gossip still
  // finishing its round (the owner's write) shows in the first at most.
  const sent = () => Promise.all(Array.from({ length: NDB }, async (_, i) => ((await dbHealth(t, i))?.counts as { tuplesSent?: number } | undefined)?.tuplesSent ?? -1));
  const s1 = await sent();
  await sleep(4000);
  const s2 = await sent();
  await sleep(4000);
  const s3 = await sent();
  out.badPrimary = { put: loop.status, tuplesSentIn4sIdle: s3.map((s, i) => Math.min(s - s2[i], s2[i] - s1[i])) };
  // Anti-entropy entries with names the public API refuses.
  const aeStatuses: number[] = [];
  for (const key of ['..', '', 'x'.repeat(600)]) {
    const res = await request(t.db(0), { method: 'PUT', path: `/ae/buckets/${bucketOf(key)}`, headers: { ...JSON_HEADERS, ...auth }, body: JSON.stringify({ entries: [{ ...tupleOf('db1', key, 9, { ae: 1 }), ageMs: null }] }) });
    aeStatuses.push(res.status);
  }
  const redis0 = t.cluster.redisClient(0);
  out.aeBadNames = { statuses: aeStatuses, storedDotDot: (await redis0.exists('/rating/..')) === 1, storedLong: (await redis0.exists(`/rating/${'x'.repeat(600)}`)) === 1 };
  // GET /q/<any name>: does it leave anything behind, in the queue or its Redis?
  const qRedis = new Redis({ host: t.host, port: t.cluster.layout.qRedisPort, password: t.cluster.redisPassword, lazyConnect: false, maxRetriesPerRequest: 1 });
  const keysBefore = await qRedis.dbsize();
  const names = Array.from({ length: 50 }, (_, k) => `probe-${k}`);
  const takes = await Promise.all(names.map((n) => settle(request(t.q, { method: 'GET', path: `/q/${n}`, headers: auth }))));
  const stats = await queueStats(t);
  out.getAnyName = {
    statuses: statusCounts(takes.map(statusOf)), queueRedisKeysAdded: (await qRedis.dbsize()) - keysBefore,
    channelsListed: typeof stats === 'string' ? stats : Object.keys(stats).filter((c) => c.startsWith('probe-')).length,
  };
  qRedis.disconnect();
  redis0.disconnect();
  out.bombs = await gzipBombs(t, bombs, auth);
  const dead = t.cluster.redisClient(1);
  out.setAsideAtDb1 = await dead.llen('gossip:dead').catch(() => -1);
  dead.disconnect();
  return out;
}

/** `n` concurrent 32 KB gzip bodies that expand to 32 MB, at a DB's /ae route and at the queue's batch route. */
export async function gzipBombs(t: Target, n: number, auth: Record<string, string>): Promise<Record<string, unknown>> {
  const pad = ' '.repeat(32 * 1024 * 1024 - 40);
  const aeBomb = gzipSync(Buffer.from(`{"entries":[],"pad":"${pad}"}`));
  const qBomb = gzipSync(Buffer.from(`{"a":"${pad}"}\n`));
  const headers = (type: string) => ({ ...auth, 'Content-Type': type, 'Content-Encoding': 'gzip', Accept: 'application/json' });
  const during = spreadMs(t, `written-during-bombs-${Object.keys(auth).length}`, 1);
  const ae = await Promise.all(Array.from({ length: n }, () => settle(request(t.db(1), { method: 'PUT', path: '/ae/buckets/0', headers: headers('application/json'), body: aeBomb, timeoutMs: 60_000 }))));
  const q = await Promise.all(Array.from({ length: n }, () => settle(request(t.q, { method: 'POST', path: '/q/bombed/batch', headers: headers('application/x-ndjson'), body: qBomb, timeoutMs: 60_000 }))));
  return {
    bodyBytes: aeBomb.length, ae: statusCounts(ae.map(statusOf)), queue: statusCounts(q.map(statusOf)), spreadDuringMs: await during,
    alive: { db1: (await dbHealth(t, 1)) !== null, queue: typeof (await queueStats(t)) !== 'string' },
  };
}

// ---- item 6 ----

/** Item 6: one small request of many bad entries, a body that never finishes, a route in capitals. */
export async function operations(t: Target, badEntries: number, slowBodyCapMs: number): Promise<Record<string, unknown>> {
  const before = t.logLines('serverDB1.log').length + t.logLines('serverDB2.log').length;
  const during = spreadMs(t, 'written-during-operations', 3);
  const body = gzipSync(Buffer.from(JSON.stringify({ entries: Array.from({ length: badEntries }, () => ({})) })));
  const ae = await settle(request(t.db(1), { method: 'PUT', path: '/ae/buckets/0', headers: { ...t.internal, 'Content-Type': 'application/json', 'Content-Encoding': 'gzip', Accept: 'application/json' }, body, timeoutMs: 30_000 }));
  const lines = gzipSync(Buffer.from(Array.from({ length: badEntries }, () => '{}').join('\n')));
  const batch = await settle(request(t.q, { method: 'POST', path: '/q/db1/batch', headers: { ...t.internal, 'Content-Type': 'application/x-ndjson', 'Content-Encoding': 'gzip', Accept: 'application/json' }, body: lines, timeoutMs: 30_000 }));
  await sleep(3000);
  const after = t.logLines('serverDB1.log').length + t.logLines('serverDB2.log').length;
  // A body that never finishes: how long does the server hold the connection?
  const start = Date.now();
  await rawTcp(t.lb, `PUT /rating/slow HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"rating"`, { end: false, waitMs: slowBodyCapMs });
  const heldMs = Date.now() - start;
  const capital = await putRating(t.lb, 'x', 1, { a: 1 }).then(() => request(t.lb, { method: 'PUT', path: '/RATING/x', headers: JSON_HEADERS, body: '{"rating": 2, "clock": {"b": 1}}' }));
  const redis = t.cluster.redisClient(t.ring.primaryOf('/RATING/x'));
  const stored = (await redis.exists('/rating//RATING/x')) === 1;
  redis.disconnect();
  return {
    aeBodyBytes: body.length, aeStatus: statusOf(ae), batchBodyBytes: lines.length, batchStatus: statusOf(batch), logLinesWritten: after - before,
    slowBodyHeldMs: heldMs, slowBodyCapMs, capitalRoute: capital.status, capitalStoredAsTea: stored, spreadDuringMs: await during,
  };
}

export { putRating, getRating };
