/**
 * The fault suite (issue 4): under steady write load through the LB, SIGKILL
 * and restart a DB, a DB's Redis, the queue, the queue's Redis and the LB in
 * turn; bring a DB back with an empty Redis; cut a DB off the network for
 * 15 s; cut the queue off from every DB for 10 s (blackholed: what the loss
 * of the queue's machine looks like, unlike a killed process). Strong reads
 * run beside the writes. After each phase, read every DB directly until
 * every acknowledged write is on every DB and all DBs hold identical data,
 * and report how long that took after the last write, and the availability
 * of writes and of strong reads (answered / attempted) while the fault
 * lasted and over the whole phase. Prints each check and ends with a line
 * `N passed, N failed`; exits non-zero when anything failed.
 *
 *   node dist/test/fault/run.js [--writers 8] [--readers 2] [--pause-ms 5] [--phases a,b,c,d,e,f,g]
 *
 * Ports: the block tools/ports.ts gives the fault suite, clear of SPEC.md's
 * defaults, the integration tests', the benchmark's, and below Linux's
 * ephemeral range: LB 10000, DB i 10020+i, Redis i 10040+i, Q 10001, Q's
 * Redis 10002. DB 2 really listens on 10060 behind a proxy on 10022, reaches
 * the queue through a proxy on 10061 and the other DBs through proxies on
 * 10070+j; the other DBs reach the queue through a proxy on 10062 (phase g).
 * Logs and data: var/fault/.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { Cluster, Layout, ServerSettings, layoutFrom } from '../../tools/cluster/cluster';
import { assertPortFree, killProcess, stopProcess } from '../../tools/cluster/processes';
import { onPorts, portsFor } from '../../tools/ports';
import { nodeHttpClient } from '../../lib/net/httpClient';
import { loadDefaults, projectRoot } from '../../lib/server/boot';
import { Attempt, Ledger, Readers, Window, Writers, percent } from './load';
import { Proxy } from './proxy';
import { awaitConvergence, describe } from './verify';

const NDB = 4;
const PORTS = portsFor('fault');
/** The DB that lives behind proxies, and where it really listens. */
const PROXIED = 2;
const PROXIED_PRIVATE_PORT = PORTS.spare(0);
const QUEUE_PROXY_PORT = PORTS.spare(1);
/** The other DBs reach the queue through this proxy, so phase g can cut the queue off. */
const SHARED_QUEUE_PROXY_PORT = PORTS.spare(2);
/** DB 2 reaches DB j through the proxy on this + j. */
const PEER_PROXY_BASE = PORTS.spare(10);

/** Convergence: the target with the defaults at ndb 4, the hard bound, and how long to keep looking. */
const TARGET_MS = 3000;
const BOUND_MS = 10_000;
const GIVE_UP_MS = 20_000;
/** Availability while one process is down. */
const MIN_AVAILABILITY = 0.99;

const PRE_MS = 3000;
const GAP_MS = 3000;

interface Fault {
  /** What is down, for the report: "db1 down". */
  what: string;
  inject(): Promise<void>;
  holdMs: number;
  restore(): Promise<void>;
  /** The LB itself is down: writes in the window fail by design; reported apart. */
  lbDown?: boolean;
}

