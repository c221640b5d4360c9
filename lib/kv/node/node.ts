/**
 * The key-value node: the driver that wires the pure core (membership,
 * failure detector, version store, progress, placement) and the replicator
 * (replicator.ts) to a transport and timers. It owns every side effect (calls to peers, timers,
 * logs); the decisions live in lib/kv/core. It is door-agnostic: a door
 * turns HTTP into execute()/view calls and the results back into HTTP.
 */
import { Clock, join, makeClock } from '../../core/clock';
import { BUCKETS, differingBuckets } from '../../core/antiEntropy';
import { Logger } from '../../log';
import { clockJson, covers, missingOrigins } from '../core/context';
import { DetectorEvent, FailureDetector } from '../core/detector';
import { isAddress } from '../core/address';
import { KV_LIMITS } from '../core/limits';
import { Membership, MembershipChange, parseMembership } from '../core/membership';
import { Op, OpResult, opJson, parseOp, parseResult, resultJson } from '../core/ops';
import { ReplicatedWrite } from '../core/outbox';
import { Placement, fullReplication } from '../core/placement';
import { Progress } from '../core/progress';
import { VersionStore } from '../core/store';
import { KvVersion, liveWinner, versionBytes, winner } from '../core/versions';
import { ProbeMessage, entryJson, parseEntry, parseProbe, parseSums, parseWrite } from '../core/wire';
import { Replicator } from './replicator';
import { DEFAULT_TIMING, Timing } from './timing';
import { PeerHandler, PeerMethod, PeerRequestError, Timers, Transport, realTimers } from './transport';

export interface NodeOptions {
  self: string;
  /** The start-up VIEW, the node itself included. */
  view: readonly string[];
  /** Seed 003: a start adds this node to the view. Seed 000: a start only says it is back. */
  announceAdds: boolean;
  transport: Transport;
  log: Logger;
  timing?: Partial<Timing>;
  timers?: Timers;
  placement?: Placement;
  random?: () => number;
}

export type ViewChangeResult = 'done' | 'unchanged';

/** Replies of a pull are cut at about this many bytes; the puller asks again for the rest. */
const PULL_REPLY_BYTES = 8 * 1024 * 1024;
/** How long a read first waits for replication already in flight before pulling from a peer. */
const IN_FLIGHT_WAIT_MS = 60;

export class KvNode implements PeerHandler {
  readonly self: string;
  readonly incarnation: number;
  readonly timing: Timing;
  private readonly membership: Membership;
  private readonly detector: FailureDetector;
  private readonly store = new VersionStore();
  private readonly progress: Progress;
  private readonly replicator: Replicator;
  private readonly lastDiff = new Map<string, Set<number>>();
  private readonly pulls = new Map<string, Promise<boolean>>();
  private readonly timers: Timers;
  private readonly placement: Placement;
  private readonly random: () => number;
  private readonly log: Logger;
  private readonly transport: Transport;
  private ready = false;
  private readonly readyWaiters: (() => void)[] = [];
  private stopped = false;
  private probeTimer: unknown = null;
  private aeTimer: unknown = null;
  private lastViewText = '';
  /** Counters for the status page: how often requests had to wait or pull to satisfy a context. */
  private readonly counters = { requests: 0, waitedForReplication: 0, pulled: 0, notCaughtUp: 0, forwarded: 0 };

  constructor(private readonly options: NodeOptions) {
    this.self = options.self;
    this.timers = options.timers ?? realTimers;
    this.timing = { ...DEFAULT_TIMING, ...options.timing };
    this.placement = options.placement ?? fullReplication;
    this.random = options.random ?? Math.random;
    this.log = options.log;
    this.transport = options.transport;
    this.incarnation = this.timers.now();
    this.progress = new Progress(this.self, this.incarnation);
    const view = options.view.includes(this.self) ? options.view : [...options.view, this.self];
    if (view !== options.view) this.log.warn(`VIEW does not list this node (${this.self}); it is added at the end`);
    this.membership = new Membership(view);
    this.detector = new FailureDetector(this.timing.downAfterMs);
    this.replicator = new Replicator({ self: this.self, transport: this.transport, timers: this.timers, log: this.log, timing: this.timing });
    for (const peer of this.peers()) this.detector.watch(peer, this.timers.now());
  }

  // ---- life cycle ----

