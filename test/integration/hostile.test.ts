/**
 * Hostile input and overload (issue 16): the probes of items 1-6 replayed,
 * smaller, against a cluster of real processes with a cluster secret, as
 * `npm start` runs it (4 DBs, the queue, the LB, their Redis servers with
 * requirepass) on the hostile suite's own ports. After each probe: every
 * server still runs, and a tea written during and after it reaches every DB
 * within the 10 s bound; at the end, 20 teas written before are intact on
 * every DB.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { LIMITS } from '../../lib/core/limits';
import { Cluster } from '../../tools/cluster/cluster';
import { startProcess } from '../../tools/cluster/processes';
import { Supervisor } from '../../tools/cluster/supervisor';
import { portsFor } from '../../tools/ports';
import { allProcesses, isAlive, stopCluster, track } from '../support/cluster';
import { expectError } from '../support/expect';
import { JSON_HEADERS, getOk, putOk, rawTcp, request } from '../support/http';
import {
  bigDelete, dbHealth, gzipBombs, internalRoutes, largeClocks, operations, sameTeaBatch, siblingFlood, sleep, spreadMs,
} from '../hostile/probes';
import { NDB, Target, hostileCluster, startTarget } from '../hostile/target';

/** The contract's convergence bound. */
const BOUND_MS = 10_000;
const KEEPSAKES = Array.from({ length: 20 }, (_, k) => `keepsake-${k}`);

