/** The probes of issue 16's items 1-4: floods of siblings, huge clocks, deletes that grow tombstones, big same-tea batches. */
import { getRating, putRating, request, teaPath } from '../support/http';
import { NDB, Target } from './target';
import { Watch, bigClock, pool, rssMb, settle, sleep, spreadMs, statusCounts, statusOf, tupleOf } from './support';

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
    rssMb: await Promise.all(Array.from({ length: NDB }, (_, i) => rssMb(t.db(i)))),
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
