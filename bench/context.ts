/**
 * What every phase of the benchmark shares: the options, where things go,
 * the progress output, and the workload (which teas, and a fresh clock for
 * every PUT of the run).
 */
import type { Defaults } from '../lib/config';
import type { Op } from './load';
import type { Progress } from './progress';
import type { Options } from './types';

/** Teas the latency and throughput phases write and read: all written once during the warm-up. */
export const MAIN_TEAS = 1000;

export interface BenchContext {
  opts: Options;
  root: string;
  defaults: Defaults;
  progress: Progress;
  /** opts.warmup and opts.duration, in milliseconds. */
  warmupMs: number;
  durationMs: number;
  /** Where the store's CPU profiles go (--profile). */
  profileDir: string;
  load: Workload;
}

export class Workload {
  // One counter per run: every PUT's clock is fresh, so each supersedes the tea's last version.
  private clockCounter = 1;

  putOp(tea: string): Op {
    const n = this.clockCounter++;
    return { method: 'PUT', path: `/rating/${tea}`, body: `{"rating":${(n % 10) + 1},"clock":{"bench":${n}}}` };
  }

  mainTea(k: number): string {
    return `bench-${k % MAIN_TEAS}`;
  }

  spread(k: number): string {
    return this.mainTea((k * 7919) % MAIN_TEAS);
  }

  /** The k-th PUT of a phase: the main teas in turn. */
  putMain = (k: number): Op => this.putOp(this.mainTea(k));

  /** The k-th GET of a phase: the main teas spread out, with an optional query (?consistency=weak). */
  getSpread = (k: number, query = ''): Op => ({ method: 'GET', path: `/rating/${this.spread(k)}${query}` });
}
