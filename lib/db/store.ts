/**
 * Where a DB keeps its teas. The Redis implementation is the product; the
 * in-memory one lets unit tests drive the replica logic without sockets.
 */
import { EMPTY, TeaState } from '../core/versions';

export interface UpdateResult {
  before: TeaState;
  after: TeaState;
}

export interface TeaStore {
  load(tea: string): Promise<TeaState>;
  /**
   * Replace a tea's state with `change(state)`, atomically with respect to
   * every other update of that tea, from this process or any other. When
   * `change` returns its argument unchanged nothing is written.
   */
  update(tea: string, change: (state: TeaState) => TeaState): Promise<UpdateResult>;
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

  async close(): Promise<void> {}
}
