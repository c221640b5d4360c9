/**
 * Bringing a system to where it is measured: started (with CPU profiling when
 * asked), warmed up, and its cost with no requests at all recorded.
 */
import { join } from 'node:path';
import { BenchContext, MAIN_TEAS } from './context';
import { cpuBetween, sampleCpu } from './cpu';
import { nodeHttpSender, runCount } from './load';
import { redisCommandsProcessed } from './redis';
import { System, SystemKind, startBaseline, startStore } from './systems';
import type { SystemRun } from './types';

/** A started, warmed-up system and what is measured of it. */
export interface Warm {
  sys: System;
  run: SystemRun;
}

export function start(ctx: BenchContext, kind: SystemKind, ndb: number): Promise<System> {
  const { opts, root, defaults } = ctx;
  ctx.progress.log(`\n${kind}, ndb ${ndb}: starting`);
  if (kind === 'baseline') return startBaseline({ root, defaults, ndb, httpClient: opts.httpClient });
  const prof = (role: string) =>
    opts.profile.includes(role) ? ['--cpu-prof', `--cpu-prof-dir=${join(ctx.profileDir, `${role}-ndb${ndb}`)}`] : [];
  return startStore({
    root, defaults, ndb, digestLength: opts.digestLength, dbNodeArgs: prof('db'), lbNodeArgs: prof('lb'), queueNodeArgs: prof('q'), nodeOptions: opts.nodeOptions || undefined,
  });
}

/** CPU the system uses with no requests at all (timers: gossip, anti-entropy, health checks), in cores. */
export async function idleUse(ctx: BenchContext, sys: System): Promise<{ cores: number | null; redisCommandsPerSecond: number }> {
  const pids = sys.processes().map((p) => p.pid).filter((p): p is number => p !== undefined);
  const sum = (xs: number[]) => xs.reduce((n, x) => n + x, 0);
  const c0 = sum(await redisCommandsProcessed(sys));
  const a = sampleCpu(pids);
  const ms = Math.max(1000, 2 * ctx.warmupMs);
  await new Promise((r) => setTimeout(r, ms));
  const b = sampleCpu(pids);
  const c1 = sum(await redisCommandsProcessed(sys));
  const cores = a && b ? cpuBetween(a, b, 0).serverCores : null;
  // Less the two INFO commands per Redis that measure it.
  const perSecond = Math.max(0, c1 - c0 - sys.allRedisPorts.length) / (ms / 1000);
  ctx.progress.log(`  ${`${sys.kind} idle`.padEnd(40)} with no requests: server CPU ${cores === null ? '-' : cores.toFixed(2)} cores, ${perSecond.toFixed(0)} Redis cmds/s`);
  return { cores, redisCommandsPerSecond: perSecond };
}

/** Write every main tea once, then run mixed traffic for a while: connections, JIT and Redis are warm after this. */
async function warmUp(ctx: BenchContext, sys: System): Promise<SystemRun['warmup']> {
  const { opts, progress, load } = ctx;
  const c = opts.concurrency;
  const t0 = Date.now();
  const sender = nodeHttpSender(sys.lbUrl, c);
  try {
    const primed = await runCount(MAIN_TEAS, c, load.putMain, sender.send);
    const task = progress.task(`${sys.kind} warm-up`, opts.warmupRequests);
    const mixed = await runCount(opts.warmupRequests, c, (k) => (k % 2 ? load.putOp(load.spread(k)) : load.getSpread(k)), sender.send, (done) => task.update(done));
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
}

/** What a warmed-up system costs with no requests, into its run. */
export async function recordIdle(ctx: BenchContext, { sys, run }: Warm): Promise<void> {
  const idle = await idleUse(ctx, sys);
  run.idleServerCores = idle.cores;
  run.idleRedisCommandsPerSecond = idle.redisCommandsPerSecond;
}

/** Start a system and warm it up (every main tea written once, replication settled). */
export async function startWarm(ctx: BenchContext, kind: SystemKind, ndb: number): Promise<Warm> {
  const sys = await start(ctx, kind, ndb);
  try {
    const run: SystemRun = { kind, ndb, processes: sys.processes(), warmup: await warmUp(ctx, sys) };
    return { sys, run };
  } catch (e) {
    await sys.stop();
    throw e;
  }
}

/** Both systems at `ndb`, started and warmed up (the baseline first), for `use`; both stopped after it, whatever happens. */
export async function withWarmPair<T>(ctx: BenchContext, ndb: number, use: (pair: { baseline: Warm; store: Warm }) => Promise<T>): Promise<T> {
  const baseline = await startWarm(ctx, 'baseline', ndb);
  try {
    const store = await startWarm(ctx, 'store', ndb);
    try {
      return await use({ baseline, store });
    } finally {
      await store.sys.stop();
    }
  } finally {
    await baseline.sys.stop();
  }
}
