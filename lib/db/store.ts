/**
 * Where a DB keeps its teas. The Redis implementation is the product; the
 * in-memory one lets unit tests drive the replica logic without sockets.
 */
import { BUCKETS, Words, bucketOf, entryDigest } from '../core/antiEntropy';
import { EMPTY, TeaState } from '../core/versions';

export interface UpdateResult {
  before: TeaState;
  after: TeaState;
}

export type TeaChange = readonly [tea: string, change: (state: TeaState) => TeaState];

export interface SkippedTea {
  tea: string;
  error: Error;
}

export interface Entry {
  tea: string;
  state: TeaState;
}

export interface TeaStore {
  load(tea: string): Promise<TeaState>;
  /**
   * Replace a tea's state with `change(state)`, atomically with respect to
   * every other update of that tea, from this process or any other. When
   * `change` returns its argument unchanged nothing is written.
   */
  update(tea: string, change: (state: TeaState) => TeaState): Promise<UpdateResult>;
  /**
   * update() for many teas at once: the changes of one tea apply in the
   * order given, each as update() would. A batch of gossip comes this way,
   * so the Redis store can write it in one round trip instead of one each.
   * A tea whose stored value cannot be read (corrupt) is left alone and
   * named in the result, and the rest are written; any other failure (the
   * store unreachable) rejects.
   */
  updateMany(changes: Iterable<TeaChange>): Promise<SkippedTea[]>;
  /** Per anti-entropy bucket, the sums of the digests of the teas held there. */
  bucketSums(): Promise<Words[]>;
  /** Every tea of one anti-entropy bucket, deleted ones (tombstone only) included. */
  bucketEntries(bucket: number): Promise<Entry[]>;
  close(): Promise<void>;
}

export class MemoryTeaStore implements TeaStore {
  readonly teas = new Map<string, TeaState>();

  async load(tea: string): Promise<TeaState> {
    return this.teas.get(tea) ?? EMPTY;
  }

  async update(tea: string, change: (state: TeaState) => TeaState): Promise<UpdateResult> {
    const before = this.teas.get(tea) ?? EMPTY;
    const after = change(before);
    if (after !== before) this.teas.set(tea, after);
    return { before, after };
  }

  async updateMany(changes: Iterable<TeaChange>): Promise<SkippedTea[]> {
    for (const [tea, change] of changes) await this.update(tea, change);
    return [];
  }

  async bucketSums(): Promise<Words[]> {
    const sums: [number, number][] = Array.from({ length: BUCKETS }, () => [0, 0]);
    for (const [tea, state] of this.teas) {
      const [a, b] = entryDigest(tea, state);
      const s = sums[bucketOf(tea)];
      s[0] += a;
      s[1] += b;
    }
    return sums;
  }

  async bucketEntries(bucket: number): Promise<Entry[]> {
    return [...this.teas].filter(([tea]) => bucketOf(tea) === bucket).map(([tea, state]) => ({ tea, state }));
  }

  async close(): Promise<void> {}
}
