/** The probes of issue 16's items 5-6: the internal routes, gzip bombs, and operations (slow bodies, floods of bad entries, routes). */
import { gzipSync } from 'node:zlib';
import Redis from 'ioredis';
import { bucketOf } from '../../lib/core/antiEntropy';
import { JSON_HEADERS, getRating, putRating, rawTcp, request } from '../support/http';
import { NDB, Target } from './target';
import { dbHealth, queuePut, queueStats, settle, sleep, spreadMs, statusCounts, statusOf, teaOn, tupleOf } from './support';

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
