/**
 * Where a DB keeps its teas and its digest. The Redis implementation
 * (redisStore.ts) is the product; the in-memory one lets unit tests drive
 * whole rings without sockets.
 *
 * A store is written only through commit(): a group of steps applied
 * together, in order, with the digest tuples they add, atomically (so the
 * digest is exactly as durable as the teas). A store serves one DB process:
 * claim() makes this process its owner, and from then on a commit from any
 * other process, or after the storage was wiped from outside (FLUSHALL),
 * fails with FencedError instead of writing.
 */
import { BucketIndex, Words } from '../core/antiEntropy';
import { EMPTY, TeaState } from '../core/versions';
import { LimitError } from '../core/weight';

export type ClaimMode = 'force' | 'free' | 'mine';

export interface CommitStep {
  tea: string;
  change: (state: TeaState) => TeaState;
  /**
   * The tuple this step appends to the digest, if any: built from the step's
   * result (a client's write), or a text to append as it is (gossip to pass on).
   */
  digest?: string | ((before: TeaState, after: TeaState) => string | null);
  /** An anti-entropy repair: old news, so the tea does not count as recently changed (see BucketIndex). */
  repair?: boolean;
}

export interface CommitGroup {
  /** Drop this many tuples from the head of the stored digest first: they have been sent. */
  trim: number;
  steps: readonly CommitStep[];
}

export type StepResult = { before: TeaState; after: TeaState; error?: undefined } | { error: Error };

export interface CommitResult {
  /** One per step, in order. A step fails alone when its tea's stored value is unusable (corrupt). */
  results: StepResult[];
  /** The tuples appended to the digest, in order. */
  appended: string[];
}

/** This process no longer owns the storage: `owner` is who does now, null when nobody (it was wiped). */
export class FencedError extends Error {
  constructor(readonly owner: string | null) {
    super(owner === null ? 'the storage was wiped from outside (FLUSHALL?)' : `another process (${owner}) now owns the storage`);
  }
}

/** A tea's stored value cannot be read as a tea. */
export class CorruptValueError extends Error {}

export interface IndexedEntry {
  tea: string;
  state: TeaState;
  /** Milliseconds since it last changed here; null when not recently. */
  ageMs: number | null;
}

export interface TeaStore {
  /**
   * Become the storage's owner and return its digest (tuples not yet sent,
   * oldest first), or null when `mode` does not allow it: 'force' takes it
   * over from whoever owns it (a process starting), 'free' only when nobody
   * does (after a wipe), 'mine' only when this store still does, or nobody
   * (to read the digest back after a failed commit). Starts the index again
   * (see scanSlice).
   */
  claim(mode: ClaimMode): Promise<string[] | null>;
  load(tea: string): Promise<TeaState>;
  /** One group, atomically. Never called again before the last call settles. */
  commit(group: CommitGroup): Promise<CommitResult>;
  /** Build the anti-entropy index from what is stored, one slice per call; false once complete. Not concurrently with commit(). */
  scanSlice(): Promise<boolean>;
  readonly indexReady: boolean;
  bucketSums(): Words[];
  bucketEntries(bucket: number, now: number): Promise<IndexedEntry[]>;
  /** Keep gossip that could not be applied, newest last, at most DEAD_LETTER_LIMIT of it; fenced like a commit. */
  setAside(entries: readonly string[]): Promise<void>;
  close(): Promise<void>;
}

/** Set-aside gossip a store keeps: the newest, for an operator to look at. */
export const DEAD_LETTER_LIMIT = 1000;

/** A commit's steps worked out in memory: every tea's first and last state, and what the digest gains. */
export interface Plan {
  results: StepResult[];
  appended: string[];
  /** For each appended tuple, the tea whose write built it (it travels only if that write is made), or null. */
  builtFor: (string | null)[];
  /** Per tea touched: the state before the group and after it. */
  teas: Map<string, { before: TeaState; after: TeaState; repairOnly: boolean }>;
}

/**
 * Apply the steps in order against the states `stateOf` gives (the stored
 * ones). A tea that `stateOf` cannot give (corrupt) fails its steps alone;
 * their digest texts, when given as text, still travel on.
 */
