/**
 * The load generator: N closed-loop clients in this process, each sending a
 * request, waiting for the answer, and sending the next, for a fixed time.
 * Requests started during the warm-up, or answered after the end, are not
 * measured. Latency is kept per request and sorted at the end.
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import type { CpuUse } from './cpu';

export interface Op {
  method: 'GET' | 'PUT';
  path: string;
  body?: string;
}

/** Send one request: resolves with the HTTP status, rejects when no response arrives. */
export type Send = (op: Op) => Promise<number>;

export interface Sender {
  send: Send;
  close(): void;
}

/** node:http with a keep-alive agent of `maxSockets` connections: the load generator's client. */
export function nodeHttpSender(baseUrl: string, maxSockets: number, timeoutMs = 10_000): Sender {
  const { hostname, port } = new URL(baseUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets, keepAliveMsecs: 1000 });
  const send: Send = (op) =>
    new Promise<number>((resolve, reject) => {
      const headers: http.OutgoingHttpHeaders = { accept: 'application/json' };
      if (op.body !== undefined) {
        headers['content-type'] = 'application/json';
        headers['content-length'] = Buffer.byteLength(op.body);
      }
      const req = http.request({ host: hostname, port, method: op.method, path: op.path, agent, headers, timeout: timeoutMs }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end(op.body);
    });
  return { send, close: () => agent.destroy() };
}

export interface Latency {
  min: number;
  mean: number;
  p50: number;
  p75: number;
  p90: number;
  p95: number;
  p99: number;
  p999: number;
  max: number;
}

export interface PhaseResult {
  label: string;
  concurrency: number;
  /** Length of the measured window, seconds. */
  seconds: number;
  /** Successful (2xx) requests in the measured window. */
  ok: number;
  /** Failed requests (non-2xx status or no answer) at any time in the phase, warm-up included. */
  errors: number;
  /** A few of the failures, for the log. */
  errorSamples: string[];
  /** ok / seconds. */
  throughput: number;
  /** Store PUT phases: seconds after the load stopped until every DB had the writes (their anti-entropy sums agree). */
  catchUpSeconds?: number;
  /** The store's c=32 PUT phase: how fast replication falls behind the load (replicationPace()). */
  replicationPace?: ReplicationPace;
  /** The store's c=32 PUT phase too: the write rate it sustains with replication done, throughput / (1 + backlog per second). */
  sustainedThroughput?: number;
  /** Milliseconds, over the successful requests of the measured window. */
  latencyMs: Latency;
  /** CPU time of this (load generator) process per measured request, microseconds. */
  loadCpuUsPerRequest: number;
  /** CPU use of the system under test, the load generator and everything else, over the measured window (Linux). */
  cpu?: CpuUse;
  /** Commands all the system's Redis servers processed per successful request in the measured window. */
  redisCommandsPerRequest?: number;
  /** The same per Redis server: the DBs' in order, then (store) the queue's. */
  redisCommandsPerRequestByServer?: { port: number; perRequest: number }[];
}

export interface PhaseOptions {
  label: string;
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  /** The k-th request of the phase. */
  next: (k: number) => Op;
  send: Send;
  /** Called about 4 times a second with (fraction done, measured ok so far, errors so far). */
  onTick?: (fraction: number, ok: number, errors: number) => void;
  /** Called when the measured window opens and when it closes. */
  onWindow?: (edge: 'start' | 'end') => void;
}

export function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil(q * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))];
}

function summarize(samples: Float64Array): Latency {
  const sorted = samples.slice().sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    min: sorted.length ? sorted[0] : NaN,
    mean: sorted.length ? sum / sorted.length : NaN,
    p50: percentile(sorted, 0.5),
    p75: percentile(sorted, 0.75),
    p90: percentile(sorted, 0.9),
    p95: percentile(sorted, 0.95),
    p99: percentile(sorted, 0.99),
    p999: percentile(sorted, 0.999),
    max: sorted.length ? sorted[sorted.length - 1] : NaN,
  };
}

/** A load's length and the replication catch-up after it, in seconds. */
export interface LoadAndCatchUp {
  seconds: number;
  catchUpSeconds: number;
}

export interface ReplicationPace {
  short: LoadAndCatchUp;
  long: LoadAndCatchUp;
  /** Seconds of catch-up each second of load adds: 0 when replication keeps up. */
  backlogPerSecond: number;
}

/**
 * How fast replication falls behind a write load, from the catch-up after a
 * short load and after a longer one. The catch-up after any load holds the
 * gossip pipeline's own latency (a tuple waits for ticks at each hop: about a
 * third of a second with the defaults, however long the load ran), plus the
 * backlog the load left. Only the backlog grows with the load's length, so
 * the difference of the two catch-ups over the difference of the two lengths
 * is the backlog per second of load. A store that accepts A writes a second
 * and builds b seconds of backlog per second sustains A / (1 + b) over a long
 * run. Counting the whole catch-up against the load instead charged that
 * fixed latency as lost throughput: 0.33 s against a 5 s phase, 6%.
 */
export function replicationPace(short: LoadAndCatchUp, long: LoadAndCatchUp): ReplicationPace {
  if (!(long.seconds > short.seconds)) throw new Error(`the long load (${long.seconds} s) must be longer than the short one (${short.seconds} s)`);
  const backlogPerSecond = Math.max(0, (long.catchUpSeconds - short.catchUpSeconds) / (long.seconds - short.seconds));
  return { short, long, backlogPerSecond };
}

