/**
 * Steady write load through the LB: K closed-loop writers, each a distinct
 * client id with its own increasing counter. Every write goes to a tea drawn
 * from a fixed pool with the clock {<writer>: n}. Every attempt is recorded
 * (when it started and ended, whether it was acknowledged: HTTP 200 with a
 * JSON {"rating": <number>}), so the suite can compute availability over any
 * window and check that every acknowledged write reaches every DB.
 *
 * One writer's clocks only ever grow, so an acknowledged {w: n} may be
 * superseded only by a newer write of the same writer: a DB holds it when its
 * state for that tea has a clock c with c[w] >= n. The ledger keeps, per tea
 * and writer, the largest acknowledged n, which implies all smaller ones.
 */
import { HttpClient } from '../../lib/net/httpClient';

export interface Attempt {
  writer: number;
  n: number;
  tea: string;
  start: number;
  end: number;
  acked: boolean;
  /** Why it was not acknowledged: an HTTP status or the error. */
  failure?: string;
}

export interface Window {
  from: number;
  to: number;
}

export interface Availability {
  attempted: number;
  acked: number;
  /** acked / attempted, 1 when nothing was attempted. */
  ratio: number;
}

export function percent(a: Availability): string {
  return `${a.acked}/${a.attempted} = ${(100 * a.ratio).toFixed(2)} %`;
}

export class Ledger {
  readonly attempts: Attempt[] = [];
  /** tea -> writer id -> largest acknowledged counter. */
  readonly acked = new Map<string, Map<string, number>>();
  ackedCount = 0;

  /** `writerId` is null for reads: they count towards availability only. */
  record(attempt: Attempt, writerId: string | null): void {
    this.attempts.push(attempt);
    if (!attempt.acked) return;
    this.ackedCount++;
    if (writerId === null) return;
    let byWriter = this.acked.get(attempt.tea);
    if (!byWriter) this.acked.set(attempt.tea, (byWriter = new Map()));
    if ((byWriter.get(writerId) ?? 0) < attempt.n) byWriter.set(writerId, attempt.n);
  }

  /** Attempts that started in [from, to). */
  startedIn(w: Window): Attempt[] {
    return this.attempts.filter((a) => a.start >= w.from && a.start < w.to);
  }

  /** Attempts whose [start, end] overlaps the window: every attempt the fault could touch. */
  overlapping(w: Window): Attempt[] {
    return this.attempts.filter((a) => a.start < w.to && a.end >= w.from);
  }

  static availability(attempts: Attempt[]): Availability {
    const acked = attempts.filter((a) => a.acked).length;
    return { attempted: attempts.length, acked, ratio: attempts.length === 0 ? 1 : acked / attempts.length };
  }

  /** Latency percentiles of the acknowledged writes among `attempts`, for the report. */
  static latency(attempts: Attempt[]): string {
    const ms = attempts.filter((a) => a.acked).map((a) => a.end - a.start).sort((x, y) => x - y);
    if (ms.length === 0) return 'no acknowledged writes';
    const at = (q: number) => ms[Math.min(ms.length - 1, Math.floor(q * ms.length))];
    return `latency p50 ${at(0.5)} ms, p99 ${at(0.99)} ms, max ${ms[ms.length - 1]} ms`;
  }

  /** The most common failure reasons among `attempts`, for the report. */
  static failures(attempts: Attempt[], top = 3): string {
    const counts = new Map<string, number>();
    for (const a of attempts) if (!a.acked) counts.set(a.failure ?? '?', (counts.get(a.failure ?? '?') ?? 0) + 1);
    return [...counts.entries()]
      .sort((x, y) => y[1] - x[1])
      .slice(0, top)
      .map(([why, n]) => `${n}x ${why}`)
      .join('; ');
  }
}

export interface LoadOptions {
  http: HttpClient;
  lbUrl: string;
  writers: number;
  teas: string[];
  /** Client id prefix; writer k is `${prefix}${k}`. */
  prefix: string;
  /** Pause after each acknowledged write (0 = flat out). */
  pauseMs: number;
  /** Pause after a failed write, so a dead LB does not turn the loop into a spin. */
  backoffMs: number;
  /** A write with no answer in this long counts as failed. */
  timeoutMs: number;
  /** Hard bounds on one run of the load: writes per writer, and duration. */
  maxWritesPerWriter: number;
  maxDurationMs: number;
}

/** The writers and their counters live across runs, so clocks keep growing from phase to phase. */
export class Writers {
  readonly ledger = new Ledger();
  private readonly counters: number[];
  private running: Promise<void>[] = [];
  private stopping = false;
  private rngState = 0x9e3779b9;

  constructor(readonly options: LoadOptions) {
    this.counters = Array.from({ length: options.writers }, () => 0);
  }

