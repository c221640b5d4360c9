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
