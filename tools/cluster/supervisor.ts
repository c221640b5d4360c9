/**
 * npm start's watch over its processes: one that exits unexpectedly is
 * started again, after a wait that doubles while it keeps crashing soon
 * after starting (so a server that cannot start does not spin) and starts
 * over once it has lived a while.
 */
import type { Managed } from './processes';

export interface Backoff {
  firstMs: number;
  maxMs: number;
  /** A process that lived this long crashed by chance, not at start-up: wait firstMs again. */
  healthyAfterMs: number;
}

export const BACKOFF: Backoff = Object.freeze({ firstMs: 500, maxMs: 30_000, healthyAfterMs: 60_000 });

/** How long to wait before the next start, given the last wait (null: none yet) and how long the process lived. */
export function nextWait(lastWaitMs: number | null, livedMs: number, backoff: Backoff = BACKOFF): number {
  if (lastWaitMs === null || livedMs >= backoff.healthyAfterMs) return backoff.firstMs;
  return Math.min(backoff.maxMs, lastWaitMs * 2);
}

export class Supervisor {
  private stopping = false;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly say: (line: string) => void,
    private readonly backoff: Backoff = BACKOFF,
  ) {}

  /** Restart `p` with `start` whenever it exits before stop(); `start` records the new process where the cluster keeps it. */
  watch(p: Managed, start: () => Promise<Managed>, lastWaitMs: number | null = null): void {
    const startedAt = Date.now();
    p.child.once('exit', (code, signal) => {
      if (this.stopping) return;
      this.say(`${p.role} exited unexpectedly (${signal ?? `code ${code}`}); its log file says why`);
      this.restart(p.role, start, nextWait(lastWaitMs, Date.now() - startedAt, this.backoff));
    });
  }

  private restart(role: string, start: () => Promise<Managed>, waitMs: number): void {
    this.say(`starting ${role} again in ${waitMs} ms`);
    const timer = setTimeout(async () => {
      this.timers.delete(timer);
      if (this.stopping) return;
      try {
        const next = await start();
        this.say(`${role} is running again (pid ${next.child.pid})`);
        this.watch(next, start, waitMs);
      } catch (e) {
        this.say(`${role} did not start again: ${(e as Error).message}`);
        this.restart(role, start, nextWait(waitMs, 0, this.backoff));
      }
    }, waitMs);
    this.timers.add(timer);
  }

  stop(): void {
    this.stopping = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