  /** Announce, catch up from a peer, then serve keys; probing and anti-entropy start at once. */
  start(): Promise<void> {
    this.lastViewText = this.view().join(',');
    this.log.info(`starting as ${this.self}; view ${this.lastViewText}`);
    this.scheduleProbes(0);
    this.scheduleAntiEntropy();
    return this.catchUpAtStart().finally(() => this.markReady());
  }

  stop(): void {
    this.stopped = true;
    this.timers.clearTimeout(this.probeTimer);
    this.timers.clearTimeout(this.aeTimer);
    this.replicator.stop();
    this.markReady();
  }

  isReady(): boolean {
    return this.ready;
  }

  private markReady(): void {
    if (this.ready) return;
    this.ready = true;
    for (const w of this.readyWaiters.splice(0)) w();
  }

  private async whenReady(maxMs: number): Promise<void> {
    if (this.ready) return;
    await new Promise<void>((resolve) => {
      const t = this.timers.setTimeout(resolve, maxMs);
      this.readyWaiters.push(() => {
        this.timers.clearTimeout(t);
        resolve();
      });
    });
  }

  private async catchUpAtStart(): Promise<void> {
    const others = this.options.view.filter((a) => a !== this.self);
    if (others.length === 0) return;
    const deadline = this.timers.now() + this.timing.startupWaitMs;
    const replies = await Promise.all(
      others.map(async (peer) => {
        try {
          const body = { ...this.probeMessage(), add: this.options.announceAdds };
          this.absorbProbe(await this.transport.call(peer, 'join', body, this.timing.requestWaitMs));
          return peer;
        } catch {
          return null;
        }
      }),
    );
    const serving = replies.filter((p): p is string => p !== null && this.detector.isServing(p));
    for (const peer of serving) {
      try {
        const keys = await this.syncWith(peer, { pull: 'all', push: false, deadline });
        this.log.info(`caught up from ${peer} (${keys} keys merged, ${this.store.size} held)`);
        return;
      } catch (e) {
        this.log.warn(`catching up from ${peer} failed: ${(e as Error).message}`);
      }
    }
    if (serving.length === 0) this.log.info(`no serving peer answered at start (${replies.filter((r) => r).length} of ${others.length} reachable): serving what arrives`);
  }

  // ---- the view ----

  private peers(): string[] {
    return this.membership.members().filter((a) => a !== this.self);
  }

  /**
   * Live members in view order: members that answer probes, and this node if
   * it is a member. A node still catching up is listed (it holds key requests
   * until it has caught up), so a cluster started all at once shows its whole
   * view from the first moment.
   */
  view(): string[] {
    return this.membership.members().filter((a) => a === this.self || this.detector.isAlive(a));
  }

  isMember(): boolean {
    return this.membership.isMember(this.self);
  }

  /** Add `address` to the view everywhere (PUT on a view route). */
  addToView(address: string): ViewChangeResult {
    if (this.view().includes(address)) return 'unchanged';
    this.applyMembershipChanges(this.membership.add(address, this.self));
    this.broadcastMembership([address]);
    return 'done';
  }

  /** Remove `address` from the view everywhere (DELETE on a view route). */
  removeFromView(address: string): ViewChangeResult {
    if (!this.view().includes(address)) return 'unchanged';
    this.applyMembershipChanges(this.membership.remove(address, this.self));
    this.broadcastMembership([address]);
    return 'done';
  }

  private broadcastMembership(also: string[]): void {
    const body = { from: this.self, membership: this.membership.toJson() };
    for (const peer of new Set([...this.peers(), ...also])) {
      if (peer === this.self) continue;
      this.transport.call(peer, 'membership', body, this.timing.requestWaitMs).catch(() => undefined);
    }
  }

  private applyMembershipChanges(changes: MembershipChange[], selfEpochBefore = this.membership.epochOf(this.self)): void {
    for (const { address, member } of changes) {
      if (address === this.self) continue;
      if (member) {
        this.detector.watch(address, this.timers.now());
      } else {
        this.detector.forget(address);
        this.replicator.drop(address);
      }
    }
    const selfEpoch = this.membership.epochOf(this.self);
    if (selfEpoch !== selfEpochBefore) {
      if (this.isMember()) {
        this.log.info('added to the view: pulling every key from a member');
        void this.transferState();
      } else {
        this.log.info('removed from the view: key requests are forwarded to members from now on');
      }
    }
    this.logViewIfChanged();
  }

  private logViewIfChanged(): void {
    const text = this.view().join(',');
    if (text === this.lastViewText) return;
    this.lastViewText = text;
    this.log.info(`view is now ${text || '(empty)'}`);
  }

