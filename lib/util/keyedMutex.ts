/**
 * Runs tasks one at a time per key, in arrival order; different keys run in
 * parallel. The DB uses it so concurrent writes to one tea meet in memory
 * instead of retrying against Redis.
 */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    return this.enqueue([key], previous.then(task, task));
  }

  /**
   * Run `task` holding every one of `keys`: after every task already queued
   * on any of them, before any task queued on any of them later. It joins
   * all the queues at once, when called, so two multi-key tasks can never
   * each hold a key the other waits for.
   */
  runAll<T>(keys: Iterable<string>, task: () => Promise<T>): Promise<T> {
    const unique = [...new Set(keys)];
    const previous = unique.map((key) => this.tails.get(key)).filter((tail) => tail !== undefined);
    const ready = previous.length === 0 ? Promise.resolve() : Promise.all(previous);
    return this.enqueue(unique, ready.then(task, task));
  }

  /** Make `result` (settled either way) the new tail of every key, and forget keys whose queue empties. */
  private enqueue<T>(keys: readonly string[], result: Promise<T>): Promise<T> {
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    for (const key of keys) this.tails.set(key, tail);
    void tail.then(() => {
      for (const key of keys) if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }

  /** Keys with a task queued or running: for tests and leak checks. */
  get size(): number {
    return this.tails.size;
  }
}
