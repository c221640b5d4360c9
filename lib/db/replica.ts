/**
 * One DB instance's logic, free of HTTP: writes, reads, deletes and gossip
 * (docs/protocol.md, "Gossip"). It drives the pure gossip state machine
 * (core/gossip.ts) with the store (Redis), the queue link and the timers.
 *
 *   write:  merge and store, with the tuple appended to the digest in the
 *           same step; send the digest if that filled it; then drain
 *   read:   drain, then read
 *   drain:  merge every chunk received so far and append its tuples,
 *           unchanged, to the digest (dropping those back at their
 *           primary); send the digest if that filled it
 *
 * A request is answered once its sends are on the queue (the queue answers
 * a send once the next DB holds it in memory: queue/hub.ts), so a client
 * sees gossip exactly step by step. Writes are committed in groups: while
 * one group is in Redis, the requests that arrive join the next, whose
 * commit also merges every chunk received by then. Groups run one at a
 * time, so the digest's order in Redis is the order of events here.
 */
import { Chunk, GossipState } from '../core/gossip';
import { LIMITS } from '../core/limits';
import { dbName } from '../core/ring';
import { TeaState, Version, deleteAll, holds, mergeState, mergeVersion } from '../core/versions';
import { LimitError, checkWrite, overLimit, weigh } from '../core/weight';
import { TupleState, parseTupleState, tupleText } from '../core/wire';
import { Logger } from '../log';
import { GossipLink } from '../queue/link';
import { CommitStep, FencedError, StepResult, TeaStore } from './store';

export interface ReplicaOptions {
  id: number;
  ndb: number;
  digestLength: number;
  /** Gossip that no request has moved for this long is moved by a timer. */
  flushAfterMs: number;
  store: TeaStore;
  /** The link to the queue; null when this DB takes no part in gossip (ndb 1, or an id not below ndb). */
  link: GossipLink | null;
  log: Logger;
  /** How long a request waits for the queue to take its sends; see REQUEST_QUEUE_WAIT_MS. */
  requestQueueWaitMs?: number;
  now?: () => number;
  /** false: no timers of its own; tests call tick(). */
  timers?: boolean;
  /** See FLUSHED_GRACE_MS. */
  flushedGraceMs?: number;
}

/**
 * How long a request waits for the queue to accept the digest it filled.
 * The queue answers in a millisecond or two, so normally a request waits for
 * all of it; a queue that hangs (a partition) must not hold every request
 * past the LB's 2 s timeout. The tuples stay in the digest and go when the
 * queue is back.
 */
const REQUEST_QUEUE_WAIT_MS = 500;

/** Resolves after the I/O callbacks already due have run (setImmediate): a batch then takes in what they bring. */
const yieldToIo = () => new Promise<void>((resolve) => setImmediate(resolve));

/** After its Redis was flushed from outside, a DB writes nothing for this long: see reclaimAfterFlush. */
const FLUSHED_GRACE_MS = 1000;

/** Where set-aside gossip is kept (in the DB's own Redis), and how much of each message. */
const DEAD_LETTERS = 'gossip:dead';
const DEAD_LETTER_CHARS = 4096;

/** Merge a state from gossip or anti-entropy, unless the result would be beyond what any replica accepts. */
function mergeWithin(tea: string, state: TeaState, incoming: TeaState): TeaState {
  const after = mergeState(state, incoming);
  const problem = after === state ? null : overLimit(weigh(after), LIMITS.replicaTea);
  if (problem !== null) throw new LimitError(`merging gossip into ${JSON.stringify(tea)} would leave it holding ${problem}`);
  return after;
}

/** The DB cannot serve writes: another process owns its Redis. */
export class ReplicaUnavailableError extends Error {}

type Status = 'starting' | 'serving' | 'flushed' | 'resync' | 'superseded' | 'stopped';

interface Op {
  step: CommitStep;
  /** Sent by a client: after an external FLUSHALL, only a client's request makes this DB write again. */
  client: boolean;
  /** Chunks received when it arrived: it is answered once they are merged. */
  mark: number;
  resolve: (result: StepResult) => void;
  reject: (e: unknown) => void;
}

/** A request owed an answer once every chunk received before it (up to `mark`) is merged. */
interface Owed {
  mark: number;
  resolve: () => void;
  /** A later group failed before its drain was done. */
  fail: (e: unknown) => void;
}

/** A gossip message this DB cannot apply, and why. */
interface SetAside {
  text: string;
  reason: string;
}

interface SentWaiter {
  through: number;
  resolve: () => void;
}