/** Each phase result's latency samples (ms), kept out of the result itself so they stay out of the JSON: for mergePhases. */
const samplesOf = new WeakMap<PhaseResult, Float64Array>();

/**
 * One result from the slices of a phase (bench/slices.ts interleaves the two
 * systems' slices): counts and seconds add up, latency percentiles come from
 * all the slices' samples, per-request figures are weighted by requests.
 * CPU, Redis and catch-up figures are the caller's to combine.
 */
export function mergePhases(label: string, parts: readonly PhaseResult[]): PhaseResult {
  const all = parts.map((p) => samplesOf.get(p) ?? new Float64Array(0));
  const samples = new Float64Array(all.reduce((n, a) => n + a.length, 0));
  let at = 0;
  for (const a of all) {
    samples.set(a, at);
    at += a.length;
  }
  const sum = (f: (p: PhaseResult) => number) => parts.reduce((n, p) => n + f(p), 0);
  const ok = sum((p) => p.ok);
  const seconds = sum((p) => p.seconds);
  const merged: PhaseResult = {
    label,
    concurrency: parts[0]?.concurrency ?? 0,
    seconds,
    ok,
    errors: sum((p) => p.errors),
    errorSamples: parts.flatMap((p) => p.errorSamples).slice(0, 5),
    throughput: seconds > 0 ? ok / seconds : NaN,
    latencyMs: summarize(samples),
    loadCpuUsPerRequest: ok ? sum((p) => (Number.isFinite(p.loadCpuUsPerRequest) ? p.loadCpuUsPerRequest * p.ok : 0)) / ok : NaN,
  };
  samplesOf.set(merged, samples);
  return merged;
}

export async function runPhase(o: PhaseOptions): Promise<PhaseResult> {
  const t0 = performance.now();
  const from = t0 + o.warmupMs;
  const end = from + o.durationMs;
  let samples = new Float64Array(1 << 15);
  let ok = 0;
  let errors = 0;
  const errorSamples: string[] = [];
  let k = 0;
  let cpuFrom: NodeJS.CpuUsage | null = null;
  let cpuUsed: NodeJS.CpuUsage | null = null;
  const openWindow = () => {
    if (cpuFrom) return;
    cpuFrom = process.cpuUsage();
    o.onWindow?.('start');
  };
  const closeWindow = () => {
    if (cpuUsed) return;
    openWindow();
    cpuUsed = process.cpuUsage(cpuFrom ?? undefined);
    o.onWindow?.('end');
  };
  const cpuStart = setTimeout(openWindow, Math.max(0, o.warmupMs));
  const cpuStop = setTimeout(closeWindow, o.warmupMs + o.durationMs);
  const ticker = o.onTick
    ? setInterval(() => o.onTick?.(Math.min(1, (performance.now() - t0) / (end - t0)), ok, errors), 250)
    : null;

  const fail = (what: string) => {
    errors++;
    if (errorSamples.length < 5) errorSamples.push(what);
  };

  async function client(): Promise<void> {
    for (;;) {
      const start = performance.now();
      if (start >= end) return;
      const op = o.next(k++);
      let status: number;
      try {
        status = await o.send(op);
      } catch (e) {
        fail(`${op.method} ${op.path}: ${(e as Error).message}`);
        continue;
      }
      const stop = performance.now();
      if (status < 200 || status > 299) {
        fail(`${op.method} ${op.path}: HTTP ${status}`);
        continue;
      }
      if (start < from || stop > end) continue;
      if (ok === samples.length) {
        const bigger = new Float64Array(samples.length * 2);
        bigger.set(samples);
        samples = bigger;
      }
      samples[ok++] = stop - start;
    }
  }

  try {
    await Promise.all(Array.from({ length: o.concurrency }, () => client()));
  } finally {
    clearTimeout(cpuStart);
    clearTimeout(cpuStop);
    if (ticker) clearInterval(ticker);
  }
  closeWindow();
  const cpu = cpuUsed as unknown as NodeJS.CpuUsage;
  const seconds = o.durationMs / 1000;
  o.onTick?.(1, ok, errors);
  const result: PhaseResult = {
    label: o.label,
    concurrency: o.concurrency,
    seconds,
    ok,
    errors,
    errorSamples,
    throughput: ok / seconds,
    latencyMs: summarize(samples.subarray(0, ok)),
    loadCpuUsPerRequest: ok ? (cpu.user + cpu.system) / ok : NaN,
  };
  samplesOf.set(result, samples.slice(0, ok));
  return result;
}

/** Send exactly `total` requests with `concurrency` clients (priming data, warming up); returns the failures. */
export async function runCount(
  total: number, concurrency: number, next: (k: number) => Op, send: Send, onProgress?: (done: number) => void,
): Promise<{ errors: number; errorSamples: string[] }> {
  let k = 0;
  let done = 0;
  let errors = 0;
  const errorSamples: string[] = [];
  async function client(): Promise<void> {
    while (k < total) {
      const op = next(k++);
      let what: string | null = null;
      try {
        const status = await send(op);
        if (status < 200 || status > 299) what = `HTTP ${status}`;
      } catch (e) {
        what = (e as Error).message;
      }
      if (what !== null) {
        errors++;
        if (errorSamples.length < 5) errorSamples.push(`${op.method} ${op.path}: ${what}`);
      }
      if (onProgress && ++done % 500 === 0) onProgress(done);
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, () => client()));
  return { errors, errorSamples };
}
