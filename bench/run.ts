/**
 * npm run bench: the tea store against the least work its architecture can
 * do (bench/baseline/), measured in the same run with the same load
 * generator, in alternating slices. See bench/README.md for what each phase
 * measures; `npm run bench -- --help` for the flags.
 *
 * This file is the runner: the options, the phases in turn (bench/phases/,
 * the paired ones through bench/slices.ts), and the summary. Writes
 * var/bench/results-<time>.json and .html, and var/bench/latest.json and
 * latest.html. Exits 0 when the run completes, whether or not the targets
 * hold (the table says so); non-zero when the harness itself fails.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { loadDefaults, projectRoot } from '../lib/server/boot';
import { DEFAULT_HTTP_CLIENT } from './httpClientKinds';
import { renderHtml } from './chart';
import { BenchContext, MAIN_TEAS, Workload } from './context';
import { Phase, parseArgs } from './options';
import { measureClients } from './phases/clients';
import { measureLatency } from './phases/latency';
import { measureReplication } from './phases/replication';
import { measureScale } from './phases/scale';
import { measureThroughput } from './phases/throughput';
import { formatProfile, summarizeProfiles } from './profileSummary';
import { Progress } from './progress';
import { buildSummary, formatSummary } from './report';
import { PHASE_SLICES } from './slices';
import { killEverythingNow, stopEverything } from './systems';
import type { Options, Results } from './types';
import { recordIdle, withWarmPair } from './warmup';

function gitInfo(root: string): { commit: string | null; dirty: boolean | null } {
  const rev = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' });
  const st = spawnSync('git', ['status', '--porcelain'], { cwd: root, encoding: 'utf8' });
  return { commit: rev.status === 0 ? rev.stdout.trim() : null, dirty: st.status === 0 ? st.stdout.trim() !== '' : null };
}

const stamp = (d: Date) => d.toISOString().replace(/[:]/g, '-').replace(/\..*$/, '');

/** The results file before any phase: the machine, the options, and notes on how to read the figures. */
function newResults(opts: Options, root: string, started: Date): Results {
  return {
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
      'Scale phase: teas are written straight into Redis in the contract\'s layout (hash /rating/<tea>: rating, choices, clocks) with pipelines, ' +
        'on every Redis for the store (every DB holds every tea) and on the owner\'s Redis for the baseline; then PUTs and strong GETs of random loaded teas go through the LB.',
      'Redis per tea = (sum of used_memory after the phase - after FLUSHALL) / teas; the store keeps ndb copies of each tea, the baseline one.',
      `The baseline LB uses the "${opts.httpClient}" client of lib/net/httpClient.ts; the store's servers use the product's default, "${DEFAULT_HTTP_CLIENT}".`,
    ],
  };
}

/** Every phase asked for, in the benchmark's order, into `results`. */
async function runPhases(ctx: BenchContext, results: Results): Promise<void> {
  const has = (p: Phase) => ctx.opts.phases.includes(p);
  if (has('clients')) results.clients = await measureClients(ctx);
  if (has('latency') || has('throughput')) {
    // Both systems run through the latency and throughput phases, each phase in paired slices.
    await withWarmPair(ctx, ctx.opts.ndb, async (pair) => {
      for (const warm of [pair.baseline, pair.store]) await recordIdle(ctx, warm);
      if (has('latency')) await measureLatency(ctx, [pair.baseline, pair.store]);
      if (has('throughput')) await measureThroughput(ctx, pair);
      results.baseline = pair.baseline.run;
      results.store = pair.store.run;
    });
  }
  if (has('scale')) {
    results.baseline = await measureScale(ctx, 'baseline', results.baseline);
    results.store = await measureScale(ctx, 'store', results.store);
  }
  if (has('replication')) results.replication = await measureReplication(ctx, results);
}

/** Summaries of the CPU profiles the store's processes wrote (--profile), into `results` and the log. */
function collectProfiles(ctx: BenchContext, results: Results): void {
  const { progress, profileDir } = ctx;
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

/** results-<time>.json and .html, and latest.json and .html; returns the results file. */
function writeResults(outDir: string, started: Date, results: Results): string {
  const json = JSON.stringify(results, null, 2);
  const resultFile = join(outDir, `results-${stamp(started)}.json`);
  writeFileSync(resultFile, json);
  writeFileSync(join(outDir, 'latest.json'), json);
  const html = renderHtml(results);
  writeFileSync(resultFile.replace(/\.json$/, '.html'), html);
  writeFileSync(join(outDir, 'latest.html'), html);
  return resultFile;
}

async function main(): Promise<void> {
  const opts = parseArgs();
  const root = projectRoot();
  const outDir = join(root, 'var', 'bench');
  mkdirSync(outDir, { recursive: true });
  const started = new Date();
  const ctx: BenchContext = {
    opts, root, defaults: loadDefaults(), progress: new Progress(Boolean(process.stdout.isTTY)),
    warmupMs: opts.warmup * 1000, durationMs: opts.duration * 1000, profileDir: join(outDir, 'profiles', stamp(started)), load: new Workload(),
  };
  const { progress } = ctx;
  const results = newResults(opts, root, started);

  progress.log(`tea store benchmark: ndb ${opts.ndb}, digest-length ${opts.digestLength}, c=${opts.concurrency}, each system warmed up by ${opts.warmupRequests} mixed requests, ${opts.duration} s phases after ${opts.warmup} s warm-up; phases ${opts.phases.join(', ')}`);
  progress.log(`machine: ${results.meta.cpus} x ${results.meta.cpuModel}, load average ${results.meta.loadAverageStart.map((x) => x.toFixed(2)).join(' ')}`);
  await runPhases(ctx, results);
  if (opts.profile.length) collectProfiles(ctx, results);

  const finished = new Date();
  results.meta.finishedAt = finished.toISOString();
  results.meta.seconds = (finished.getTime() - started.getTime()) / 1000;
  results.meta.loadAverageEnd = os.loadavg();
  results.summary = buildSummary(results);
  const resultFile = writeResults(outDir, started, results);

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
