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
 * Ports: the block tools/ports.ts gives the fault suite, clear of the contract's
 * defaults, the integration tests', the benchmark's, and below Linux's
 * ephemeral range: LB 10000, DB i 10020+i, Redis i 10040+i, Q 10001, Q's
 * Redis 10002. DB 2 really listens on 10060 behind a proxy on 10022, reaches
 * the queue through a proxy on 10061 and the other DBs through proxies on
 * 10070+j; the other DBs reach the queue through a proxy on 10062 (phase g).
 * Logs and data: var/fault/.
 *
 * This file is the runner: the options, the phases in turn, the summary.
 * Each fault is a file of faults/; cluster.ts wires the cluster they break,
 * phase.ts runs a phase and checks it.
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { HttpClient, createHttpClient } from '../../lib/net/httpClient';
import { loadDefaults, projectRoot } from '../../lib/server/boot';
import { FaultCluster, NDB, PROXIED, PhaseFactory } from './cluster';
import { dbCutOff } from './faults/dbCutOff';
import { dbEmpty } from './faults/dbEmpty';
import { dbKilled } from './faults/dbKilled';
import { lbKilled } from './faults/lbKilled';
import { queueCutOff } from './faults/queueCutOff';
import { queueKilled } from './faults/queueKilled';
import { redisKilled } from './faults/redisKilled';
import { Ledger, Readers, Writers } from './load';
import { BOUND_MS, PhaseEnv, runPhase } from './phase';
import { Report } from './report';
import { awaitConvergence, describe } from './verify';

/** Every phase, in the order of their keys a to g. */
const PHASES: PhaseFactory[] = [dbKilled, redisKilled, queueKilled, lbKilled, dbEmpty, dbCutOff, queueCutOff];

function parseArgs() {
  return yargs(hideBin(process.argv))
    .scriptName('test/fault/run')
    .option('writers', { type: 'number', default: 8, describe: 'concurrent closed-loop writers' })
    .option('readers', { type: 'number', default: 2, describe: 'concurrent closed-loop strong readers' })
    .option('teas', { type: 'number', default: 200, describe: 'size of the tea pool' })
    .option('pause-ms', { type: 'number', default: 5, describe: 'pause of each writer after an acknowledged write' })
    .option('phases', { type: 'string', default: 'a,b,c,d,e,f,g', describe: 'which phases to run, in order' })
    .strict()
    .help()
    .parseSync();
}
type Argv = ReturnType<typeof parseArgs>;

/** The closed-loop writers and strong readers through the LB. */
function makeLoad(argv: Argv, fc: FaultCluster, teas: string[]): { writers: Writers; readers: Readers; http: HttpClient } {
  const http = createHttpClient();
  const common = { http, lbUrl: fc.lbUrl, teas, pauseMs: argv['pause-ms'], backoffMs: 50, maxDurationMs: 60_000 };
  // Above the LB's worst case: a 2 s timeout on a cut-off DB, then the next DB.
  const writers = new Writers({ ...common, writers: argv.writers, prefix: 'fw', timeoutMs: 15_000, maxWritesPerWriter: 50_000 });
  const readers = new Readers({ ...common, readers: argv.readers, timeoutMs: 15_000 });
  return { http, writers, readers };
}

/** Stop the load, the cluster and the proxies once, however the suite ends (signals, the exit hook). */
function onEnd(fc: FaultCluster, env: PhaseEnv, writerHttp: HttpClient): () => Promise<void> {
  let cleaning: Promise<void> | null = null;
  const cleanup = () =>
    (cleaning ??= (async () => {
      await Promise.all([env.writers.stop(), env.readers.stop()]).catch(() => {});
      await fc.stop();
      env.http.close();
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
  process.once('exit', () => fc.killNow());
  return cleanup;
}

/** The strongest check, over every phase at once, after everything has settled; then the summary. */
async function finalCheck(env: PhaseEnv, suiteStart: number): Promise<void> {
  const { writers, report } = env;
  console.log('end: every acknowledged write of every phase, on every DB');
  const final = await awaitConvergence(env.http, env.dbUrls, env.teas, writers.ledger, Date.now(), BOUND_MS);
  const all = Ledger.availability(writers.ledger.attempts);
  report.check('no acknowledged write lost in any phase', final.last.missing === 0 && final.last.errors === 0,
    `${writers.ledger.ackedCount} acknowledged writes checked (of ${all.attempted} attempted); ${describe(final.last)}`);
  report.check('all DBs hold identical data at the end', final.last.ok, describe(final.last));
  report.printSummary(suiteStart);
}

async function main(): Promise<number> {
  const argv = parseArgs();
  const fc = new FaultCluster(loadDefaults(), projectRoot());
  const { layout } = fc;
  const report = new Report();
  const teas = Array.from({ length: argv.teas }, (_, k) => `fault-tea-${k}`);
  const load = makeLoad(argv, fc, teas);
  const env: PhaseEnv = { ...load, http: createHttpClient(), dbUrls: fc.dbUrls, teas, report };
  const cleanup = onEnd(fc, env, load.http);

  const phases = PHASES.map((make) => make(fc, report));
  const chosen = argv.phases.split(',').map((k) => k.trim()).filter(Boolean);
  const unknown = chosen.filter((k) => !phases.some((p) => p.key === k));
  if (unknown.length > 0) {
    console.error(`no phase ${unknown.join(', ')}; there are ${phases.map((p) => p.key).join(', ')}`);
    return 2;
  }

  const suiteStart = Date.now();
  try {
    await fc.start();
    console.log(
      `fault suite: ndb ${NDB}, ${argv.writers} writers over ${teas.length} teas through the LB on ${layout.lbPort}; ` +
        `db${PROXIED} behind proxies; flush after ` +
        `${layout.dbDefaults['flush-after-ms']} ms, anti-entropy ${layout.dbDefaults['anti-entropy-interval-ms']} ms`,
    );
    for (const key of chosen) await runPhase(phases.find((p) => p.key === key)!, env);
    if (chosen.length > 0) await finalCheck(env, suiteStart);
  } catch (e) {
    report.check('fault suite ran to the end', false, (e as Error).stack ?? String(e));
  } finally {
    await cleanup();
  }
  console.log(`${report.passed} passed, ${report.failed} failed`);
  return report.failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e: Error) => {
    console.error(`test/fault/run: ${e.message}`);
    process.exit(1);
  },
);
