/**
 * Measuring a phase on a system, whole or in paired slices: every paired
 * phase (latency, throughput, replication) runs the same load on the
 * baseline and the store, both running, in PHASE_SLICES alternating slices
 * (A B B A A B B A). On a shared machine the neighbours' load drifts over
 * seconds, and a system measured a minute after the other met a different
 * machine (one run saw the same PUT ratio anywhere from 0.38x to 0.65x).
 * Slicing puts both under the same drift; each system's slices are merged
 * into one result.
 */
import type { BenchContext } from './context';
import { cpuBetween, CpuSample, mergeCpu, sampleCpu } from './cpu';
import { Op, PhaseResult, mergePhases, nodeHttpSender, runPhase } from './load';
import { redisCommandsProcessed } from './redis';
import type { System } from './systems';

/** Slices per paired phase: enough to cancel a drift in the machine's load (A B B A A B B A), few enough that each slice runs a second or more. */
export const PHASE_SLICES = 4;
/** Warm-up before each slice after the system's first: connections and JIT are warm by then, the load just needs to reach its steady state. */
const SLICE_WARMUP_MS = 300;

export interface Slice {
  durationMs: number;
  warmupMs: number;
  /** Leave the summary line to the caller, who merges the slices. */
  quiet: boolean;
}

/** The k-th request of a phase. */
export type NextOp = (k: number) => Op;

const catchUpLine = (seconds: number, after: string) => `  ${''.padEnd(40)} replication caught up ${seconds.toFixed(2)} s after ${after}`;

/** Redis commands per request, per server and in all, into `r`. */
function setRedisPerRequest(r: PhaseResult, byServer: { port: number; perRequest: number }[]): void {
  r.redisCommandsPerRequestByServer = byServer;
  r.redisCommandsPerRequest = byServer.reduce((n, x) => n + x.perRequest, 0);
}

/**
 * One load on one system, with its CPU and Redis figures, and for the
 * store's PUT loads the replication catch-up after it. A whole phase unless
 * `slice` says otherwise.
 */
export async function measure(ctx: BenchContext, label: string, concurrency: number, next: NextOp, sys: System, slice?: Slice): Promise<PhaseResult> {
  const { progress } = ctx;
  const { durationMs, warmupMs, quiet } = slice ?? { durationMs: ctx.durationMs, warmupMs: ctx.warmupMs, quiet: false };
  const sender = nodeHttpSender(sys.lbUrl, concurrency);
  const pids = sys.processes().map((p) => p.pid).filter((p): p is number => p !== undefined);
  const samples: (CpuSample | null)[] = [];
  const commands: Promise<number[]>[] = [];
  try {
    const r = await runPhase({
      label, concurrency, warmupMs, durationMs, next, send: sender.send, onTick: progress.phase(label),
      onWindow: () => {
        samples.push(sampleCpu(pids));
        commands.push(redisCommandsProcessed(sys).catch(() => []));
      },
    });
    const [a, b] = samples;
    if (a && b) r.cpu = cpuBetween(a, b, r.ok);
    if (sys.settle && label.includes('PUT')) {
      r.catchUpSeconds = await sys.settle();
      if (!quiet) progress.log(catchUpLine(r.catchUpSeconds, 'the load'));
    }
    const [c0, c1] = await Promise.all(commands);
    if (r.ok > 0 && c0?.length && c1?.length === c0.length) {
      setRedisPerRequest(r, sys.allRedisPorts.map((port, i) => ({ port, perRequest: (c1[i] - c0[i]) / r.ok })));
    }
    if (!quiet) progress.done(r);
    return r;
  } finally {
    sender.close();
  }
}

/** The same phase on every system in `systems` (all running), in alternating slices, merged per system. */
export async function paired(ctx: BenchContext, what: string, concurrency: number, next: NextOp, systems: readonly System[]): Promise<PhaseResult[]> {
  const parts: PhaseResult[][] = systems.map(() => []);
  const slice: Slice = { durationMs: ctx.durationMs / PHASE_SLICES, warmupMs: Math.min(ctx.warmupMs, SLICE_WARMUP_MS), quiet: true };
  for (let k = 0; k < PHASE_SLICES; k++) {
    const order = systems.map((_, i) => i);
    if (k % 2 === 1) order.reverse();
    for (const i of order) parts[i].push(await measure(ctx, `${systems[i].kind} ndb${systems[i].ndb} ${what}`, concurrency, next, systems[i], slice));
  }
  return parts.map((slices, i) => mergeSlices(ctx, systems[i], what, slices));
}

/** One system's slices as one result: CPU and Redis figures weighted by requests, the catch-up averaged. */
function mergeSlices(ctx: BenchContext, sys: System, what: string, slices: PhaseResult[]): PhaseResult {
  const r = mergePhases(`${sys.kind} ndb${sys.ndb} ${what}`, slices);
  const cpu = slices.filter((x) => x.cpu).map((x) => ({ cpu: x.cpu!, seconds: x.seconds, requests: x.ok }));
  if (cpu.length === slices.length) r.cpu = mergeCpu(cpu);
  const withRedis = slices.filter((x) => x.redisCommandsPerRequestByServer);
  if (withRedis.length === slices.length && r.ok > 0) {
    setRedisPerRequest(r, sys.allRedisPorts.map((port, j) => ({
      port, perRequest: withRedis.reduce((n, x) => n + x.redisCommandsPerRequestByServer![j].perRequest * x.ok, 0) / r.ok,
    })));
  }
  if (slices.every((x) => x.catchUpSeconds !== undefined)) {
    r.catchUpSeconds = slices.reduce((n, x) => n + x.catchUpSeconds!, 0) / slices.length;
  }
  ctx.progress.done(r);
  if (r.catchUpSeconds !== undefined) ctx.progress.log(catchUpLine(r.catchUpSeconds, 'a slice, on average'));
  return r;
}
