/**
 * npm run bench: the tea store against the least work its architecture can
 * do (bench/baseline/), measured in the same run with the same load
 * generator, in alternating slices. See bench/README.md for what each phase
 * measures; `npm run bench -- --help` for the flags.
 *
 * Writes var/bench/results-<time>.json and .html, and var/bench/latest.json
 * and latest.html. Exits 0 when the run completes, whether or not the
 * targets hold (the table says so); non-zero when the harness itself fails.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { loadDefaults, projectRoot } from '../lib/server/boot';
import { renderHtml } from './chart';
import { clientKinds } from './clientKinds';
import { DEFAULT_HTTP_CLIENT } from '../lib/net/httpClient';
import { CpuSample, cpuBetween, mergeCpu, sampleCpu } from './cpu';
import { runClientBench } from './httpClients';
import { Op, PhaseResult, mergePhases, nodeHttpSender, replicationPace, runCount, runPhase } from './load';
import { formatProfile, summarizeProfiles } from './profileSummary';
import { Progress } from './progress';
import { buildSummary, formatSummary } from './report';
import {
  System, killEverythingNow, preload, redisCommandsProcessed, redisUsedMemory, rssBytes, scaleTea, startBaseline, startStore, stopEverything,
} from './systems';
import type { Options, Results, ScalePoint, SystemRun } from './types';

const PHASES = ['clients', 'latency', 'throughput', 'replication', 'scale'] as const;
type Phase = (typeof PHASES)[number];

/** Teas the latency and throughput phases write and read: all written once during the warm-up. */
const MAIN_TEAS = 1000;
/**
 * Requests of mixed traffic (half PUTs) that warm a system up before anything is measured: enough
 * for V8 to have compiled the hot paths. Measured (fresh systems, PUT windows of 4,000 at c=32):
 * the store's CPU per PUT fell from 2,560 us in the first window to a plateau of about 1,050 us
 * after 16-20k PUTs, the baseline's from 1,470 to about 480 after 12-16k; a perf profile of a DB
 * showed 28% of its CPU in V8's optimising compiler during the first 6,000 PUTs, 3.5% after
 * 20,000. A store serves for hours: the figures that matter are the warm ones.
 */
const WARMUP_REQUESTS = 40_000;
/** Slices per paired phase: enough to cancel a drift in the machine's load (A B B A A B B A), few enough that each slice runs a second or more. */
const PHASE_SLICES = 4;
/** Warm-up before each slice after the system's first: connections and JIT are warm by then, the load just needs to reach its steady state. */
const SLICE_WARMUP_MS = 300;