export class Replica {
  readonly name: string;
  /** False with ndb 1 or an id not below ndb: no neighbour, no gossip. */
  readonly gossips: boolean;
  private readonly ndb: number;

  private readonly state: GossipState;
  private readonly store: TeaStore;
  private readonly link: GossipLink | null;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly requestQueueWaitMs: number;
  private readonly useTimers: boolean;
  private status: Status = 'starting';

  /** Requests for the next group. */
  private ops: Op[] = [];
  /** Requests waiting for gossip received before them to be merged. */
  private owed: Owed[] = [];
  /** The timer found the inbox aged: merge what had arrived by then (up to this place), then send the whole digest. */
  private timerMark: number | null = null;
  private trimWanted = false;
  private loop: Promise<void> | null = null;
  private sentWaiters: SentWaiter[] = [];
  private reclaiming: Promise<void> | null = null;
  private flushedAt = -Infinity;
  private readonly flushedGraceMs: number;

  private timer: NodeJS.Timeout | null = null;
  private timerAt = Infinity;
  /** When the inbox last held gossip; null if never. */
  private lastGossipAt: number | null = null;
  /** Counts since start, for /health: how the work is being batched. */
  private readonly counts = { groups: 0, steps: 0, sends: 0, tuplesSent: 0, chunksApplied: 0, refusedWrites: 0, setAside: 0 };

  constructor(options: ReplicaOptions) {
    this.name = dbName(options.id);
    this.ndb = options.ndb;
    this.gossips = options.link !== null;
    this.state = new GossipState({ digestLength: options.digestLength, flushAfterMs: options.flushAfterMs, sendBudget: LIMITS.chunk });
    this.store = options.store;
    this.link = options.link;
    this.log = options.log;
    this.now = options.now ?? Date.now;
    this.requestQueueWaitMs = options.requestQueueWaitMs ?? REQUEST_QUEUE_WAIT_MS;
    this.useTimers = options.timers ?? true;
    this.flushedGraceMs = options.flushedGraceMs ?? FLUSHED_GRACE_MS;
  }

  /** Take the store over (a restart resumes the stored digest), and link to the queue. */
  async start(): Promise<void> {
    const digest = (await this.store.claim('force')) ?? [];
    this.state.restore(digest, this.now());
    this.status = 'serving';
    if (digest.length > 0) this.log.info(`resuming a stored digest of ${digest.length} tuples`);
    this.link?.open({
      chunk: (chunk) => {
        this.state.receive(chunk, this.now());
        this.lastGossipAt = this.now();
        this.schedule();
      },
      cleared: () => this.state.clearInbox(),
      up: () => this.pump(),
      down: (reason) => this.log.warnEvery('link', 5000, `queue link down: ${reason}`),
    });
    this.pump();
    this.kick();
    this.schedule();
  }

  /** Stop at once: no more writes to Redis or the queue (SIGTERM). */
  stop(): void {
    this.status = 'stopped';
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.link?.close();
    for (const w of this.sentWaiters) w.resolve();
    this.sentWaiters = [];
  }

  // ---- requests ----

  /** A client's write, from the LB or sent directly: this DB is its tuple's primary. */
  async write(tea: string, version: Version): Promise<TeaState> {
    const change = (s: TeaState) => {
      const after = mergeVersion(s, version);
      const problem = checkWrite(s, after, LIMITS.tea);
      if (problem === null) return after;
      this.counts.refusedWrites++;
      throw new LimitError(
        `refused: the write would leave ${JSON.stringify(tea)} holding ${problem}. Read the tea, then write with one clock that covers ` +
          'every clock it returns (their merge, plus your own counter): that one version replaces them all; or use fewer client ids.',
      );
    };
    const result = await this.submit({ tea, change, digest: (_b, after) => this.tupleText(tea, after) }, true);
    return result.after;
  }

  /** Delete every version held; null when this DB holds none (404), and then nothing is gossiped. */
  async delete(tea: string): Promise<TeaState | null> {
    const result = await this.submit({ tea, change: deleteAll, digest: (before, after) => (holds(before) ? this.tupleText(tea, after) : null) }, true);
    return holds(result.before) ? result.after : null;
  }

  async read(tea: string): Promise<TeaState> {
    await this.drain();
    return this.store.load(tea);
  }