export function planCommit(steps: readonly CommitStep[], stateOf: (tea: string) => TeaState | Error): Plan {
  const teas = new Map<string, { before: TeaState; after: TeaState; repairOnly: boolean }>();
  const results: StepResult[] = [];
  const appended: string[] = [];
  const builtFor: (string | null)[] = [];
  for (const step of steps) {
    let entry = teas.get(step.tea);
    if (entry === undefined) {
      const stored = stateOf(step.tea);
      if (stored instanceof Error) {
        results.push({ error: stored });
        if (typeof step.digest === 'string') {
          appended.push(step.digest);
          builtFor.push(null);
        }
        continue;
      }
      entry = { before: stored, after: stored, repairOnly: true };
      teas.set(step.tea, entry);
    }
    const before = entry.after;
    let after: TeaState;
    try {
      after = step.change(before);
    } catch (e) {
      // Beyond the tea's limits: this step alone is refused, stores nothing and sends nothing.
      if (!(e instanceof LimitError)) throw e;
      results.push({ error: e });
      continue;
    }
    entry.after = after;
    if (!step.repair && after !== before) entry.repairOnly = false;
    results.push({ before, after });
    const built = typeof step.digest === 'function';
    const text = built ? (step.digest as (b: TeaState, a: TeaState) => string | null)(before, after) : step.digest;
    if (text !== undefined && text !== null) {
      appended.push(text as string);
      builtFor.push(built ? step.tea : null);
    }
  }
  return { results, appended, builtFor, teas };
}

/** Milliseconds a change is left to gossip before anti-entropy may repair it: see BucketIndex. */
export const DEFAULT_RECENT_MS = 10_000;

/** What a MemoryTeaStore keeps, shareable between stores as one Redis is between processes. */
export interface MemoryStorage {
  teas: Map<string, TeaState>;
  digest: string[];
  owner: string | null;
  dead: string[];
}

export function emptyStorage(): MemoryStorage {
  return { teas: new Map(), digest: [], owner: null, dead: [] };
}

/** What an external FLUSHALL does to a MemoryStorage. */
export function wipe(storage: MemoryStorage): void {
  storage.teas.clear();
  storage.digest.length = 0;
  storage.owner = null;
  storage.dead.length = 0;
}

let memoryStores = 0;

export class MemoryTeaStore implements TeaStore {
  private readonly id = `memory-${++memoryStores}`;
  private readonly index: BucketIndex;

  constructor(
    readonly storage: MemoryStorage = emptyStorage(),
    recentMs = DEFAULT_RECENT_MS,
    private readonly now: () => number = Date.now,
  ) {
    this.index = new BucketIndex(recentMs);
  }

  get teas(): Map<string, TeaState> {
    return this.storage.teas;
  }

  async claim(mode: ClaimMode): Promise<string[] | null> {
    const owner = this.storage.owner;
    if (owner !== null && (mode === 'free' || (mode === 'mine' && owner !== this.id))) return null;
    this.storage.owner = this.id;
    this.index.clear();
    for (const [tea, state] of this.storage.teas) this.index.found(tea, state);
    return [...this.storage.digest];
  }

  async load(tea: string): Promise<TeaState> {
    return this.storage.teas.get(tea) ?? EMPTY;
  }

  async commit(group: CommitGroup): Promise<CommitResult> {
    const { storage } = this;
    if (storage.owner !== this.id) throw new FencedError(storage.owner);
    storage.digest.splice(0, group.trim);
    const plan = planCommit(group.steps, (tea) => storage.teas.get(tea) ?? EMPTY);
    storage.digest.push(...plan.appended);
    const now = this.now();
    for (const [tea, { before, after, repairOnly }] of plan.teas) {
      if (after === before) continue;
      storage.teas.set(tea, after);
      this.index.changed(tea, after, repairOnly ? null : now);
    }
    return { results: plan.results, appended: plan.appended };
  }

  async scanSlice(): Promise<boolean> {
    return false;
  }

  async setAside(entries: readonly string[]): Promise<void> {
    if (this.storage.owner !== this.id) return;
    this.storage.dead.push(...entries);
    this.storage.dead.splice(0, Math.max(0, this.storage.dead.length - DEAD_LETTER_LIMIT));
  }

  get indexReady(): boolean {
    return true;
  }

  bucketSums(): Words[] {
    return this.index.sums();
  }

  async bucketEntries(bucket: number, now: number): Promise<IndexedEntry[]> {
    return this.index.teasOf(bucket).map((tea) => ({ tea, state: this.storage.teas.get(tea) ?? EMPTY, ageMs: this.index.ageOf(tea, now) }));
  }

  async close(): Promise<void> {}
}
