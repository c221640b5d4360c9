/**
 * What the hub's unit tests (test/unit/hub*.test.ts) share: a recording
 * journal, a fake subscriber, small timing helpers, and useHub, which gives
 * each test a fresh Hub (lib/queue/hub.ts) over a RecordingJournal.
 */
import { Hub, Subscriber } from '../../../lib/queue/hub';
import { Journal, JournaledChunk } from '../../../lib/queue/journal';
import { settle } from '../helpers';

/** A message as the hub carries it (a JSON object), and several. */
export const m = (n: number) => JSON.stringify({ n });
export const ms = (...ns: number[]) => ns.map(m);

export type JournalMethod = 'load' | 'add' | 'addMany' | 'remove' | 'replace' | 'clear';

/** An in-memory Journal that records every call, and can be made to fail or to hold a method's calls. */
export class RecordingJournal implements Journal {
  readonly kept = new Map<string, JournaledChunk[]>();
  readonly calls: { method: JournalMethod; channel?: string; ids: number[] }[] = [];
  /** Methods that reject. */
  readonly failing = new Set<JournalMethod>();
  /** Methods whose calls wait for this promise before taking effect. */
  readonly held = new Map<JournalMethod, Promise<void>>();

  private async enter(method: JournalMethod, channel?: string, chunks: readonly JournaledChunk[] = []): Promise<void> {
    this.calls.push({ method, channel, ids: chunks.map((c) => c.id) });
    await this.held.get(method);
    if (this.failing.has(method)) throw new Error(`journal ${method} failed (test)`);
  }

  private list(channel: string): JournaledChunk[] {
    let l = this.kept.get(channel);
    if (l === undefined) this.kept.set(channel, (l = []));
    return l;
  }

  /** The chunks kept for a channel as [id, messages] pairs, oldest first. */
  contents(channel: string): [number, string[]][] {
    return (this.kept.get(channel) ?? []).map((c) => [c.id, [...c.messages]]);
  }

  callsOf(method: JournalMethod) {
    return this.calls.filter((c) => c.method === method);
  }

  async load(): Promise<Map<string, JournaledChunk[]>> {
    await this.enter('load');
    return new Map([...this.kept].map(([k, v]) => [k, v.map((c) => ({ id: c.id, messages: [...c.messages] }))]));
  }
  async add(channel: string, chunk: JournaledChunk): Promise<void> {
    await this.enter('add', channel, [chunk]);
    this.insert(channel, [chunk]);
  }
  async addMany(channel: string, chunks: readonly JournaledChunk[]): Promise<void> {
    await this.enter('addMany', channel, chunks);
    this.insert(channel, chunks);
  }
  /** Kept in id order, as RedisJournal's sorted set is (sorting only when needed: the backlog tests add thousands). */
  private insert(channel: string, chunks: readonly JournaledChunk[]): void {
    const l = this.list(channel);
    for (const c of chunks) {
      if (l.length > 0 && l[l.length - 1].id > c.id) this.sorted = false;
      l.push({ id: c.id, messages: [...c.messages] });
    }
    if (!this.sorted) l.sort((a, b) => a.id - b.id);
    this.sorted = true;
  }
  private sorted = true;
  async remove(channel: string, chunks: readonly JournaledChunk[]): Promise<void> {
    await this.enter('remove', channel, chunks);
    const gone = new Set(chunks.map((c) => c.id));
    this.kept.set(channel, this.list(channel).filter((c) => !gone.has(c.id)));
  }
  async replace(channel: string, before: JournaledChunk, after: JournaledChunk): Promise<void> {
    await this.enter('replace', channel, [before, after]);
    const l = this.list(channel);
    const k = l.findIndex((c) => c.id === before.id && c.messages.join('\n') === before.messages.join('\n'));
    if (k === -1) throw new Error(`replace: chunk ${before.id} is not kept as it was`);
    l[k] = { id: after.id, messages: [...after.messages] };
  }
  async clear(): Promise<void> {
    await this.enter('clear');
    this.kept.clear();
  }
}

/** What a FakeSubscriber does the moment a chunk arrives. */
export type OnDeliver = 'nothing' | 'got' | 'done';

export interface Delivered {
  id: string;
  messages: string[];
}

/** A subscriber that records what the hub tells it; optionally says got (or done) the moment a chunk arrives, as LocalLink does. */
export class FakeSubscriber implements Subscriber {
  readonly delivered: Delivered[] = [];
  clearedCount = 0;
  closed: string[] = [];

  constructor(
    private readonly hub: () => Hub,
    private readonly onDeliver: OnDeliver = 'nothing',
  ) {}

  deliver(chunk: { id: string; messages: readonly string[] }): void {
    this.delivered.push({ id: chunk.id, messages: [...chunk.messages] });
    if (this.onDeliver === 'got') this.hub().got(this, [chunk.id]);
    if (this.onDeliver === 'done') this.hub().done(this, [chunk.id]);
  }
  cleared(): void {
    this.clearedCount++;
  }
  close(reason: string): void {
    this.closed.push(reason);
  }

  ids(): string[] {
    return this.delivered.map((d) => d.id);
  }
  messages(): string[] {
    return this.delivered.flatMap((d) => d.messages);
  }
}

/** Whether a promise has settled yet (after letting pending work run). */
export async function isSettled(p: Promise<unknown>): Promise<boolean> {
  let settled = false;
  void p.then(
    () => (settled = true),
    () => (settled = true),
  );
  await settle();
  return settled;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A promise's value and how long it took to settle. */
export async function timed<T>(p: Promise<T>): Promise<{ value: T; ms: number }> {
  const start = performance.now();
  const value = await p;
  return { value, ms: performance.now() - start };
}

/** The hub under test, its journal, what it logged and its clock: fresh for each test. */
export interface HubFixture {
  journal: RecordingJournal;
  hub: Hub;
  logged: string[];
  /** What the hub's clock reads: a test moves it by assigning. */
  clock: number;
  /** A new FakeSubscriber of this fixture's hub. */
  subscriber(onDeliver?: OnDeliver): FakeSubscriber;
}

/**
 * Hooks for the describe block that calls it: a new hub before each test
 * and, after it, every put still waiting answered (by a clear), so that no
 * test's timers fire into the next one.
 */
export function useHub(): HubFixture {
  const fx = { subscriber: (onDeliver?: OnDeliver) => new FakeSubscriber(() => fx.hub, onDeliver) } as HubFixture;

  beforeEach(() => {
    fx.journal = new RecordingJournal();
    fx.logged = [];
    fx.clock = 1_000_000;
    fx.hub = new Hub(fx.journal, (message) => fx.logged.push(message), () => fx.clock);
  });

  afterEach(async () => {
    fx.journal.failing.clear();
    fx.journal.held.clear();
    await fx.hub.clear();
  });

  return fx;
}