  /** State transfer for a node just added: a full pull from the first serving member that answers. */
  private async transferState(): Promise<void> {
    const deadline = this.timers.now() + this.timing.startupWaitMs;
    for (const peer of this.peers().filter((p) => this.detector.isAlive(p))) {
      try {
        const merged = await this.syncWith(peer, { pull: 'all', push: true, deadline });
        this.log.info(`state transfer from ${peer}: ${merged} keys merged, ${this.store.size} held`);
        return;
      } catch (e) {
        this.log.warn(`state transfer from ${peer} failed: ${(e as Error).message}`);
      }
    }
  }

  // ---- probing ----

  private probeMessage(): ProbeMessage {
    return {
      from: this.self,
      incarnation: this.incarnation,
      ready: this.ready,
      applied: clockJson(this.progress.clock()),
      membership: this.membership.toJson(),
    };
  }

  private scheduleProbes(delayMs: number): void {
    if (this.stopped) return;
    this.probeTimer = this.timers.setTimeout(() => {
      this.probeRound();
      this.scheduleProbes(this.timing.probeIntervalMs);
    }, delayMs);
  }

  /** Probe every peer (members, and members this node knows of when it was removed itself). */
  probeRound(): void {
    const now = this.timers.now();
    this.handleDetectorEvents(this.detector.tick(now));
    const message = this.probeMessage();
    for (const peer of this.peers()) {
      this.transport.call(peer, 'probe', message, this.timing.probeTimeoutMs).then(
        (reply) => this.absorbProbe(reply),
        () => this.handleDetectorEvents(this.detector.failed(peer, this.timers.now())),
      );
    }
  }

  /** A peer's probe message (a probe, a probe's answer, a join): what it tells about it and the membership. */
  private absorbProbe(raw: unknown): string {
    const parsed = parseProbe(raw);
    if (!parsed.ok) throw new PeerRequestError(parsed.error);
    const p = parsed.value;
    const selfEpoch = this.membership.epochOf(this.self);
    this.applyMembershipChanges(this.membership.merge(p.membership), selfEpoch);
    this.handleDetectorEvents(this.detector.succeeded(p.from, this.timers.now(), { ready: p.ready, incarnation: p.incarnation, applied: p.applied }));
    this.logViewIfChanged();
    return p.from;
  }

  private handleDetectorEvents(events: DetectorEvent[]): void {
    for (const e of events) {
      if (e.kind === 'down') this.log.warn(`peer ${e.peer} is down (no answer for ${this.timing.downAfterMs} ms)`);
      if (e.kind === 'back') this.log.info(`peer ${e.peer} is back`);
      if (e.kind === 'restarted') this.log.info(`peer ${e.peer} restarted`);
      if (e.kind === 'ready') this.log.info(`peer ${e.peer} has caught up`);
      if (e.kind === 'back' || e.kind === 'restarted') {
        this.replicator.peerBack(e.peer);
      }
    }
    if (events.length > 0) this.logViewIfChanged();
  }

  // ---- client operations ----

  /** Run a client's operation here, or at a node that holds the key. */
  async execute(op: Op, forwarded = false): Promise<OpResult> {
    await this.whenReady(this.timing.startupWaitMs);
    const replicas = this.placement.replicasOf(op.key, this.membership.members());
    this.counters.requests++;
    if (!replicas.includes(this.self) && !forwarded) {
      this.counters.forwarded++;
      return this.forward(op, replicas);
    }
    const deadline = this.timers.now() + this.timing.requestWaitMs;
    const caughtUp = await this.catchUp(op.context, deadline);
    const set = this.store.get(op.key);
    const live = liveWinner(set);
    switch (op.kind) {
      case 'get':
      case 'exists': {
        const read = winner(set);
        const context = read ? join(op.context, read.clock) : op.context;
        return { found: live !== undefined, replaced: false, value: op.kind === 'get' ? live?.value : undefined, context, caughtUp };
      }
      case 'delete': {
        if (!live) return { found: false, replaced: false, context: join(op.context, winner(set)?.clock ?? makeClock()), caughtUp };
        const version = await this.write(op.key, true, undefined, op.context);
        return { found: true, replaced: true, context: version.clock, caughtUp };
      }
      case 'put': {
        const version = await this.write(op.key, false, op.value, op.context);
        return { found: true, replaced: live !== undefined, context: version.clock, caughtUp };
      }
    }
  }