describe('integration: hostile input and overload never crash a server, stall gossip or lose a delete (issue 16)', function () {
  this.timeout(60_000);
  let cluster: Cluster;
  let t: Target;

  before(async function () {
    this.timeout(90_000);
    cluster = hostileCluster();
    try {
      t = await startTarget(cluster);
    } finally {
      for (const p of allProcesses(cluster)) track(p);
    }
    await Promise.all(KEEPSAKES.map((tea, k) => putOk(t.lb, tea, k, { [`keeper-${k}`]: 1 })));
  });

  after(async function () {
    this.timeout(30_000);
    await stopCluster(cluster);
  });

  /** What every probe must leave: every server running, and gossip flowing within the bound. */
  async function expectHealthy(what: string, observed: Record<string, unknown>): Promise<void> {
    for (const p of allProcesses(cluster)) expect(isAlive(p), `${p.role} runs after ${what}`).to.equal(true);
    for (const key of ['spreadDuringMs', 'spreadAfterMs']) {
      if (key in observed) expect(observed[key], `${key} of ${what}: ${JSON.stringify(observed)}`).to.be.a('number').below(BOUND_MS);
    }
  }

  it('item 1: a sibling flood is refused past the sibling limit with a 409 that says what to do; gossip flows on, other reads stay fast', async function () {
    const seen = await siblingFlood(t, { puts: 1500, ids: 300, concurrency: 64 });
    const statuses = seen.statuses as Record<string, number>;
    expect(Object.keys(statuses).sort(), JSON.stringify(seen)).to.deep.equal(['200', '409']);
    expect(seen.siblingsAtPrimary).to.equal(LIMITS.tea.versions);
    expect(seen.refusal).to.match(/^409 .*versions.*at most 64.*merge/);
    expect((seen.otherGets as { maxMs: number }).maxMs, JSON.stringify(seen.otherGets)).to.be.below(2000);
    await expectHealthy('the sibling flood', seen);
  });

  it('item 2: a write that would take a tea past its clock entries is refused; nothing is stored half-way', async function () {
    const seen = await largeClocks(t, 20, LIMITS.clockEntries);
    expect(seen.statuses, JSON.stringify(seen)).to.deep.equal({ 200: 1, 409: 19 });
    expect(seen.refusal).to.match(/clock entries.*at most 1024/);
    expect(seen.storedClocksBytes).to.be.within(1, LIMITS.tea.chars);
    expect(seen.getStatus).to.equal(200);
    await expectHealthy('the large clocks', seen);
  });

  it('item 3: a delete never makes a clock beyond the limits: the tea reads, and the delete reaches every DB', async function () {
    const seen = await bigDelete(t, 600);
    expect(seen.puts, JSON.stringify(seen)).to.deep.equal([200, 409]);
    expect(seen.deleteStatus).to.equal(200);
    expect(seen.tombstoneEntries).to.equal(600);
    expect(seen.getAtPrimary).to.equal(200);
    expect(seen.atEveryDb).to.deep.equal(Array(NDB).fill('0 versions'));
    await expectHealthy('the big delete', seen);
  });

  it('item 4: same-tea batches of a full chunk merge at every DB; one tuple more is a 413', async function () {
    const seen = await sameTeaBatch(t, 3000, LIMITS.chunk.messages, LIMITS.chunk.messages + 1);
    expect(seen.batchStatuses, JSON.stringify(seen)).to.deep.equal({ 200: 3 });
    expect(seen.overLimit).to.match(/^413 .*at most 1000 messages/);
    expect(seen.mergedAtDb1to3Ms, JSON.stringify(seen.atEveryDb)).to.be.a('number').below(BOUND_MS);
    expect(seen.stackErrors).to.deep.equal([0, 0, 0]);
    await expectHealthy('the same-tea batches', seen);
  });

  it('item 5: without the cluster secret, every internal route is a 401, before any body is read', async function () {
    const plain = { Accept: 'application/json' };
    const refused = [
      await request(t.q, { method: 'PUT', path: '/q/db0', headers: JSON_HEADERS, body: '{"primary": "db0", "key": "x", "rating": 1, "choices": [1], "clocks": [{"m": 1}]}' }),
      await request(t.q, { method: 'GET', path: '/q/db0', headers: plain }),
      await request(t.q, { method: 'DELETE', path: '/clear', headers: plain }),
      await request(t.q, { method: 'GET', path: '/stats', headers: plain }),
      await request(t.q, { method: 'POST', path: '/q/db0/batch', headers: { 'Content-Type': 'application/x-ndjson', Accept: 'application/json' }, body: '{}' }),
      await request(t.db(0), { method: 'GET', path: '/ae/buckets', headers: plain }),
      await request(t.db(0), { method: 'GET', path: '/ae/buckets/3', headers: plain }),
      await request(t.db(0), { method: 'PUT', path: '/ae/buckets/3', headers: JSON_HEADERS, body: '{"entries": []}' }),
      await request(t.db(0), { method: 'GET', path: '/ae/buckets', headers: { ...plain, Authorization: 'Bearer not-the-secret-at-all' } }),
    ];
    for (const res of refused) expectError(res, 401, /secret/);
    const upgrade = await rawTcp(t.q, 'GET /q/db3/subscribe?publish=db0 HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tea-gossip\r\n\r\n');
    expect(upgrade).to.match(/^HTTP\/1\.1 401/);
    const bombs = await gzipBombs(t, 200, {});
    expect(bombs.ae, JSON.stringify(bombs)).to.deep.equal({ 401: 200 });
    expect(bombs.queue).to.deep.equal({ 401: 200 });
    // The public API needs no secret.
    expect(await putOk(t.lb, 'public', 1, { p: 1 })).to.deep.equal({ rating: 1 });
    await expectHealthy('the unauthenticated internal requests', { spreadDuringMs: bombs.spreadDuringMs, spreadAfterMs: await spreadMs(t, 'written-after-401s', 1) });
  });

  it('item 5: with the secret, gossip is checked as strictly as a write: no loop, no name the API refuses; large bodies are bounded', async function () {
    const seen = await internalRoutes(t, 200, true);
    expect((seen.badPrimary as { tuplesSentIn4sIdle: number[] }).tuplesSentIn4sIdle, JSON.stringify(seen)).to.deep.equal([0, 0, 0, 0]);
    expect(seen.aeBadNames).to.deep.equal({ statuses: [200, 200, 200], storedDotDot: false, storedLong: false });
    expect(seen.setAsideAtDb1).to.be.at.least(1);
    const bombs = seen.bombs as { ae: Record<string, number>; queue: Record<string, number>; alive: Record<string, boolean>; spreadDuringMs: number | null };
    expect(Object.keys(bombs.ae).every((s) => s === '413' || s === '429'), JSON.stringify(bombs)).to.equal(true);
    expect(Object.keys(bombs.queue).every((s) => s === '413' || s === '429'), JSON.stringify(bombs)).to.equal(true);
    expect(bombs.alive).to.deep.equal({ db1: true, queue: true });
    expect(t.logLines('serverDB1.log').filter((l) => /set aside/.test(l)).length).to.be.within(1, 5);
    await expectHealthy('the forged internal requests', { spreadDuringMs: bombs.spreadDuringMs, spreadAfterMs: await spreadMs(t, 'written-after-forgeries', 2) });
  });

  it('item 6: 200,000 bad entries cost a few log lines; a body that never ends is dropped in seconds; /RATING/x is no route', async function () {
    const seen = await operations(t, 200_000, 20_000);
    expect(seen.batchStatus, JSON.stringify(seen)).to.equal(413);
    expect(seen.logLinesWritten).to.be.below(10);
    expect(seen.slowBodyHeldMs).to.be.below(13_000);
    expect(seen.capitalRoute).to.equal(404);
    expect(seen.capitalStoredAsTea).to.equal(false);
    await expectHealthy('the operations probes', { ...seen, spreadAfterMs: await spreadMs(t, 'written-after-operations', 3) });
  });

  it("item 6: npm start's supervisor starts a killed DB again, and a server's stderr is in its log file", async function () {
    const supervisor = new Supervisor(() => undefined, { firstMs: 200, maxMs: 1000, healthyAfterMs: 60_000 });
    try {
      const settings = {};
      supervisor.watch(cluster.dbs[3], () => cluster.startDB(3, settings).then(track));
      const oldPid = (await dbHealth(t, 3))?.pid;
      cluster.dbs[3].child.kill('SIGKILL');
      const deadline = Date.now() + 15_000;
      let pid = oldPid;
      while (Date.now() < deadline && (pid === oldPid || pid === undefined)) {
        await sleep(200);
        pid = (await dbHealth(t, 3))?.pid;
      }
      expect(pid, 'db3 answers again, as a new process').to.be.a('number').and.not.equal(oldPid);
    } finally {
      supervisor.stop();
    }
    // A server that dies at start-up says why on stderr: that lands in its log file.
    const logfile = join(t.logDir, 'serverDB-bad.log');
    const bad = startProcess({
      role: 'bad db', host: t.host, port: portsFor('hostile').spare(0), command: process.execPath,
      args: [join(cluster.layout.root, 'dist', 'serverDB.js'), '{"id": "one"}'], logfile, timeoutMs: 5000,
    });
    await bad.then(() => expect.fail('a DB with id "one" must not start'), (e: Error) => expect(e.message).to.match(/"id" must be/));
    expect(readFileSync(logfile, 'utf8')).to.match(/"id" must be/);
    await expectHealthy('the restart', { spreadAfterMs: await spreadMs(t, 'written-after-restart', 3) });
  });

  it('after all that: the 20 teas written before are intact on every DB', async function () {
    for (let i = 0; i < NDB; i++) {
      for (const [k, tea] of KEEPSAKES.entries()) {
        expect(await getOk(t.db(i), tea), `${tea} at db${i}`).to.deep.equal({ rating: k, choices: [k], clocks: [{ [`keeper-${k}`]: 1 }] });
      }
    }
  });
});