function parseArgs(): Options {
  const kinds = clientKinds();
  const a = yargs(hideBin(process.argv))
    .scriptName('npm run bench --')
    .usage('$0 [options]\n\nMeasures the tea store against a least-work baseline; writes var/bench/latest.{json,html}.')
    .option('ndb', { type: 'number', default: 4, describe: 'DB instances (and Redis servers) of both systems' })
    .option('digest-length', { type: 'number', default: 2, describe: "the store's gossip digest length" })
    .option('concurrency', { type: 'number', default: 32, describe: 'concurrent keep-alive clients in the throughput phases' })
    .option('duration', { type: 'number', describe: 'measured seconds per phase (default 5, --quick 1)' })
    .option('warmup', { type: 'number', describe: 'warm-up seconds before each phase (default 1, --quick 0.5)' })
    .option('warmup-requests', { type: 'number', describe: `mixed requests that warm each system up after it starts (default ${WARMUP_REQUESTS}, --quick 2000)` })
    .option('teas', { type: 'string', describe: 'tea counts of the scale phase, comma-separated (default 10000,100000; --quick 1000,2000)' })
    .option('teas-1m', { type: 'boolean', default: false, describe: 'add 1,000,000 teas to the scale phase' })
    .option('only', { type: 'string', describe: `phases to run, comma-separated: ${PHASES.join(', ')} (default all)` })
    .option('http-client', { type: 'string', default: DEFAULT_HTTP_CLIENT, choices: kinds, describe: `the baseline LB's client to its DBs; keep the default (${DEFAULT_HTTP_CLIENT}), which the store's servers use, for a fair comparison` })
    .option('quick', { type: 'boolean', default: false, describe: 'smoke check: 1 s phases, 0.5 s warm-up, 1k and 2k teas' })
    .option('profile', { type: 'string', describe: "store roles to CPU-profile (node --cpu-prof): any of db, lb, q, comma-separated; profiles under var/bench/profiles/" })
    .option('node-options', { type: 'string', default: '', describe: "extra NODE_OPTIONS for the store's DB and LB processes" })
    .check((x) => {
      for (const k of ['ndb', 'digest-length', 'concurrency'] as const) {
        if (!Number.isInteger(x[k]) || (x[k] as number) < 1) throw new Error(`--${k} must be an integer >= 1`);
      }
      if (x.ndb > 20) throw new Error('--ndb must be at most 20');
      if (x.duration !== undefined && !(x.duration > 0)) throw new Error('--duration must be > 0');
      if (x.warmup !== undefined && !(x.warmup >= 0)) throw new Error('--warmup must be >= 0');
      if (x['warmup-requests'] !== undefined && !(Number.isInteger(x['warmup-requests']) && x['warmup-requests'] >= 0)) throw new Error('--warmup-requests must be an integer >= 0');
      return true;
    })
    .strict()
    .help()
    .parseSync();
  const phases = a.only ? a.only.split(',').map((p) => p.trim()).filter(Boolean) : [...PHASES];
  for (const p of phases) if (!(PHASES as readonly string[]).includes(p)) throw new Error(`--only: unknown phase ${JSON.stringify(p)}; one of ${PHASES.join(', ')}`);
  let teas = a.teas ? a.teas.split(',').map((t) => Number(t.trim())) : a.quick ? [1000, 2000] : [10_000, 100_000];
  if (a['teas-1m']) teas.push(1_000_000);
  teas = [...new Set(teas)].sort((x, y) => x - y);
  for (const t of teas) if (!Number.isInteger(t) || t < 1) throw new Error(`--teas: ${t} is not a positive integer`);
  const profile = a.profile ? a.profile.split(',').map((p) => p.trim()) : [];
  for (const p of profile) if (!['db', 'lb', 'q'].includes(p)) throw new Error(`--profile: ${JSON.stringify(p)} is not db, lb or q`);
  return {
    ndb: a.ndb,
    digestLength: a['digest-length'],
    concurrency: a.concurrency,
    duration: a.duration ?? (a.quick ? 1 : 5),
    warmup: a.warmup ?? (a.quick ? 0.5 : 1),
    warmupRequests: a['warmup-requests'] ?? (a.quick ? 2000 : WARMUP_REQUESTS),
    teas,
    phases,
    httpClient: a['http-client'],
    quick: a.quick,
    profile,
    nodeOptions: a['node-options'],
  };
}

function gitInfo(root: string): { commit: string | null; dirty: boolean | null } {
  const rev = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' });
  const st = spawnSync('git', ['status', '--porcelain'], { cwd: root, encoding: 'utf8' });
  return { commit: rev.status === 0 ? rev.stdout.trim() : null, dirty: st.status === 0 ? st.stdout.trim() !== '' : null };
}

const stamp = (d: Date) => d.toISOString().replace(/[:]/g, '-').replace(/\..*$/, '');