  private async forward(op: Op, replicas: string[]): Promise<OpResult> {
    const candidates = replicas.filter((r) => this.detector.isServing(r)).concat(replicas.filter((r) => !this.detector.isServing(r)));
    for (const peer of candidates) {
      try {
        const reply = await this.transport.call(peer, 'execute', opJson(op), this.timing.peerTimeoutMs);
        const parsed = parseResult(reply);
        if (parsed.ok) return parsed.value;
      } catch {
        // the next replica
      }
    }
    throw new Error(`no node holding ${JSON.stringify(op.key)} answered`);
  }

  /** Accept a write here: number it, apply it, send it to the key's other replicas, wait for one to hold it. */
  private async write(key: string, deleted: boolean, value: unknown, context: Clock): Promise<KvVersion> {
    const ownBefore = this.progress.appliedOf(this.self);
    const seq = this.progress.nextSeq();
    const version: KvVersion = { deleted, value, clock: join(context, makeClock([[this.self, seq]])), timestamp: this.timers.now(), origin: this.self };
    this.store.merge(key, [version]);
    await this.replicate(key, version, seq, ownBefore);
    return version;
  }

  /** Queue the write for the key's other replicas; resolves once one holds it (see Replicator.send). */
  private replicate(key: string, version: KvVersion, seq: number, ownBefore: number): Promise<void> {
    const targets = this.placement.replicasOf(key, this.membership.members()).filter((p) => p !== this.self);
    return this.replicator.send({ seq, key, version, ownBefore }, targets, targets.filter((p) => this.detector.isAlive(p)));
  }

  // ---- causality: catching up with a context ----

  /** The origins whose writes this node must hold: its replica group. */
  private relevant(): (origin: string) => boolean {
    const members = this.membership.members();
    const group = this.placement.groupOf(this.self, members);
    if (group.length === members.length) return () => true;
    const set = new Set(group);
    return (origin) => set.has(origin);
  }

  private covered(context: Clock): boolean {
    return this.progress.covers(context, this.relevant());
  }

  /**
   * Make this node hold everything `context` names, by `deadline`: wait a
   * moment for replication already on its way, then pull from peers that
   * have it. Returns whether it got there.
   */
  private async catchUp(context: Clock, deadline: number): Promise<boolean> {
    if (this.covered(context)) return true;
    this.counters.waitedForReplication++;
    if (await this.waitCovered(context, Math.min(deadline, this.timers.now() + IN_FLIGHT_WAIT_MS))) return true;
    this.counters.pulled++;
    const tried = new Set<string>();
    while (this.timers.now() < deadline && !this.stopped) {
      const source = this.pullSource(context, tried);
      if (source === null) break;
      tried.add(source);
      await this.pullOnce(source, deadline).catch(() => false);
      if (this.covered(context)) return true;
    }
    const caughtUp = await this.waitCovered(context, deadline);
    if (!caughtUp) this.counters.notCaughtUp++;
    return caughtUp;
  }

  /** The peer to pull from next: one known to have the context, else an origin it names, else any live peer. */
  private pullSource(context: Clock, tried: Set<string>): string | null {
    const candidates = this.peers().filter((p) => !tried.has(p) && this.detector.isAlive(p));
    const known = candidates.find((p) => {
      const applied = this.detector.info(p)?.applied;
      return applied !== null && applied !== undefined && covers(applied, context, this.relevant());
    });
    if (known) return known;
    const missing = missingOrigins(this.progress.clock(), context);
    return candidates.find((p) => missing.includes(p)) ?? candidates[0] ?? null;
  }

  /** One full pull from `peer`, shared by every request that needs one meanwhile. */
  private pullOnce(peer: string, deadline: number): Promise<boolean> {
    let running = this.pulls.get(peer);
    if (!running) {
      running = this.syncWith(peer, { pull: 'all', push: false, deadline })
        .then(() => true)
        .finally(() => this.pulls.delete(peer));
      this.pulls.set(peer, running);
    }
    return running;
  }