  /** Anti-entropy: merge states a peer holds. Not gossiped. Returns how many teas changed. */
  async mergeStates(entries: readonly { tea: string; state: TeaState }[]): Promise<number> {
    const results = await Promise.all(
      entries.map(({ tea, state }) =>
        this.submit({ tea, change: (s) => mergeWithin(tea, s, state), repair: true }, false).catch((e: unknown) => {
          if (!(e instanceof LimitError)) throw e;
          this.setAside([{ text: tupleText(this.name, tea, state), reason: e.message }]);
          return null;
        }),
      ),
    );
    return results.filter((r) => r !== null && r.after !== r.before).length;
  }

  private tupleText(tea: string, state: TeaState): string | null {
    return this.gossips ? tupleText(this.name, tea, state) : null;
  }

  private async submit(step: CommitStep, client: boolean): Promise<{ before: TeaState; after: TeaState }> {
    await this.ready(client);
    const result = await new Promise<StepResult>((resolve, reject) => {
      this.ops.push({ step, client, mark: this.state.received, resolve, reject });
      this.kick();
    });
    if (result.error) throw result.error;
    return result;
  }

  /** Whether a request may go ahead; after an external FLUSHALL a client's write claims the Redis again. */
  private async ready(client: boolean): Promise<void> {
    if (this.status === 'flushed') {
      if (!client) throw new ReplicaUnavailableError(`${this.name}: its Redis was flushed from outside; waiting for a client`);
      await this.reclaimAfterFlush();
    } else if (this.status === 'resync') {
      await this.reclaim();
    }
    if (this.status === 'superseded' || this.status === 'stopped') throw new ReplicaUnavailableError(`${this.name} is ${this.status}`);
  }

  /** Everything received before now is merged (and its sends made) before this resolves. */
  private async drain(): Promise<void> {
    // Flushed from outside: what the inbox holds waits for a client's write to claim the Redis again.
    if (!this.gossips || this.status === 'flushed') return;
    await this.ready(true);
    const mark = this.state.received;
    if (this.state.mergedThrough() >= mark) return;
    await new Promise<void>((resolve, reject) => {
      this.owed.push({ mark, resolve, fail: reject });
      this.kick();
    });
  }

  // ---- groups ----

  private kick(): void {
    if (this.loop !== null || this.status !== 'serving') return;
    this.loop = this.runGroups().finally(() => {
      this.loop = null;
      if (this.hasGroupWork()) this.kick();
    });
  }

  private hasGroupWork(): boolean {
    return this.ops.length > 0 || (this.owed.length > 0 && this.state.inboxSize > 0) || this.timerMark !== null || this.trimWanted;
  }

  private async runGroups(): Promise<void> {
    while (this.status === 'serving') {
      if (this.hasGroupWork()) {
        await this.runGroup();
        // Let the requests and chunks that arrived with the commit's answer join the next group.
        await yieldToIo();
      } else if (!this.store.indexReady) {
        try {
          await this.store.scanSlice();
        } catch (e) {
          this.log.warnEvery('scan', 5000, `cannot index the stored teas yet: ${(e as Error).message}`);
          return;
        }
      } else {
        return;
      }
    }
  }

  private async runGroup(): Promise<void> {
    const ops = this.ops;
    const timerMark = this.timerMark;
    this.ops = [];
    this.trimWanted = false;
    // One commit merges at most a chunk's worth of gossip: what is left waits for the next, and requests wait for what they are owed.
    const chunks = this.gossips ? this.state.takeInbox(LIMITS.chunk) : [];
    const trim = this.state.takeTrim();
    try {
      const gossip = this.stepsOf(chunks);
      const steps = [...ops.map((o) => o.step), ...gossip.steps];
      const result = await this.store.commit({ trim, steps });
      this.counts.groups++;
      this.counts.steps += steps.length;
      this.counts.chunksApplied += chunks.length;
      const now = this.now();
      let through = this.state.append(result.appended, now);
      const refused = gossip.steps.flatMap((step, k) => {
        const error = result.results[ops.length + k].error;
        return error instanceof LimitError ? [{ text: step.digest as string, reason: error.message }] : [];
      });
      this.setAside([...gossip.setAside, ...refused]);
      if (chunks.length > 0) {
        this.state.applied(chunks);
        this.link?.done(chunks.map((c) => c.id));
        this.lastGossipAt = now;
      }
      if (timerMark !== null && this.state.mergedThrough() >= timerMark) {
        through = this.state.flushAll();
        if (this.timerMark === timerMark) this.timerMark = null;
      }
      ops.forEach((op, k) => this.owed.push({ mark: op.mark, resolve: () => op.resolve(result.results[k]), fail: () => op.resolve(result.results[k]) }));
      const merged = this.state.mergedThrough();
      const ready = this.owed.filter((o) => o.mark <= merged);
      this.owed = this.owed.filter((o) => o.mark > merged);
      this.pump();
      void this.waitSent(through).then(() => {
        for (const o of ready) o.resolve();
      });
    } catch (e) {
      const now = this.now();
      this.state.returnTrim(trim, now);
      this.state.unapplied(chunks, now);
      const owed = this.owed;
      this.owed = [];
      this.timerMark = null;
      this.failed(e, ops, owed);
    } finally {
      this.schedule();
    }
  }

