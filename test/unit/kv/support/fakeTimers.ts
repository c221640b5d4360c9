/**
 * Timers a test steps by hand: nothing runs until advance(), which fires the
 * due callbacks in time order and lets the promises they start settle, so a
 * cluster of in-memory nodes is driven step by step with no real waiting.
 */
import { Timers } from '../../../../lib/kv/node/transport';

interface Pending {
  at: number;
  id: number;
  fn: () => void;
}

export async function settle(turns = 20): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((r) => setImmediate(r));
}

export class FakeTimers implements Timers {
  private time = 1_700_000_000_000;
  private nextId = 1;
  private pending: Pending[] = [];

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.pending.push({ at: this.time + Math.max(0, ms), id, fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.pending = this.pending.filter((p) => p.id !== handle);
  }

  /** Move time forward by `ms`, firing every timer that falls due on the way. */
  async advance(ms: number, stepMs = 10): Promise<void> {
    const end = this.time + ms;
    await settle();
    while (this.time < end) {
      this.time = Math.min(end, this.time + stepMs);
      for (;;) {
        const due = this.pending.filter((p) => p.at <= this.time).sort((a, b) => a.at - b.at || a.id - b.id)[0];
        if (!due) break;
        this.pending = this.pending.filter((p) => p !== due);
        due.fn();
        await settle();
      }
    }
  }

  /** Run `task` while time moves on, until it settles (at most `maxMs` of fake time). */
  async during<T>(task: Promise<T>, maxMs = 10_000): Promise<T> {
    let done = false;
    task.then(() => (done = true), () => (done = true));
    for (let t = 0; t < maxMs && !done; t += 10) await this.advance(10);
    if (!done) throw new Error(`still running after ${maxMs} ms of fake time`);
    return task;
  }
}
