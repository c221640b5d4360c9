/**
 * A map that keeps its most recently set entries within a count and a
 * total size (the caller says what an entry weighs): a cache whose memory
 * no mix of entries can push past its bound, however large each is.
 */
export class BoundedMap<K, V> {
  /** Least recently set first (a Map keeps insertion order). */
  private readonly entries = new Map<K, { value: V; size: number }>();
  private total = 0;

  constructor(
    private readonly maxCount: number,
    private readonly maxSize: number,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** What the entries weigh together. */
  get weight(): number {
    return this.total;
  }

  get(key: K): V | undefined {
    return this.entries.get(key)?.value;
  }

  delete(key: K): void {
    const known = this.entries.get(key);
    if (known === undefined) return;
    this.total -= known.size;
    this.entries.delete(key);
  }

  /** Set `key` as the most recent entry; returns the entries pushed out to stay within the bounds, oldest first. */
  set(key: K, value: V, size: number): [K, V][] {
    this.delete(key);
    this.entries.set(key, { value, size });
    this.total += size;
    const evicted: [K, V][] = [];
    while (this.entries.size > this.maxCount || (this.total > this.maxSize && this.entries.size > 0)) {
      const [oldest, entry] = this.entries.entries().next().value as [K, { value: V; size: number }];
      this.entries.delete(oldest);
      this.total -= entry.size;
      evicted.push([oldest, entry.value]);
    }
    return evicted;
  }

  clear(): void {
    this.entries.clear();
    this.total = 0;
  }
}
