/** What the hostile probes share: pacing, watching the cluster while a probe runs, and building hostile input. */
import { readFileSync } from 'node:fs';
import { JSON_HEADERS, RawResponse, getRating, putRating, request } from '../support/http';
import { NDB, Target } from './target';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Run `fn(0..n-1)` with at most `concurrency` at once; results in order. */
export async function pool<T>(n: number, concurrency: number, fn: (k: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(n);
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const k = next++;
      out[k] = await fn(k);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, concurrency) }, worker));
  return out;
}

/** How many answers had each status ("err" for none). */
export function statusCounts(statuses: (number | 'err')[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const s of statuses) counts[String(s)] = (counts[String(s)] ?? 0) + 1;
  return counts;
}

export const settle = (p: Promise<RawResponse>): Promise<RawResponse | null> => p.catch(() => null);
export const statusOf = (r: RawResponse | null): number | 'err' => (r === null ? 'err' : r.status);

/** GETs of a tea nobody touches, every 200 ms through the LB, while a probe runs. */
export class Watch {
  private readonly latencies: number[] = [];
  private failures = 0;
  private running = true;
  private readonly loop: Promise<void>;

  constructor(t: Target, tea = 'watched') {
    this.loop = (async () => {
      while (this.running) {
        const start = Date.now();
        const res = await settle(getRating(t.lb, tea));
        if (res?.status === 200) this.latencies.push(Date.now() - start);
        else this.failures++;
        await sleep(200);
      }
    })();
  }

  async stop(): Promise<{ gets: number; maxMs: number; medianMs: number; failures: number }> {
    this.running = false;
    await this.loop;
    const sorted = [...this.latencies].sort((a, b) => a - b);
    return { gets: sorted.length, maxMs: sorted.at(-1) ?? NaN, medianMs: sorted[Math.floor(sorted.length / 2)] ?? NaN, failures: this.failures };
  }
}

/**
 * Write `tea` at DB `at` (the LB when undefined) and return how long it took
 * to be read at every DB, or null when it was not everywhere within `boundMs`.
 */
export async function spreadMs(t: Target, tea: string, at?: number, boundMs = 10_000): Promise<number | null> {
  const start = Date.now();
  const res = await settle(putRating(at === undefined ? t.lb : t.db(at), tea, 7, { spreader: 1 }));
  if (res?.status !== 200) return null;
  while (Date.now() - start < boundMs) {
    const views = await Promise.all(Array.from({ length: NDB }, (_, i) => settle(getRating(t.db(i), tea))));
    if (views.every((v) => v?.status === 200 && JSON.stringify(v.json().choices) === '[7]')) return Date.now() - start;
    await sleep(100);
  }
  return null;
}

/** Resident memory of the process answering /health on `port`, in MB (null when it does not answer). */
export async function rssMb(port: number): Promise<number | null> {
  const res = await settle(request(port, { method: 'GET', path: '/health', headers: { Accept: 'application/json' }, timeoutMs: 5000 }));
  if (res?.status !== 200) return null;
  const pid = res.json().pid as number;
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Math.round(Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN) / 1024);
}

export async function dbHealth(t: Target, i: number): Promise<Record<string, unknown> | null> {
  const res = await settle(request(t.db(i), { method: 'GET', path: '/health', headers: { Accept: 'application/json' }, timeoutMs: 5000 }));
  return res?.status === 200 ? res.json() : null;
}

export async function queueStats(t: Target): Promise<Record<string, { held: number; delivered: number }> | string> {
  const res = await settle(request(t.q, { method: 'GET', path: '/stats', headers: t.internal, timeoutMs: 5000 }));
  return res?.status === 200 ? res.json().channels : `stats answered ${statusOf(res)}`;
}

/** A clock of `n` entries `<prefix>0..`, each at `counter`. */
export function bigClock(prefix: string, n: number, counter = 1): Record<string, number> {
  return Object.fromEntries(Array.from({ length: n }, (_, k) => [`${prefix}${k}`, counter]));
}

/** A tea whose primary is DB `db`, named from `prefix`. */
export function teaOn(t: Target, db: number, prefix: string): string {
  for (let n = 0; ; n++) if (t.ring.primaryOf(`${prefix}-${n}`) === db) return `${prefix}-${n}`;
}

// ---- item 1 ----

/** A gossip tuple as DB `primary` would send it. */
export function tupleOf(primary: string, key: string, choice: number, clock: Record<string, number>, tombstone?: Record<string, number>): Record<string, unknown> {
  return { primary, key, rating: choice, choices: [choice], clocks: [clock], ...(tombstone ? { tombstone } : {}) };
}

/** PUT one message on a queue channel with the original route, with or without the cluster's secret. */
export function queuePut(t: Target, channel: string, message: unknown, withSecret = false): Promise<RawResponse> {
  return request(t.q, { method: 'PUT', path: `/q/${channel}`, headers: { ...JSON_HEADERS, ...(withSecret ? t.internal : {}) }, body: JSON.stringify(message) });
}