  private waitCovered(context: Clock, until: number): Promise<boolean> {
    if (this.covered(context)) return Promise.resolve(true);
    const ms = until - this.timers.now();
    if (ms <= 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      const done = (result: boolean) => {
        unsubscribe();
        this.timers.clearTimeout(timer);
        resolve(result);
      };
      const unsubscribe = this.progress.onAdvance(() => {
        if (this.covered(context)) done(true);
      });
      const timer = this.timers.setTimeout(() => done(this.covered(context)), ms);
    });
  }

  // ---- anti-entropy ----

  private scheduleAntiEntropy(): void {
    if (this.stopped || this.timing.antiEntropyIntervalMs <= 0) return;
    const jitter = 0.75 + this.random() * 0.5;
    this.aeTimer = this.timers.setTimeout(() => {
      void this.antiEntropyRound().finally(() => this.scheduleAntiEntropy());
    }, this.timing.antiEntropyIntervalMs * jitter);
  }

  /** Compare with one random live peer of the replica group and repair both sides (members) or hand over (a removed node). */
  async antiEntropyRound(): Promise<number> {
    if (!this.ready) return 0;
    const group = new Set(this.placement.groupOf(this.self, this.membership.members()));
    const candidates = this.peers().filter((p) => group.has(p) && this.detector.isAlive(p));
    if (candidates.length === 0) return 0;
    const peer = candidates[Math.floor(this.random() * candidates.length)];
    try {
      // A node removed from the view only hands over what it holds: it is sent no more writes.
      const pull = this.isMember() ? 'settled' : 'none';
      const merged = await this.syncWith(peer, { pull, push: true, deadline: this.timers.now() + this.timing.peerTimeoutMs });
      if (merged > 0) this.log.info(`anti-entropy with ${peer}: merged ${merged} keys`);
      return merged;
    } catch (e) {
      this.log.warnEvery(`ae-${peer}`, 10_000, `anti-entropy with ${peer} failed: ${(e as Error).message}`);
      return 0;
    }
  }

  /**
   * Compare bucket sums with `peer`, pull the buckets that differ ('all'; or
   * 'settled', only those that also differed last time, so writes still on
   * their way are left to replication; or 'none'), push ours back if asked.
   * Having pulled every differing bucket, this node holds all the peer held
   * when it sent its sums, so it takes on the peer's applied clock.
   * Returns the number of keys that changed here.
   */
  async syncWith(peer: string, mode: { pull: 'all' | 'settled' | 'none'; push: boolean; deadline: number }): Promise<number> {
    const remaining = () => Math.max(1, mode.deadline - this.timers.now());
    const parsed = parseSums(await this.transport.call(peer, 'sums', { from: this.self }, remaining()), BUCKETS);
    if (!parsed.ok) throw new Error(`${peer} sent bad sums: ${parsed.error}`);
    const differing = differingBuckets(this.store.bucketSums(), parsed.value.sums);
    const before = this.lastDiff.get(peer) ?? new Set<number>();
    this.lastDiff.set(peer, new Set(differing));
    const chosen = mode.pull === 'all' ? differing : mode.pull === 'settled' ? differing.filter((b) => before.has(b)) : [];
    let merged = 0;
    for (let todo = chosen; todo.length > 0; ) {
      const reply = (await this.transport.call(peer, 'pull', { buckets: todo }, remaining())) as { entries?: unknown[]; done?: unknown[] };
      if (!Array.isArray(reply?.entries) || !Array.isArray(reply.done) || reply.done.length === 0) throw new Error(`${peer} sent a bad pull reply`);
      merged += this.mergeEntries(reply.entries);
      const done = new Set(reply.done);
      todo = todo.filter((b) => !done.has(b));
    }
    if (chosen.length === differing.length) this.progress.joinClock(parsed.value.applied);
    if (mode.push && differing.length > 0) {
      for (const chunk of this.entryChunks(differing)) await this.transport.call(peer, 'push', { from: this.self, entries: chunk }, remaining());
    }
    return merged;
  }

  private mergeEntries(entries: unknown[]): number {
    let changed = 0;
    for (const raw of entries) {
      const entry = parseEntry(raw);
      if (!entry.ok) throw new PeerRequestError(`bad entry: ${entry.error}`);
      if (this.store.merge(entry.value.key, entry.value.versions)) changed++;
    }
    return changed;
  }

  /** This node's entries of `buckets`, in chunks of about PULL_REPLY_BYTES. */
  private *entryChunks(buckets: number[]): Generator<object[]> {
    let chunk: object[] = [];
    let bytes = 0;
    for (const b of buckets) {
      for (const e of this.store.bucketEntries(b)) {
        chunk.push(entryJson(e.key, e.versions));
        bytes += e.key.length + e.versions.reduce((n, v) => n + versionBytes(v), 0);
        if (bytes >= PULL_REPLY_BYTES) {
          yield chunk;
          chunk = [];
          bytes = 0;
        }
      }
    }
    if (chunk.length > 0) yield chunk;
  }

  // ---- what peers ask ----

  async handlePeer(method: PeerMethod, body: unknown): Promise<unknown> {
    const b = (body ?? {}) as Record<string, unknown>;
    switch (method) {
      case 'probe':
        this.absorbProbe(body);
        return this.probeMessage();
      case 'join':
        return this.handleJoin(body);
      case 'membership': {
        const entries = parseMembership(b.membership, isAddress);
        if (typeof entries === 'string') throw new PeerRequestError(entries);
        const selfEpoch = this.membership.epochOf(this.self);
        this.applyMembershipChanges(this.membership.merge(entries), selfEpoch);
        return { ok: true };
      }
      case 'replicate':
        return this.handleReplicate(b);
      case 'sums': {
        // The asker will hold all this node holds now: a broken chain to it may start again here.
        if (typeof b.from === 'string') this.replicator.resumeChain(b.from, this.progress.currentSeq);
        return { from: this.self, sums: this.store.bucketSums(), applied: clockJson(this.progress.clock()) };
      }
      case 'pull':
        return this.handlePull(b.buckets);
      case 'push': {
        if (!Array.isArray(b.entries)) throw new PeerRequestError('push needs entries');
        return { merged: this.mergeEntries(b.entries) };
      }
      case 'execute': {
        const op = parseOp(body);
        if (!op.ok) throw new PeerRequestError(op.error);
        return resultJson(await this.execute(op.value, true));
      }
    }
  }

  private handleJoin(body: unknown): ProbeMessage {
    const from = this.absorbProbe(body);
    if ((body as { add?: unknown }).add === true && !this.view().includes(from) && from !== this.self) {
      this.log.info(`${from} announced itself: adding it to the view`);
      this.applyMembershipChanges(this.membership.add(from, this.self));
      this.broadcastMembership([from]);
    }
    return this.probeMessage();
  }

  private handleReplicate(b: Record<string, unknown>): object {
    if (typeof b.from !== 'string' || !Array.isArray(b.writes)) throw new PeerRequestError('replicate needs from and writes');
    const writes: ReplicatedWrite[] = [];
    for (const raw of b.writes) {
      const w = parseWrite(raw);
      if (!w.ok) throw new PeerRequestError(`bad write: ${w.error}`);
      writes.push(w.value);
    }
    for (const w of writes) {
      this.store.merge(w.key, [w.version]);
      this.progress.link(b.from, w.prev, w.seq);
    }
    return { ok: true };
  }

  private handlePull(raw: unknown): object {
    if (!Array.isArray(raw) || raw.length > BUCKETS || !raw.every((n) => Number.isInteger(n) && n >= 0 && n < BUCKETS)) {
      throw new PeerRequestError('pull needs a list of bucket numbers');
    }
    const entries: object[] = [];
    const done: number[] = [];
    let bytes = 0;
    for (const bucket of raw as number[]) {
      if (done.length > 0 && bytes >= PULL_REPLY_BYTES) break;
      for (const e of this.store.bucketEntries(bucket)) {
        entries.push(entryJson(e.key, e.versions));
        bytes += e.key.length + e.versions.reduce((n, v) => n + versionBytes(v), 0);
      }
      done.push(bucket);
    }
    return { entries, done };
  }

  // ---- diagnostics ----

  /** What this node holds of one key, without catching up or forwarding: for tests and operators. */
  localVersions(key: string): { winner: object | null; versions: number } {
    const set = this.store.get(key);
    const w = winner(set);
    return { winner: w ? { deleted: w.deleted, value: w.value, clock: clockJson(w.clock), timestamp: w.timestamp, origin: w.origin } : null, versions: set.length };
  }

  status(): object {
    return {
      address: this.self,
      incarnation: this.incarnation,
      ready: this.ready,
      member: this.isMember(),
      view: this.view(),
      members: this.membership.members(),
      peers: Object.fromEntries(this.detector.watched().map((p) => [p, { ...this.detector.info(p), applied: undefined }])),
      applied: clockJson(this.progress.clock()),
      keys: this.store.size,
      liveKeys: this.store.liveCount(),
      pendingLinks: this.progress.pendingLinks(),
      counters: this.counters,
      outboxes: this.replicator.status(),
      limits: { clockEntries: KV_LIMITS.clockEntries, outboxWrites: KV_LIMITS.outboxWrites },
    };
  }
}