interface Phase {
  key: string;
  title: string;
  faults: () => Fault[];
  /** The DB whose repair the phase is about, named in the convergence check. */
  repairs?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

async function main(): Promise<number> {
  const argv = yargs(hideBin(process.argv))
    .scriptName('test/fault/run')
    .option('writers', { type: 'number', default: 8, describe: 'concurrent closed-loop writers' })
    .option('readers', { type: 'number', default: 2, describe: 'concurrent closed-loop strong readers' })
    .option('teas', { type: 'number', default: 200, describe: 'size of the tea pool' })
    .option('pause-ms', { type: 'number', default: 5, describe: 'pause of each writer after an acknowledged write' })
    .option('phases', { type: 'string', default: 'a,b,c,d,e,f,g', describe: 'which phases to run, in order' })
    .strict()
    .help()
    .parseSync();

  const defaults = loadDefaults();
  const root = projectRoot();
  const dir = join(root, 'var', 'fault');
  rmSync(dir, { recursive: true, force: true });
  const layout: Layout = onPorts({ ...layoutFrom(defaults, root, NDB), logDir: join(dir, 'log'), dataDir: join(dir, 'db') }, PORTS);
  const { host } = layout;
  const cluster = new Cluster(layout);
  const http = nodeHttpClient();
  const writerHttp = nodeHttpClient();

  // DB 2 behind proxies: the LB, the other DBs and this suite reach it on its
  // advertised port through `inbound`; it reaches the queue through `toQueue`
  // and every other DB (anti-entropy) through `toPeer[j]`.
  const inbound = new Proxy(cluster.dbPort(PROXIED), host, PROXIED_PRIVATE_PORT);
  const toQueue = new Proxy(QUEUE_PROXY_PORT, host, layout.qPort);
  const toPeer = new Map<number, Proxy>();
  for (let j = 0; j < NDB; j++) if (j !== PROXIED) toPeer.set(j, new Proxy(PEER_PROXY_BASE + j, host, cluster.dbPort(j)));
  const proxies = [inbound, toQueue, ...toPeer.values()];
  const queueFront = new Proxy(SHARED_QUEUE_PROXY_PORT, host, layout.qPort);
  const settings: ServerSettings = {
    dbOverrides: (i) =>
      i !== PROXIED
        ? { qport: SHARED_QUEUE_PROXY_PORT }
        : {
            hostport: PROXIED_PRIVATE_PORT,
            qport: QUEUE_PROXY_PORT,
            peers: Array.from({ length: NDB }, (_, j) => ({ host, port: j === PROXIED ? cluster.dbPort(j) : PEER_PROXY_BASE + j })),
          },
  };

  const teas = Array.from({ length: argv.teas }, (_, k) => `fault-tea-${k}`);
  const writers = new Writers({
    http: writerHttp,
    lbUrl: `http://${host}:${layout.lbPort}`,
    writers: argv.writers,
    teas,
    prefix: 'fw',
    pauseMs: argv['pause-ms'],
    backoffMs: 50,
    // Above the LB's worst case: a 2 s timeout on a cut-off DB, then the next DB.
    timeoutMs: 15_000,
    maxWritesPerWriter: 50_000,
    maxDurationMs: 60_000,
  });
  const readers = new Readers({
    http: writerHttp,
    lbUrl: `http://${host}:${layout.lbPort}`,
    readers: argv.readers,
    teas,
    pauseMs: argv['pause-ms'],
    backoffMs: 50,
    timeoutMs: 15_000,
    maxDurationMs: 60_000,
  });
  const dbUrls = Array.from({ length: NDB }, (_, i) => `http://${host}:${cluster.dbPort(i)}`);

  let passed = 0;
  let failed = 0;
  const check = (what: string, ok: boolean, detail?: string): boolean => {
    if (ok) passed++;
    else failed++;
    console.log(`  ${ok ? 'ok  ' : 'FAIL'} ${what}${detail ? `  (${detail})` : ''}`);
    return ok;
  };
  const info = (line: string) => console.log(`       ${line}`);
  const dbsize = async (i: number) => {
    const client = cluster.redisClient(i);
    try {
      return await client.dbsize();
    } finally {
      client.disconnect();
    }
  };
  /** A cut that held back nothing would make its phase prove nothing. */
  const reportCut = (what: string, cut: Proxy[]) => {
    const counts = cut.map((p) => `${p.listenPort}->${p.targetPort}: ${p.blackholed}`);
    check(what, cut.every((p) => p.blackholed > 0), `connections blackholed per proxy: ${counts.join(', ')}`);
    for (const p of cut) p.blackholed = 0;
  };
  const summary: string[] = [];
  let worstConvergence = { ms: -1, phase: '' };
  let worstAvailability = { ratio: 2, phase: '' };

  let cleaning: Promise<void> | null = null;
  const cleanup = () =>
    (cleaning ??= (async () => {
      await Promise.all([writers.stop(), readers.stop()]).catch(() => {});
      await cluster.stopAll().catch((e) => console.error(`while stopping the cluster: ${(e as Error).message}`));
      await Promise.all([...proxies, queueFront].map((p) => p.close()));
      http.close();
      writerHttp.close();
    })());
  const onSignal = (signal: string) => {
    console.log(`${signal}: stopping every process this suite started`);
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', () => onSignal('SIGINT'));
  process.once('SIGTERM', () => onSignal('SIGTERM'));
  // A closed stdout (`| head`) must not kill the suite before it stops its processes.
  process.stdout.on('error', () => {});
  // Last resort, if this process dies some other way: SIGKILL every child still running.
  process.once('exit', () => {
    const children = [...cluster.redis, cluster.queueRedis, cluster.queue, ...cluster.dbs, cluster.lb];
    for (const m of children) if (m && m.child.exitCode === null && m.child.signalCode === null) m.child.kill('SIGKILL');
  });

  const PHASES: Phase[] = [
    {
      key: 'a',
      title: 'SIGKILL db1 under load, restart it 5 s later',
      faults: () => [
        {
          what: 'db1 down',
          inject: () => killProcess(cluster.dbs[1]),
          holdMs: 5000,
          restore: async () => void (await cluster.startDB(1, settings)),
        },
      ],
    },
    {
      key: 'b',
      title: "SIGKILL db2's Redis under load, restart it on the same data (append-only file) 5 s later",
      faults: () => [
        {
          what: 'redis 2 down',
          inject: () => killProcess(cluster.redis[2]),
          holdMs: 5000,
          restore: async () => {
            await cluster.startRedis(2);
            const keys = await dbsize(2);
            check('(b) redis 2 came back with its data (append-only file)', keys > 0, `${keys} keys`);
          },
        },
      ],
    },
    {
      key: 'c',
      title: "SIGKILL the queue under load, restart it; then SIGKILL the queue's Redis, restart it",
      faults: () => [
        {
          what: 'queue down',
          inject: () => killProcess(cluster.queue!),
          holdMs: 3000,
          restore: async () => void (await cluster.startQueue()),
        },
        {
          what: "queue's Redis down",
          inject: () => killProcess(cluster.queueRedis!),
          holdMs: 3000,
          restore: async () => void (await cluster.startQueueRedis()),
        },
      ],
    },
    {
      key: 'd',
      title: 'SIGKILL the LB under load, restart it 2 s later',
      faults: () => [
        {
          what: 'LB down',
          inject: () => killProcess(cluster.lb!),
          holdMs: 2000,
          restore: async () => void (await cluster.startLB(settings)),
          lbDown: true,
        },
      ],
    },
    {
      key: 'e',
      title: 'stop db3 and its Redis, delete its data, restart both: db3 comes back empty and is repaired',
      repairs: 'db3',
      faults: () => [
        {
          what: 'db3 down',
          inject: async () => {
            // A clean stop: the DB sends what its digest holds before it exits. (A SIGKILL
            // followed by the loss of the disk is a double fault: it would lose the writes
            // only db3 had, those still in its digest, at most flush-after-ms old.)
            const t0 = Date.now();
            await stopProcess(cluster.dbs[3], 15_000);
            const { exitCode, signalCode } = cluster.dbs[3].child;
            const how = signalCode ? `killed by ${signalCode} (no clean stop within 15 s)` : `exit code ${exitCode}`;
            info(`db3 stopped in ${Date.now() - t0} ms: ${how}`);
            if (signalCode) console.log('  WARN (e) db3 did not stop cleanly: writes only db3 held, still in its digest, may be lost with its data');
            await killProcess(cluster.redis[3]);
            rmSync(join(layout.dataDir, `redis-${cluster.redisPort(3)}`), { recursive: true, force: true });
          },
          holdMs: 4000,
          restore: async () => {
            await cluster.startRedis(3);
            const keys = await dbsize(3);
            check('(e) redis 3 came back empty', keys === 0, `${keys} keys`);
            await cluster.startDB(3, settings);
          },
        },
      ],
    },
    {
      key: 'f',
      title: `partition: cut db${PROXIED} off (LB, queue, peers) for 15 s under load, heal`,
      repairs: `db${PROXIED}`,
      faults: () => [
        {
          what: `db${PROXIED} cut off`,
          inject: async () => proxies.forEach((p) => p.cut()),
          holdMs: 15_000,
          restore: async () => {
            proxies.forEach((p) => p.heal());
            reportCut(`(f) the cut held back connections to db${PROXIED}, from db${PROXIED} to the queue and to its peers`, proxies);
          },
        },
      ],
    },
    {
      key: 'g',
      title: 'partition: cut the queue off from every DB for 10 s under load (blackholed, not refused), heal',
      faults: () => [
        {
          what: 'queue cut off',
          inject: async () => [toQueue, queueFront].forEach((p) => p.cut()),
          holdMs: 10_000,
          restore: async () => {
            [toQueue, queueFront].forEach((p) => p.heal());
            reportCut('(g) the cut held back connections from the DBs to the queue', [toQueue, queueFront]);
          },
        },
      ],
    },
  ];

  const chosen = argv.phases.split(',').map((k) => k.trim()).filter(Boolean);
  const unknown = chosen.filter((k) => !PHASES.some((p) => p.key === k));
  if (unknown.length > 0) {
    console.error(`no phase ${unknown.join(', ')}; there are ${PHASES.map((p) => p.key).join(', ')}`);
    return 2;
  }

  const suiteStart = Date.now();
  try {
    await cluster.checkPrerequisites();
    await assertPortFree(host, PROXIED_PRIVATE_PORT, `db ${PROXIED} (private)`);
    for (const p of [...proxies, queueFront]) await p.listen();
    await cluster.startBackends();
    await cluster.startServers(settings);
    console.log(
      `fault suite: ndb ${NDB}, ${argv.writers} writers over ${teas.length} teas through the LB on ${layout.lbPort}; ` +
        `db${PROXIED} behind proxies; gossip ${layout.dbDefaults['gossip-interval-ms']} ms, flush after ` +
        `${layout.dbDefaults['flush-after-ms']} ms, anti-entropy ${layout.dbDefaults['anti-entropy-interval-ms']} ms`,
    );

    for (const key of chosen) {
      const phase = PHASES.find((p) => p.key === key)!;
      const label = `(${phase.key})`;
      console.log(`${label} ${phase.title}`);
      const faults = phase.faults();
      const windows: Window[] = [];
      const phaseStart = Date.now();
      const at = () => `+${secs(Date.now() - phaseStart)}`;
      const ackedBefore = writers.ledger.ackedCount;
      writers.start();
      readers.start();
      let loadEnd: number;
      try {
        await sleep(PRE_MS);
        for (const fault of faults) {
          const from = Date.now();
          await fault.inject();
          info(`${at()} ${fault.what}`);
          await sleep(fault.holdMs);
          await fault.restore();
          const to = Date.now();
          windows.push({ from, to });
          info(`${at()} back (${fault.what} for ${secs(to - from)})`);
          await sleep(GAP_MS);
        }
      } finally {
        await writers.stop();
        loadEnd = Date.now();
        await readers.stop();
      }
      const ledger = writers.ledger;
      const phaseWindow = { from: phaseStart, to: loadEnd + 1 };
      const all = ledger.startedIn(phaseWindow);
      const allReads = readers.ledger.startedIn(phaseWindow);
      const phaseAvail = Ledger.availability(all);
      const phaseReads = Ledger.availability(allReads);
      info(`load: ${phaseAvail.attempted} writes attempted in ${secs(loadEnd - phaseStart)}, ${phaseAvail.acked} acknowledged; ${Ledger.latency(all)}`);
      info(`strong reads: ${phaseReads.attempted} attempted, ${phaseReads.acked} answered; ${Ledger.latency(allReads)}`);
      const failures = (list: Attempt[]) => {
        const a = Ledger.availability(list);
        return `${percent(a)}${a.acked < a.attempted ? `; failures: ${Ledger.failures(list)}` : ''}`;
      };
      if (!faults.some((f) => f.lbDown)) {
        // Recovery (a backlog to drain, a repair) must not cost writes or reads either.
        check(`${label} write availability over the whole phase (before, during, after) >= 99 %`, phaseAvail.ratio >= MIN_AVAILABILITY, failures(all));
        check(`${label} strong-read availability over the whole phase >= 99 %`, phaseReads.ratio >= MIN_AVAILABILITY, failures(allReads));
      }

      faults.forEach((fault, k) => {
        const touched = ledger.overlapping(windows[k]);
        const touchedReads = readers.ledger.overlapping(windows[k]);
        const a = Ledger.availability(touched);
        const r = Ledger.availability(touchedReads);
        if (fault.lbDown) {
          const touchedSet = new Set([...touched, ...touchedReads]);
          const outside = all.filter((x) => !touchedSet.has(x));
          const outsideReads = allReads.filter((x) => !touchedSet.has(x));
          const ex = Ledger.availability(outside);
          const exReads = Ledger.availability(outsideReads);
          info(`writes touched by the LB outage (${secs(windows[k].to - windows[k].from)}): ${percent(a)} acknowledged; ` +
            `${a.attempted - a.acked} attempted but unanswered, not lost: ${Ledger.failures(touched)}`);
          info(`write availability including the LB-down window: ${percent(phaseAvail)}; strong reads: ${percent(phaseReads)}`);
          check(`${label} write availability outside the LB-down window >= 99 %`, ex.ratio >= MIN_AVAILABILITY, failures(outside));
          check(`${label} strong-read availability outside the LB-down window >= 99 %`, exReads.ratio >= MIN_AVAILABILITY, failures(outsideReads));
          summary.push(`${label} write availability: ${percent(ex)} excluding the LB-down window, ${percent(phaseAvail)} including it`);
        } else {
          check(`${label} write availability while ${fault.what} >= 99 %`, a.ratio >= MIN_AVAILABILITY, failures(touched));
          check(`${label} strong-read availability while ${fault.what} >= 99 %`, r.ratio >= MIN_AVAILABILITY, failures(touchedReads));
          summary.push(`${label} availability while ${fault.what}: writes ${percent(a)}, strong reads ${percent(r)} (whole phase: writes ${percent(phaseAvail)}, reads ${percent(phaseReads)})`);
          const worst = Math.min(a.ratio, r.ratio);
          if (worst < worstAvailability.ratio) worstAvailability = { ratio: worst, phase: `${label} ${fault.what}` };
        }
      });

      const conv = await awaitConvergence(http, dbUrls, teas, ledger, loadEnd, GIVE_UP_MS);
      const acked = ledger.ackedCount;
      const pairs = [...ledger.acked.values()].reduce((n, m) => n + m.size, 0);
      const whose = phase.repairs ? ` (${phase.repairs} repaired)` : '';
      const shown = conv.ms === null ? `not within ${secs(GIVE_UP_MS)}` : secs(conv.ms);
      info(`convergence after the last write: ${shown}` +
        (conv.confirmedMs === null ? '' : ` (bucket sums of all DBs agreed; confirmed by a full read of ${NDB} DBs x ${teas.length} teas ending at ${secs(conv.confirmedMs)}, ${conv.rounds} full reads of ~${Math.round(conv.roundMs)} ms)`));
      check(`${label} no acknowledged write lost: every one is on every DB`, conv.last.missing === 0 && conv.last.errors === 0,
        `${acked} acknowledged writes checked, ${acked - ackedBefore} of them in this phase, ${pairs} newest (tea, writer) pairs; ${describe(conv.last)}`);
      check(`${label} all DBs hold identical data`, conv.last.differing === 0 && !conv.last.sumsDiffer && conv.last.errors === 0, describe(conv.last));
      check(`${label} converged within ${BOUND_MS / 1000} s${whose}`, conv.ms !== null && conv.ms <= BOUND_MS, shown);
      if (conv.ms !== null && conv.ms > TARGET_MS && conv.ms <= BOUND_MS) {
        console.log(`  WARN ${label} converged in ${shown}: within the ${BOUND_MS / 1000} s bound but over the ${TARGET_MS / 1000} s target`);
      }
      check(`${label} converged within ${TARGET_MS / 1000} s`, conv.ms !== null && conv.ms <= TARGET_MS, shown);
      summary.push(`${label} convergence: ${shown}`);
      const asMs = conv.ms ?? Infinity;
      if (asMs > worstConvergence.ms) worstConvergence = { ms: asMs, phase: label };
    }

    // The strongest check, over every phase at once, after everything has settled.
    if (chosen.length > 0) {
      console.log('end: every acknowledged write of every phase, on every DB');
      const final = await awaitConvergence(http, dbUrls, teas, writers.ledger, Date.now(), BOUND_MS);
      const all = Ledger.availability(writers.ledger.attempts);
      check('no acknowledged write lost in any phase', final.last.missing === 0 && final.last.errors === 0,
        `${writers.ledger.ackedCount} acknowledged writes checked (of ${all.attempted} attempted); ${describe(final.last)}`);
      check('all DBs hold identical data at the end', final.last.ok, describe(final.last));
      console.log('summary:');
      for (const line of summary) info(line);
      if (worstAvailability.ratio <= 1) info(`worst availability while a process was down: ${(100 * worstAvailability.ratio).toFixed(2)} % ${worstAvailability.phase}`);
      info(`worst convergence: ${Number.isFinite(worstConvergence.ms) ? secs(worstConvergence.ms) : 'never'} ${worstConvergence.phase}`);
      info(`suite took ${secs(Date.now() - suiteStart)}`);
    }
  } catch (e) {
    check('fault suite ran to the end', false, (e as Error).stack ?? String(e));
  } finally {
    await cleanup();
  }
  console.log(`${passed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e: Error) => {
    console.error(`test/fault/run: ${e.message}`);
    process.exit(1);
  },
);