  /** A commit failed: say why, and decide what the requests in it get. */
  private failed(e: unknown, ops: Op[], waiters: Owed[]): void {
    if (e instanceof FencedError && e.owner === null && this.status === 'serving') {
      this.status = 'flushed';
      this.flushedAt = this.now();
      this.state.reset();
      this.log.warn(`${this.name}: ${e.message}; it writes nothing until a client's write comes (after ${this.flushedGraceMs} ms)`);
      // Reads answer from Redis as it is; a client's write claims the Redis again; background work stops here.
      for (const w of waiters) w.resolve();
      for (const op of ops) {
        if (op.client) void this.reclaimAfterFlush().then(() => this.requeue(op), op.reject);
        else op.reject(e);
      }
      return;
    }
    if (e instanceof FencedError) {
      if (this.status === 'serving') this.retire(e.message);
    } else if (this.status === 'serving') {
      // Whether the commit happened is unknown (Redis unreachable): read the digest back before writing again.
      this.status = 'resync';
      this.log.warnEvery('commit', 5000, `${this.name}: cannot write to Redis: ${(e as Error).message}`);
    }
    for (const op of ops) op.reject(e);
    for (const w of waiters) w.fail(e);
  }

  private requeue(op: Op): void {
    if (this.status !== 'serving') return op.reject(new ReplicaUnavailableError(`${this.name} is ${this.status}`));
    this.ops.push(op);
    this.kick();
  }

  /**
   * After an external FLUSHALL, a client's write claims the Redis again, but
   * not before flushedGraceMs: a harness that flushes every Redis and then
   * stops the DBs must not find a write that was in flight (from the run it
   * is clearing) written into the next run's Redis.
   */
  private async reclaimAfterFlush(): Promise<void> {
    const wait = this.flushedAt + this.flushedGraceMs - this.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    if (this.status === 'flushed') await this.reclaim();
  }

  /** Another process has this DB's Redis: write nothing more, anywhere. */
  private retire(why: string): void {
    this.log.error(`${this.name}: ${why}; this process writes nothing more`);
    this.stop();
    this.status = 'superseded';
  }

  /** Claim the Redis again: after a wipe (only if nobody else has), or to read the digest back after a failure. */
  private reclaim(): Promise<void> {
    this.reclaiming ??= (async () => {
      const mode = this.status === 'flushed' ? 'free' : 'mine';
      const digest = await this.store.claim(mode);
      if (digest === null) return this.retire('another process owns this Redis now');
      this.state.restore(digest, this.now());
      this.status = 'serving';
      this.log.info(`${this.name}: owns its Redis again (digest of ${digest.length} tuples)`);
      this.pump();
    })().finally(() => {
      this.reclaiming = null;
    });
    return this.reclaiming;
  }

  /**
   * Chunks of gossip as commit steps: merge each tuple and pass its text on
   * unchanged; drop what came back to its primary; set aside what cannot be
   * applied (not a valid tuple, or beyond the limits).
   */
  private stepsOf(chunks: readonly Chunk[]): { steps: CommitStep[]; setAside: SetAside[] } {
    const steps: CommitStep[] = [];
    const setAside: SetAside[] = [];
    for (const chunk of chunks) {
      for (const text of chunk.messages) {
        const parsed = this.parseMessage(text);
        if (typeof parsed === 'string') {
          setAside.push({ text, reason: parsed });
          continue;
        }
        if (parsed.primary === this.name) continue;
        const incoming = parsed.state;
        steps.push({ tea: parsed.key, change: (s) => mergeWithin(parsed.key, s, incoming), digest: text });
      }
    }
    return { steps, setAside };
  }

  /** A gossip message as what it carries, or why it is not one. */
  private parseMessage(text: string): TupleState | string {
    if (text.length > LIMITS.tupleChars) return `a gossip message of ${text.length} characters; at most ${LIMITS.tupleChars}`;
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch (e) {
      return `a gossip message that is not JSON: ${(e as Error).message}`;
    }
    const parsed = parseTupleState(message, this.ndb);
    return parsed.ok ? parsed.value : `a malformed gossip message: ${parsed.error}`;
  }

