/**
 * Runs tasks one at a time per key, in arrival order; different keys run in
 * parallel. The DB uses it so concurrent writes to one tea meet in memory
 * instead of retrying against Redis.
 */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.then(task, task);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }

  /** Keys with a task queued or running: for tests and leak checks. */
  get size(): number {
    return this.tails.size;
  }
}
