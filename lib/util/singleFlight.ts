/**
 * Coalesces calls of an async task. A call made while no run is under way
 * starts one; calls made while a run is under way all share the *next* run,
 * which starts when the current one ends. So every caller gets a run that
 * began after it called, and N concurrent callers cost at most two runs.
 *
 * The DB drains its gossip inbox this way: a read must see every message
 * queued before the read arrived, but a hundred concurrent reads need not
 * each ask the queue.
 */
export class SingleFlight<T> {
  private current: Promise<T> | null = null;
  private next: Promise<T> | null = null;

  constructor(private readonly task: () => Promise<T>) {}

  run(): Promise<T> {
    if (this.current === null) return this.start();
    if (this.next === null) {
      const settle = () => {
        this.next = null;
        return this.start();
      };
      this.next = this.current.then(settle, settle);
    }
    return this.next;
  }

  private start(): Promise<T> {
    const run = this.task();
    this.current = run;
    const clear = () => {
      if (this.current === run) this.current = null;
    };
    run.then(clear, clear);
    return run;
  }
}