  writerId(k: number): string {
    return `${this.options.prefix}${k}`;
  }

  get isRunning(): boolean {
    return this.running.length > 0;
  }

  /** Start every writer; `stop()` ends them. */
  start(): void {
    if (this.running.length > 0) throw new Error('load already running');
    this.stopping = false;
    const deadline = Date.now() + this.options.maxDurationMs;
    this.running = Array.from({ length: this.options.writers }, (_, k) => this.loop(k, deadline));
  }

  /** Stop the writers and wait until every write in flight has its answer (or its timeout). */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.running);
    this.running = [];
  }

  /** A small deterministic generator: the tea order is the same in every run. */
  private random(): number {
    let x = this.rngState;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.rngState = x >>> 0;
    return this.rngState / 2 ** 32;
  }

  private async loop(k: number, deadline: number): Promise<void> {
    const { http, lbUrl, teas, pauseMs, backoffMs, timeoutMs, maxWritesPerWriter } = this.options;
    const id = this.writerId(k);
    for (let i = 0; i < maxWritesPerWriter && !this.stopping && Date.now() < deadline; i++) {
      const n = ++this.counters[k];
      const tea = teas[Math.floor(this.random() * teas.length)];
      const rating = ((n * 7 + k) % 10) + 1;
      const body = JSON.stringify({ rating, clock: { [id]: n } });
      const start = Date.now();
      let acked = false;
      let failure: string | undefined;
      try {
        const res = await http.request('PUT', `${lbUrl}/rating/${encodeURIComponent(tea)}`, body, timeoutMs);
        if (res.status === 200) {
          let parsed: unknown;
          try {
            parsed = JSON.parse(res.body);
          } catch {
            parsed = null;
          }
          acked = typeof (parsed as { rating?: unknown } | null)?.rating === 'number';
          if (!acked) failure = `200 without a rating: ${res.body.slice(0, 80)}`;
        } else {
          failure = `HTTP ${res.status} ${res.body.slice(0, 80)}`;
        }
      } catch (e) {
        failure = errorKind(e as Error);
      }
      const end = Date.now();
      this.ledger.record({ writer: k, n, tea, start, end, acked, failure }, id);
      const pause = acked ? pauseMs : backoffMs;
      if (pause > 0 && !this.stopping) await new Promise((r) => setTimeout(r, pause));
    }
  }
}

function errorKind(e: Error & { code?: string }): string {
  if (e.code) return e.code;
  if (/timed out/.test(e.message)) return 'timeout';
  return e.message.slice(0, 80);
}

/**
 * Strong reads through the LB beside the writers (the contract: no consistency
 * parameter reads the primary): closed loops that count a read answered when
 * it is HTTP 200 with {"rating", "choices", "clocks"}. For availability only.
 */
export class Readers {
  readonly ledger = new Ledger();
  private running: Promise<void>[] = [];
  private stopping = false;
  private seq = 0;

  constructor(
    readonly options: Pick<LoadOptions, 'http' | 'lbUrl' | 'teas' | 'pauseMs' | 'backoffMs' | 'timeoutMs' | 'maxDurationMs'> & { readers: number },
  ) {}

  start(): void {
    if (this.running.length > 0) throw new Error('reads already running');
    this.stopping = false;
    const deadline = Date.now() + this.options.maxDurationMs;
    this.running = Array.from({ length: this.options.readers }, (_, k) => this.loop(k, deadline));
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.running);
    this.running = [];
  }

  private async loop(k: number, deadline: number): Promise<void> {
    const { http, lbUrl, teas, pauseMs, backoffMs, timeoutMs } = this.options;
    while (!this.stopping && Date.now() < deadline) {
      const n = ++this.seq;
      const tea = teas[(n * 7919) % teas.length];
      const start = Date.now();
      let acked = false;
      let failure: string | undefined;
      try {
        const res = await http.request('GET', `${lbUrl}/rating/${encodeURIComponent(tea)}`, undefined, timeoutMs);
        if (res.status === 200) {
          let body: { rating?: unknown; choices?: unknown; clocks?: unknown } | null = null;
          try {
            body = JSON.parse(res.body);
          } catch {
            body = null;
          }
          acked = typeof body?.rating === 'number' && Array.isArray(body.choices) && Array.isArray(body.clocks);
          if (!acked) failure = `200 without a reading: ${res.body.slice(0, 80)}`;
        } else {
          failure = `HTTP ${res.status} ${res.body.slice(0, 80)}`;
        }
      } catch (e) {
        failure = errorKind(e as Error);
      }
      this.ledger.record({ writer: k, n, tea, start, end: Date.now(), acked, failure }, null);
      const pause = acked ? pauseMs : backoffMs;
      if (pause > 0 && !this.stopping) await new Promise((r) => setTimeout(r, pause));
    }
  }
}