async function main(): Promise<void> {
  const opts = parseArgs();
  const root = projectRoot();
  const defaults = loadDefaults();
  const outDir = join(root, 'var', 'bench');
  mkdirSync(outDir, { recursive: true });
  const started = new Date();
  const progress = new Progress(Boolean(process.stdout.isTTY));
  const has = (p: Phase) => opts.phases.includes(p);
  const warmupMs = opts.warmup * 1000;
  const durationMs = opts.duration * 1000;
  const c = opts.concurrency;

  const results: Results = {
    meta: {
      startedAt: started.toISOString(),
      command: `npm run bench --${process.argv.slice(2).map((x) => ` ${x}`).join('')}`,
      node: process.version,
      platform: `${os.platform()} ${os.release()}`,
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? '?',
      totalMemoryMB: Math.round(os.totalmem() / 1024 / 1024),
      loadAverageStart: os.loadavg(),
      git: gitInfo(root),
    },
    options: opts,
    notes: [
      `Latency, throughput and replication phases: both systems run at once, and each phase alternates between them in ${PHASE_SLICES} slices per system (A B B A ...), so both meet the same drift in the machine's load; a system's slices are merged. The scale phase runs one system at a time. Same in-process load generator for both: node:http, keep-alive agent, closed loop.`,
      'Sustained PUT (store): ok / (measured seconds + the replication catch-up after a slice, on average), as if the slices were one load followed by one catch-up.',
      `Latency and throughput phases use ${MAIN_TEAS} teas, each written once through the LB during the warm-up; every PUT carries a fresh clock {"bench": n}.`,
      'Scale phase: teas are written straight into Redis in the layout of SPEC.md (hash /rating/<tea>: rating, choices, clocks) with pipelines, ' +
        'on every Redis for the store (every DB holds every tea) and on the owner\'s Redis for the baseline; then PUTs and strong GETs of random loaded teas go through the LB.',
      'Redis per tea = (sum of used_memory after the phase - after FLUSHALL) / teas; the store keeps ndb copies of each tea, the baseline one.',
      `The baseline LB uses the "${opts.httpClient}" client of lib/net/httpClient.ts; the store's servers use the product's default, "${DEFAULT_HTTP_CLIENT}".`,
    ],
  };
  const profileDir = join(outDir, 'profiles', stamp(started));

  const header = `tea store benchmark: ndb ${opts.ndb}, digest-length ${opts.digestLength}, c=${c}, each system warmed up by ${opts.warmupRequests} mixed requests, ${opts.duration} s phases after ${opts.warmup} s warm-up; phases ${opts.phases.join(', ')}`;
  progress.log(header);
  progress.log(`machine: ${results.meta.cpus} x ${results.meta.cpuModel}, load average ${results.meta.loadAverageStart.map((x) => x.toFixed(2)).join(' ')}`);

  interface Slice {
    durationMs: number;
    warmupMs: number;
    /** Leave the summary line to the caller, who merges the slices. */
    quiet: boolean;
  }
  const wholePhase: Slice = { durationMs, warmupMs, quiet: false };

  const phase = async (label: string, concurrency: number, next: (k: number) => Op, sys: System, slice: Slice = wholePhase): Promise<PhaseResult> => {
    const sender = nodeHttpSender(sys.lbUrl, concurrency);
    const pids = sys.processes().map((p) => p.pid).filter((p): p is number => p !== undefined);
    const samples: (CpuSample | null)[] = [];
    const commands: Promise<number[]>[] = [];
    try {
      const r = await runPhase({
        label, concurrency, warmupMs: slice.warmupMs, durationMs: slice.durationMs, next, send: sender.send, onTick: progress.phase(label),
        onWindow: () => {
          samples.push(sampleCpu(pids));
          commands.push(redisCommandsProcessed(sys).catch(() => []));
        },
      });
      const [a, b] = samples;
      if (a && b) r.cpu = cpuBetween(a, b, r.ok);
      if (sys.settle && label.includes('PUT')) {
        r.catchUpSeconds = await sys.settle();
        if (!slice.quiet) progress.log(`  ${''.padEnd(40)} replication caught up ${r.catchUpSeconds.toFixed(2)} s after the load`);
      }
      const [c0, c1] = await Promise.all(commands);
      if (r.ok > 0 && c0?.length && c1?.length === c0.length) {
        r.redisCommandsPerRequestByServer = sys.allRedisPorts.map((port, i) => ({ port, perRequest: (c1[i] - c0[i]) / r.ok }));
        r.redisCommandsPerRequest = r.redisCommandsPerRequestByServer.reduce((n, x) => n + x.perRequest, 0);
      }
      if (!slice.quiet) progress.done(r);
      return r;
    } finally {
      sender.close();
    }
  };

  /**
   * The same phase on every system in `systems` (the baseline and the store,
   * both running), in PHASE_SLICES alternating slices (A B B A A B B A): on a
   * shared machine the neighbours' load drifts over seconds, and a system
   * measured a minute after the other met a different machine (one run saw
   * the same PUT ratio anywhere from 0.38x to 0.65x). Slicing puts both under
   * the same drift; the slices of each system are merged into one result.
   */
  const paired = async (what: string, concurrency: number, next: (k: number) => Op, systems: readonly System[]): Promise<PhaseResult[]> => {
    const parts: PhaseResult[][] = systems.map(() => []);
    const slice: Slice = { durationMs: durationMs / PHASE_SLICES, warmupMs: Math.min(warmupMs, SLICE_WARMUP_MS), quiet: true };
    for (let k = 0; k < PHASE_SLICES; k++) {
      const order = systems.map((_, i) => i);
      if (k % 2 === 1) order.reverse();
      for (const i of order) parts[i].push(await phase(`${systems[i].kind} ndb${systems[i].ndb} ${what}`, concurrency, next, systems[i], slice));
    }
    return parts.map((slices, i) => {
      const sys = systems[i];
      const r = mergePhases(`${sys.kind} ndb${sys.ndb} ${what}`, slices);
      const cpu = slices.filter((x) => x.cpu).map((x) => ({ cpu: x.cpu!, seconds: x.seconds, requests: x.ok }));
      if (cpu.length === slices.length) r.cpu = mergeCpu(cpu);
      const withRedis = slices.filter((x) => x.redisCommandsPerRequestByServer);
      if (withRedis.length === slices.length && r.ok > 0) {
        r.redisCommandsPerRequestByServer = sys.allRedisPorts.map((port, j) => ({
          port, perRequest: withRedis.reduce((n, x) => n + x.redisCommandsPerRequestByServer![j].perRequest * x.ok, 0) / r.ok,
        }));
        r.redisCommandsPerRequest = r.redisCommandsPerRequestByServer.reduce((n, x) => n + x.perRequest, 0);
      }
      if (slices.every((x) => x.catchUpSeconds !== undefined)) {
        r.catchUpSeconds = slices.reduce((n, x) => n + x.catchUpSeconds!, 0) / slices.length;
      }
      progress.done(r);
      if (r.catchUpSeconds !== undefined) progress.log(`  ${''.padEnd(40)} replication caught up ${r.catchUpSeconds.toFixed(2)} s after a slice, on average`);
      return r;
    });
  };

  if (has('clients')) {
    progress.log('\nHTTP clients (micro-benchmark against a trivial koa server):');
    results.clients = await runClientBench({
      root, host: defaults.host, concurrency: c, warmupMs, durationMs,
      progress: (label) => progress.phase(label),
      done: (r) => progress.done(r),
    });
  }

  // One counter per run: every PUT's clock is fresh, so each supersedes the tea's last version.
  let clockCounter = 1;
  const putOp = (tea: string): Op => {
    const n = clockCounter++;
    return { method: 'PUT', path: `/rating/${tea}`, body: `{"rating":${(n % 10) + 1},"clock":{"bench":${n}}}` };
  };
  const mainTea = (k: number) => `bench-${k % MAIN_TEAS}`;
  const spread = (k: number) => mainTea((k * 7919) % MAIN_TEAS);

  const start = (kind: 'store' | 'baseline', ndb: number): Promise<System> => {
    progress.log(`\n${kind}, ndb ${ndb}: starting`);
    if (kind === 'baseline') return startBaseline({ root, defaults, ndb, httpClient: opts.httpClient });
    const prof = (role: string) =>
      opts.profile.includes(role) ? ['--cpu-prof', `--cpu-prof-dir=${join(profileDir, `${role}-ndb${ndb}`)}`] : [];
    return startStore({
      root, defaults, ndb, digestLength: opts.digestLength, dbNodeArgs: prof('db'), lbNodeArgs: prof('lb'), queueNodeArgs: prof('q'), nodeOptions: opts.nodeOptions || undefined,
    });
  };

  /** CPU the system uses with no requests at all (timers: gossip, anti-entropy, health checks), in cores. */
  const idleUse = async (sys: System): Promise<{ cores: number | null; redisCommandsPerSecond: number }> => {
    const pids = sys.processes().map((p) => p.pid).filter((p): p is number => p !== undefined);
    const sum = (xs: number[]) => xs.reduce((n, x) => n + x, 0);
    const c0 = sum(await redisCommandsProcessed(sys));
    const a = sampleCpu(pids);
    const ms = Math.max(1000, 2 * warmupMs);
    await new Promise((r) => setTimeout(r, ms));
    const b = sampleCpu(pids);
    const c1 = sum(await redisCommandsProcessed(sys));
    const cores = a && b ? cpuBetween(a, b, 0).serverCores : null;
    // Less the two INFO commands per Redis that measure it.
    const perSecond = Math.max(0, c1 - c0 - sys.allRedisPorts.length) / (ms / 1000);
    progress.log(`  ${`${sys.kind} idle`.padEnd(40)} with no requests: server CPU ${cores === null ? '-' : cores.toFixed(2)} cores, ${perSecond.toFixed(0)} Redis cmds/s`);
    return { cores, redisCommandsPerSecond: perSecond };
  };

  /** Write every main tea once, then run mixed traffic for a while: connections, JIT and Redis are warm after this. */
  const warmUp = async (sys: System): Promise<SystemRun['warmup']> => {
    const t0 = Date.now();
    const sender = nodeHttpSender(sys.lbUrl, c);
    try {
      const primed = await runCount(MAIN_TEAS, c, (k) => putOp(mainTea(k)), sender.send);
      const task = progress.task(`${sys.kind} warm-up`, opts.warmupRequests);
      const mixed = await runCount(opts.warmupRequests, c, (k) => (k % 2 ? putOp(spread(k)) : { method: 'GET', path: `/rating/${spread(k)}` }), sender.send, (done) => task.update(done));
      task.end(`${opts.warmupRequests.toLocaleString('en-US')} mixed requests`);
      // The store's replication of the warm-up's writes finishes before anything is measured:
      // otherwise it overlapped the idle measurement and the first (sequential) phase.
      if (sys.settle) await sys.settle();
      const w = { seconds: (Date.now() - t0) / 1000, errors: primed.errors + mixed.errors, errorSamples: [...primed.errorSamples, ...mixed.errorSamples].slice(0, 5) };
      progress.log(`  ${`${sys.kind} warm-up`.padEnd(40)} ${w.seconds.toFixed(1)} s, ${MAIN_TEAS} teas written, ${opts.warmupRequests} mixed requests, errors ${w.errors}${w.errorSamples.length ? ` (${w.errorSamples[0]})` : ''}`);
      return w;
    } finally {
      sender.close();
    }
  };

  /** What a warmed-up system costs with no requests, into its run. */
  const recordIdle = async (sys: System, run: SystemRun): Promise<void> => {
    const idle = await idleUse(sys);
    run.idleServerCores = idle.cores;
    run.idleRedisCommandsPerSecond = idle.redisCommandsPerSecond;
  };

  /** Start a system and warm it up (every main tea written once, replication settled). */
  const startWarm = async (kind: 'store' | 'baseline', ndb: number): Promise<{ sys: System; run: SystemRun }> => {
    const sys = await start(kind, ndb);
    try {
      const run: SystemRun = { kind, ndb, processes: sys.processes(), warmup: await warmUp(sys) };
      return { sys, run };
    } catch (e) {
      await sys.stop();
      throw e;
    }
  };

  /**
   * Whether the store's replication keeps up with the c=32 PUT load whose
   * slices `put` merges: one more load as long as the whole phase, and the
   * catch-up after it against the slices' (replicationPace() in load.ts).
   * Sets put's pace and sustained throughput; returns the longer load.
   */
  const measureReplicationPace = async (put: PhaseResult, sys: System): Promise<PhaseResult | undefined> => {
    if (put.catchUpSeconds === undefined) return undefined;
    const long = await phase(`${sys.kind} ndb${sys.ndb} PUT c=${c}, one ${opts.duration} s load`, c, (k) => putOp(mainTea(k)), sys);
    const pace = replicationPace({ seconds: put.seconds / PHASE_SLICES, catchUpSeconds: put.catchUpSeconds }, { seconds: long.seconds, catchUpSeconds: long.catchUpSeconds! });
    put.replicationPace = pace;
    put.sustainedThroughput = put.throughput / (1 + pace.backlogPerSecond);
    progress.log(`  ${''.padEnd(40)} replication backlog ${pace.backlogPerSecond.toFixed(3)} s per s of load: ${put.sustainedThroughput.toFixed(0)} writes/s sustained`);
    return long;
  };

  /** Latency and throughput: both systems running, every phase in alternating slices (paired()). */
  const measurePaired = async (): Promise<{ baseline: SystemRun; store: SystemRun }> => {
    const baseline = await startWarm('baseline', opts.ndb);
    let store: { sys: System; run: SystemRun };
    try {
      store = await startWarm('store', opts.ndb);
    } catch (e) {
      await baseline.sys.stop();
      throw e;
    }
    const both = [baseline, store];
    const systems = both.map((x) => x.sys);
    try {
      for (const { sys, run } of both) await recordIdle(sys, run);
      if (has('latency')) {
        const [put, getStrong, getWeak] = [
          await paired('PUT sequential', 1, (k) => putOp(mainTea(k)), systems),
          await paired('GET strong sequential', 1, (k) => ({ method: 'GET', path: `/rating/${spread(k)}` }), systems),
          await paired('GET weak sequential', 1, (k) => ({ method: 'GET', path: `/rating/${spread(k)}?consistency=weak` }), systems),
        ];
        both.forEach(({ run }, i) => (run.latency = { put: put[i], getStrong: getStrong[i], getWeak: getWeak[i] }));
      }
      if (has('throughput')) {
        const put = await paired(`PUT c=${c}`, c, (k) => putOp(mainTea(k)), systems);
        const putLongLoad = await measureReplicationPace(put[both.indexOf(store)], store.sys);
        const get = await paired(`GET c=${c}`, c, (k) => ({ method: 'GET', path: `/rating/${spread(k)}` }), systems);
        both.forEach(({ run }, i) => (run.throughput = { put: put[i], get: get[i] }));
        // Its requests count like any phase's (errors above all).
        if (putLongLoad) store.run.throughput!.putLongLoad = putLongLoad;
      }
      return { baseline: baseline.run, store: store.run };
    } finally {
      for (const sys of systems) await sys.stop();
    }
  };

  /**
   * Scale: one system at a time, since each tea count restarts its servers
   * over freshly loaded Redis; what it shows, cost per operation as the data
   * grows, is compared within a system.
   */
  const measureScale = async (kind: 'store' | 'baseline', earlier: SystemRun | undefined): Promise<SystemRun> => {
    // The scale phase wipes the data and restarts the servers, so a warm-up here would be thrown
    // away; it runs only when no earlier phase has given this system its run (and warm-up figures).
    const { sys, run } = earlier ? { sys: await start(kind, opts.ndb), run: earlier } : await startWarm(kind, opts.ndb);
    const tag = `${kind} ndb${opts.ndb}`;
    try {
      if (!earlier) await recordIdle(sys, run);
      // For each count: stop the DBs and the LB, wipe, write the teas straight into Redis, start
      // the servers over that data (as after a restore: the store indexes it at start-up), measure.
      run.scale = [];
      for (const teas of opts.teas) {
        await sys.stopServers();
        await sys.wipe();
        const empty = await redisUsedMemory(sys);
        const t0 = Date.now();
        const task = progress.task(`${tag} preload ${teas.toLocaleString('en-US')} teas`, teas);
        await preload(sys, 0, teas, (done) => task.update(done));
        const preloadSeconds = (Date.now() - t0) / 1000;
        const t1 = Date.now();
        await sys.startServers();
        const startSeconds = (Date.now() - t1) / 1000;
        task.end(`written into Redis in ${preloadSeconds.toFixed(1)} s; servers up in ${startSeconds.toFixed(1)} s`);
        const idle = await idleUse(sys);
        const rnd = () => scaleTea(Math.floor(Math.random() * teas));
        const label = teas >= 1e6 ? `${teas / 1e6}M` : `${teas / 1e3}k`;
        const put = await phase(`${tag} ${label} teas PUT c=${c}`, c, () => putOp(rnd()), sys);
        const get = await phase(`${tag} ${label} teas GET c=${c}`, c, () => ({ method: 'GET', path: `/rating/${rnd()}` }), sys);
        const used = await redisUsedMemory(sys);
        const copies = kind === 'store' ? opts.ndb : 1;
        const perTea = (used.reduce((a, b) => a + b, 0) - empty.reduce((a, b) => a + b, 0)) / teas;
        const point: ScalePoint = {
          teas, preloadSeconds, serverStartSeconds: startSeconds, idleServerCores: idle.cores, idleRedisCommandsPerSecond: idle.redisCommandsPerSecond, put, get, redisEmptyBytes: empty, redisUsedBytes: used,
          redisBytesPerTea: perTea, redisBytesPerTeaCopy: perTea / copies, copies,
          dbRssBytes: sys.dbPids().map(rssBytes), lbRssBytes: rssBytes(sys.lbPid()),
        };
        run.scale.push(point);
        progress.log(`  ${`${tag} ${label} teas memory`.padEnd(40)} Redis ${Math.round(perTea)} B/tea over ${copies} cop${copies === 1 ? 'y' : 'ies'}, DB RSS ${(point.dbRssBytes.reduce((a, b) => a + b, 0) / 1024 / 1024).toFixed(1)} MB in all`);
      }
      return run;
    } finally {
      await sys.stop();
    }
  };

  if (has('latency') || has('throughput')) {
    const runs = await measurePaired();
    results.baseline = runs.baseline;
    results.store = runs.store;
  }
  if (has('scale')) {
    results.baseline = await measureScale('baseline', results.baseline);
    results.store = await measureScale('store', results.store);
  }
  if (has('replication')) {
    results.replication = { ndb: opts.ndb };
    if (opts.ndb !== 1) {
      const baseline = await startWarm('baseline', 1);
      try {
        const store = await startWarm('store', 1);
        try {
          const [b, s1] = await paired(`PUT c=${c}`, c, (k) => putOp(mainTea(k)), [baseline.sys, store.sys]);
          results.replication.baselineNdb1 = b;
          results.replication.storeNdb1 = s1;
        } finally {
          await store.sys.stop();
        }
      } finally {
        await baseline.sys.stop();
      }
    } else {
      results.replication.storeNdb1 = results.store?.throughput?.put;
      results.replication.baselineNdb1 = results.baseline?.throughput?.put;
    }
  }

  if (opts.profile.length) {
    results.profiles = [];
    progress.log(`\nCPU profiles under ${profileDir} (self time, every process of a role added up):`);
    let dirs: string[] = [];
    try {
      dirs = readdirSync(profileDir).sort();
    } catch {
      progress.log('  none written');
    }
    for (const dir of dirs) {
      const files = readdirSync(join(profileDir, dir)).filter((f) => f.endsWith('.cpuprofile')).map((f) => join(profileDir, dir, f));
      if (!files.length) continue;
      const summary = summarizeProfiles(files, `store ${dir} (${files.length} processes)`, 20);
      results.profiles.push(summary);
      progress.log(formatProfile(summary, 15));
    }
  }

  const finished = new Date();
  results.meta.finishedAt = finished.toISOString();
  results.meta.seconds = (finished.getTime() - started.getTime()) / 1000;
  results.meta.loadAverageEnd = os.loadavg();
  results.summary = buildSummary(results);

  const json = JSON.stringify(results, null, 2);
  const resultFile = join(outDir, `results-${stamp(started)}.json`);
  writeFileSync(resultFile, json);
  writeFileSync(join(outDir, 'latest.json'), json);
  const html = renderHtml(results);
  writeFileSync(resultFile.replace(/\.json$/, '.html'), html);
  writeFileSync(join(outDir, 'latest.html'), html);

  progress.log(`\nSummary (ratio = store / baseline; ${results.meta.seconds.toFixed(0)} s, load average at end ${results.meta.loadAverageEnd.map((x) => x.toFixed(2)).join(' ')}):\n`);
  console.log(formatSummary(results));
  console.log(`\nraw figures: ${resultFile} (and var/bench/latest.json)\nchart:       ${resultFile.replace(/\.json$/, '.html')} (and var/bench/latest.html)`);
}

let stopping = false;
async function abort(why: string, code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    console.error(`\n${why}: stopping every process the benchmark started`);
    await stopEverything();
  }
  process.exit(code);
}

process.on('SIGINT', () => void abort('SIGINT', 130));
process.on('SIGTERM', () => void abort('SIGTERM', 143));
process.on('exit', () => killEverythingNow());

main().then(
  async () => {
    await stopEverything();
    process.exit(0);
  },
  async (e: Error) => {
    console.error(`\nbench failed: ${e.stack ?? e.message}`);
    await abort('error', 1);
  },
);
