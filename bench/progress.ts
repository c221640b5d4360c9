/**
 * Progress on the terminal: a cli-progress bar per long phase when stdout is
 * a terminal, else one line per phase when it ends (for logs and CI).
 */
import { SingleBar } from 'cli-progress';
import type { PhaseResult } from './load';

export type Tick = (fraction: number, ok: number, errors: number) => void;

const fmt = (v: number, digits: number) => (Number.isFinite(v) ? v.toFixed(digits) : '-');

export function phaseLine(r: PhaseResult): string {
  const l = r.latencyMs;
  return (
    `  ${r.label.padEnd(40)} c=${String(r.concurrency).padEnd(3)} ${fmt(r.throughput, 0).padStart(6)} req/s` +
    `  p50 ${fmt(l.p50, 2).padStart(6)} ms  p99 ${fmt(l.p99, 2).padStart(6)} ms  errors ${r.errors}` +
    (r.cpu ? `  server CPU ${fmt(r.cpu.serverUsPerRequest, 0)} us/req` : '') +
    (r.redisCommandsPerRequest !== undefined ? `, ${fmt(r.redisCommandsPerRequest, 1)} Redis cmds/req` : '') +
    (r.cpu ? `, other processes ${fmt(r.cpu.otherCores, 2)} cores` : '') +
    (r.errorSamples.length ? `  (${r.errorSamples[0]})` : '')
  );
}

export class Progress {
  private bar: SingleBar | null = null;
  private started = 0;

  constructor(readonly tty: boolean) {}

  log(message: string): void {
    this.stopBar();
    console.log(message);
  }

  /** A bar for a timed load phase; returns the tick callback (none without a terminal). */
  phase(label: string): Tick | undefined {
    if (!this.tty) return undefined;
    this.stopBar();
    const bar = new SingleBar({
      format: `  ${label.padEnd(40)} |{bar}| {percentage}% | {rps} req/s | errors {errors}`,
      barsize: 24,
      hideCursor: true,
      clearOnComplete: true,
      stopOnComplete: false,
    });
    bar.start(1000, 0, { rps: 0, errors: 0 });
    this.bar = bar;
    this.started = Date.now();
    return (fraction, ok, errors) => {
      const secs = (Date.now() - this.started) / 1000;
      bar.update(Math.round(fraction * 1000), { rps: secs > 0 ? Math.round(ok / secs) : 0, errors });
    };
  }

  done(r: PhaseResult): void {
    this.stopBar();
    console.log(phaseLine(r));
  }

  /** A bar for a counted task (preloading teas); returns update(done) and end(). */
  task(label: string, total: number): { update(done: number): void; end(note: string): void } {
    this.stopBar();
    let bar: SingleBar | null = null;
    if (this.tty) {
      bar = new SingleBar({ format: `  ${label.padEnd(40)} |{bar}| {percentage}% | {value}/{total}`, barsize: 24, hideCursor: true, clearOnComplete: true });
      bar.start(total, 0);
      this.bar = bar;
    }
    return {
      update: (done) => bar?.update(done),
      end: (note) => {
        this.stopBar();
        console.log(`  ${label.padEnd(40)} ${note}`);
      },
    };
  }

  stopBar(): void {
    if (this.bar) {
      this.bar.stop();
      this.bar = null;
    }
  }
}