  /** Gossip this DB cannot apply: kept in the store's dead-letter list, said in one log line per few seconds, and the rest flows on. */
  private setAside(messages: readonly SetAside[]): void {
    if (messages.length === 0) return;
    this.counts.setAside += messages.length;
    this.log.warnEvery('set-aside', 5000, `${this.name}: set aside gossip it cannot apply (kept in ${DEAD_LETTERS}): ${messages[0].reason}`);
    this.store.setAside(messages.map((m) => JSON.stringify({ at: new Date(this.now()).toISOString(), reason: m.reason, message: m.text.slice(0, DEAD_LETTER_CHARS) }))).catch(
      (e: Error) => this.log.warnEvery('set-aside-store', 5000, `${this.name}: cannot keep set-aside gossip: ${e.message}`),
    );
  }

  // ---- sends ----

  /** Start the next send, if one is due and the link is up. */
  private pump(): void {
    if (this.link === null || !this.link.connected || this.status !== 'serving') return;
    const send = this.state.nextSend(this.now());
    if (send === null) return;
    this.counts.sends++;
    this.counts.tuplesSent += send.tuples.length;
    this.link.put(send.tuples).then(
      () => {
        this.state.sendSucceeded(send.seq, this.now());
        this.releaseSentWaiters();
        // Tuples made due by what arrived with the answer go in the same next send.
        setImmediate(() => this.pump());
        this.schedule();
      },
      (e: Error) => {
        this.state.sendFailed(send.seq, this.now());
        this.log.warnEvery('send', 5000, `cannot put gossip on ${this.name}, keeping ${send.tuples.length} tuples: ${e.message}`);
        this.releaseSentWaiters(true);
        this.schedule();
      },
    );
  }

  /** Resolves once everything up to `through` is on the queue, or at once when the link is down, or after requestQueueWaitMs. */
  private waitSent(through: number): Promise<void> {
    if (this.state.sentThrough() >= through || this.link === null || !this.link.connected) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const waiter: SentWaiter = { through, resolve: () => undefined };
      const timer = setTimeout(() => waiter.resolve(), this.requestQueueWaitMs);
      waiter.resolve = () => {
        clearTimeout(timer);
        this.sentWaiters = this.sentWaiters.filter((w) => w !== waiter);
        resolve();
      };
      this.sentWaiters.push(waiter);
    });
  }

  /** Wake the requests whose sends are done (all of them when a send failed: they will not wait for the retry). */
  private releaseSentWaiters(all = false): void {
    const sent = this.state.sentThrough();
    for (const w of [...this.sentWaiters]) if (all || w.through <= sent) w.resolve();
  }

  // ---- timers ----

  /** The background: what has waited flushAfterMs with no request to move it. Tests call it with a clock of their own. */
  tick(): void {
    if (this.status === 'resync') {
      void this.reclaim().then(() => this.kick(), () => undefined);
    }
    if (this.status !== 'serving') return;
    const due = this.state.tick(this.now());
    if (due.applyInbox) this.timerMark = Math.max(this.timerMark ?? 0, this.state.received);
    if (due.trim) this.trimWanted = true;
    if (due.applyInbox || due.trim) this.kick();
    this.pump();
    this.schedule();
  }

  private schedule(): void {
    if (!this.useTimers || this.status === 'stopped' || this.status === 'superseded') return;
    const deadline = this.status === 'resync' ? this.now() + 500 : this.state.nextDeadline();
    if (deadline === null) return;
    if (this.timer !== null && this.timerAt <= deadline) return;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timerAt = deadline;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.timerAt = Infinity;
      this.tick();
    }, Math.max(0, deadline - this.now()));
    this.timer.unref();
  }

  // ---- observation ----

  /** Milliseconds since gossip last arrived or was merged here (Infinity if never): anti-entropy waits for quiet. */
  gossipQuietForMs(): number {
    return this.lastGossipAt === null ? Infinity : this.now() - this.lastGossipAt;
  }

  get health(): { name: string; pid: number; status: Status; pending: number; inbox: number; counts: Replica['counts'] } {
    return { name: this.name, pid: process.pid, status: this.status, pending: this.state.pending, inbox: this.state.inboxSize, counts: { ...this.counts } };
  }

  /** Tuples waiting in the digest. */
  get pending(): number {
    return this.state.pending;
  }
}
