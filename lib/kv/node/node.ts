/**
 * The key-value node: the driver that wires the pure core (membership,
 * failure detector, version store, progress, placement) to a transport and
 * timers, with its helpers: the replicator (replicator.ts), bucket
 * exchanges (bucketSync.ts), the causal wait (causalWait.ts) and shards
 * (sharding.ts). It owns every side effect (calls to peers, timers, logs);
 * the decisions live in lib/kv/core. It is door-agnostic: a door turns HTTP
 * into execute()/view/shard calls and the results back into HTTP.
 */
import { Clock, join, makeClock } from '../../core/clock';
import { Logger } from '../../log';
import { clockJson } from '../core/context';
import { DetectorEvent, FailureDetector } from '../core/detector';
import { isAddress } from '../core/address';
import { KV_LIMITS } from '../core/limits';
import { Membership, MembershipChange, parseMembership } from '../core/membership';
import { Op, OpResult, opJson, parseOp, parseResult, resultJson } from '../core/ops';
import { ReplicatedWrite } from '../core/outbox';
import { Progress } from '../core/progress';
import { ShardLayout, layoutJson } from '../core/shardMap';
import { VersionStore } from '../core/store';
import { KvVersion, liveWinner, winner } from '../core/versions';
import { ProbeMessage, parseProbe, parseWrite } from '../core/wire';
import { BucketSync } from './bucketSync';
import { CausalWait } from './causalWait';
import { Replicator } from './replicator';
import { Resharder } from './resharder';
import { Sharding } from './sharding';
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
  /** The start-up shard layout (SHARD_COUNT); null: no shards, or learn them from the peers. */
  layout?: ShardLayout | null;
  random?: () => number;
}

export type ViewChangeResult = 'done' | 'unchanged';

/** A request reaches a key's holder in at most this many forwards (two when layouts were changing under it). */
const MAX_HOPS = 2;

export class KvNode implements PeerHandler {
  readonly self: string;
  readonly incarnation: number;
  readonly timing: Timing;
  private readonly membership: Membership;
  private readonly detector: FailureDetector;
  private readonly store = new VersionStore();
  private readonly progress: Progress;
  private readonly replicator: Replicator;
  private readonly sync: BucketSync;
  private readonly causal: CausalWait;
  /** Shards: the layout, receiving and handing off keys (the door's shard routes read it). */
  readonly shards: Sharding;
  /** add-member and reshard. */
  readonly resharder: Resharder;
  private readonly timers: Timers;
  private readonly random: () => number;
  private readonly log: Logger;
  private readonly transport: Transport;
  private ready = false;
  private readonly readyWaiters: (() => void)[] = [];
  private stopped = false;
  private probeTimer: unknown = null;
  private aeTimer: unknown = null;
  private lastViewText = '';
  /** Counters for the status page: key requests, and how many were forwarded (the causal wait counts its own). */
  private readonly counters = { requests: 0, forwarded: 0 };

  constructor(private readonly options: NodeOptions) {
    this.self = options.self;
    this.timers = options.timers ?? realTimers;
    this.timing = { ...DEFAULT_TIMING, ...options.timing };
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
    const { store, progress, transport, timers, log, timing } = this;
    this.sync = new BucketSync({
      self: this.self, store, progress, transport, timers,
      count: () => this.shards.placement().count,
      onSumsAsked: (peer) => this.replicator.resumeChain(peer, this.progress.currentSeq),
    });
    this.shards = new Sharding({ host: this, layout: options.layout ?? null, store, sync: this.sync, progress, transport, timers, log, timing });
    this.resharder = new Resharder({ host: this, shards: this.shards, transport, timers, log, timing });
    this.store.repartition(this.shards.placement().shardOf);
    this.causal = new CausalWait({
      progress, timers,
      groupPeers: () => this.groupPeers(),
      appliedOf: (peer) => this.detector.info(peer)?.applied ?? null,
      relevant: () => this.relevant(),
      pull: (peer, deadline) => this.syncShard(peer, { pull: 'all', push: false, deadline }),
      isStopped: () => this.stopped,
    });
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
    this.shards.markCaughtUp();
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
    // The joins' answers brought the membership and the shard layout: catch up from a serving member of this node's shard.
    const group = new Set(this.shards.placement().groupOf(this.self, this.membership.members()));
    const serving = replies.filter((p): p is string => p !== null && this.detector.isServing(p) && group.has(p));
    for (const peer of serving) {
      try {
        const { merged } = await this.syncShard(peer, { pull: 'all', push: false, deadline });
        this.log.info(`caught up from ${peer} (${merged} keys merged, ${this.store.size} held)`);
        return;
      } catch (e) {
        this.log.warn(`catching up from ${peer} failed: ${(e as Error).message}`);
      }
    }
    if (group.size > 1 && serving.length === 0) this.log.info(`no serving peer of this node's shard answered at start (${replies.filter((r) => r).length} of ${others.length} reachable): serving what arrives`);
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

  /** Members in view order, dead ones included. */
  members(): readonly string[] {
    return this.membership.members();
  }

  isAlive(peer: string): boolean {
    return this.detector.isAlive(peer);
  }

  isServing(peer: string): boolean {
    return this.detector.isServing(peer);
  }

  /** Live peers of this node's shard. */
  private groupPeers(): string[] {
    return this.shards.placement().groupOf(this.self, this.membership.members()).filter((p) => p !== this.self && this.detector.isAlive(p));
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
      this.log.info(this.isMember() ? 'added to the view' : 'removed from the view: key requests are forwarded to members from now on');
      if (this.isMember()) this.shards.forgetHeld();
      this.shards.reconsider();
    }
    this.logViewIfChanged();
  }

  private logViewIfChanged(): void {
    const text = this.view().join(',');
    if (text === this.lastViewText) return;
    this.lastViewText = text;
    this.log.info(`view is now ${text || '(empty)'}`);
  }

  // ---- probing ----

  private probeMessage(): ProbeMessage {
    return {
      from: this.self,
      incarnation: this.incarnation,
      ready: this.ready,
      applied: clockJson(this.progress.clock()),
      membership: this.membership.toJson(),
      layout: layoutJson(this.shards.layout()),
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
      this.transport
        .call(peer, 'probe', message, this.timing.probeTimeoutMs)
        .then((reply) => this.absorbProbe(reply))
        .catch((e: Error) => {
          // A malformed answer counts as no answer (and must not become an unhandled rejection, which ends the process).
          if (e instanceof PeerRequestError) this.log.warnEvery(`probe-${peer}`, 10_000, `${peer} answered a probe with ${e.message}`);
          this.handleDetectorEvents(this.detector.failed(peer, this.timers.now()));
        });
    }
  }

  /** A peer's probe message (a probe, a probe's answer, a join): what it tells about it and the membership. */
  private absorbProbe(raw: unknown): string {
    const parsed = parseProbe(raw);
    if (!parsed.ok) throw new PeerRequestError(parsed.error);
    const p = parsed.value;
    const selfEpoch = this.membership.epochOf(this.self);
    this.applyMembershipChanges(this.membership.merge(p.membership), selfEpoch);
    this.shards.adoptJson(p.layout);
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

  /**
   * Run a client's operation here, or at a node that holds the key (`hops`:
   * how often it was forwarded already). The answer carries the key's shard.
   */
  async execute(op: Op, hops = 0): Promise<OpResult> {
    await this.whenReady(this.timing.startupWaitMs);
    const placement = this.shards.placement();
    const replicas = placement.replicasOf(op.key, this.membership.members());
    this.counters.requests++;
    if (!replicas.includes(this.self) && hops < MAX_HOPS && !(hops > 0 && replicas.length === 0)) {
      this.counters.forwarded++;
      return this.forward(op, replicas, hops + 1);
    }
    const deadline = this.timers.now() + this.timing.requestWaitMs;
    await this.shards.ensureHeld(op.key, deadline);
    const caughtUp = await this.causal.catchUp(op.context, deadline);
    const set = this.store.get(op.key);
    const live = liveWinner(set);
    const shardId = placement.shardOf(op.key);
    switch (op.kind) {
      case 'get':
      case 'exists': {
        const read = winner(set);
        const context = read ? join(op.context, read.clock) : op.context;
        return { found: live !== undefined, replaced: false, value: op.kind === 'get' ? live?.value : undefined, context, versionClock: read?.clock ?? null, caughtUp, shardId };
      }
      case 'delete': {
        if (!live) return { found: false, replaced: false, context: join(op.context, winner(set)?.clock ?? makeClock()), versionClock: null, caughtUp, shardId };
        const version = await this.write(op.key, true, undefined, op.context);
        return { found: true, replaced: true, context: version.clock, versionClock: version.clock, caughtUp, shardId };
      }
      case 'put': {
        const version = await this.write(op.key, false, op.value, op.context);
        return { found: true, replaced: live !== undefined, context: version.clock, versionClock: version.clock, caughtUp, shardId };
      }
    }
  }

  /**
   * Forward to the key's live replicas: serving ones first, the most recently
   * heard from first (one just cut off is tried last). None alive: a clear
   * error at once, not a wait on each unreachable one.
   */
  private async forward(op: Op, replicas: string[], hops: number): Promise<OpResult> {
    const freshness = (r: string) => (this.detector.isServing(r) ? (this.detector.info(r)?.lastOkMs ?? 0) : -1);
    const candidates = replicas.filter((r) => this.detector.isAlive(r)).sort((a, b) => freshness(b) - freshness(a));
    if (candidates.length === 0) throw new Error(`no node holding ${JSON.stringify(op.key)} is reachable (${replicas.join(', ') || 'none'})`);
    for (const peer of candidates) {
      try {
        const reply = await this.transport.call(peer, 'execute', { ...opJson(op), hops }, this.timing.peerTimeoutMs);
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
    const targets = this.shards.placement().replicasOf(key, this.membership.members()).filter((p) => p !== this.self);
    return this.replicator.send({ seq, key, version, ownBefore }, targets, targets.filter((p) => this.detector.isAlive(p)));
  }

  // ---- causality ----

  /** The origins whose writes this node must hold: the members of its shard. */
  private relevant(): (origin: string) => boolean {
    const members = this.membership.members();
    const group = this.shards.placement().groupOf(this.self, members);
    if (group.length === members.length) return () => true;
    const set = new Set(group);
    return (origin) => set.has(origin);
  }

  /** One exchange of this node's own shard with a peer of it. */
  private syncShard(peer: string, mode: { pull: 'all' | 'settled' | 'none'; push: boolean; deadline: number }) {
    const partition = this.shards.ownership().shard ?? 0;
    return this.sync.syncWith(peer, { ...mode, partition, trustClock: true });
  }

  // ---- anti-entropy ----

  private scheduleAntiEntropy(): void {
    if (this.stopped || this.timing.antiEntropyIntervalMs <= 0) return;
    const jitter = 0.75 + this.random() * 0.5;
    this.aeTimer = this.timers.setTimeout(() => {
      void this.antiEntropyRound().finally(() => this.scheduleAntiEntropy());
    }, this.timing.antiEntropyIntervalMs * jitter);
  }

  /**
   * Compare this node's shard with one random live peer of it and repair both
   * sides (a member), or hand over (a node removed from the view); then hand
   * off the keys of shards this node has left.
   */
  async antiEntropyRound(): Promise<number> {
    if (!this.ready) return 0;
    const deadline = this.timers.now() + this.timing.peerTimeoutMs;
    await this.shards.handOff(deadline).catch((e: Error) => this.log.warnEvery('handoff', 10_000, `handing off keys failed: ${e.message}`));
    this.shards.reconsider();
    const candidates = this.groupPeers();
    if (candidates.length === 0) return 0;
    const peer = candidates[Math.floor(this.random() * candidates.length)];
    try {
      // A node removed from the view only hands over what it holds: it is sent no more writes.
      const pull = this.isMember() ? 'settled' : 'none';
      const { merged } = await this.syncShard(peer, { pull, push: true, deadline });
      if (merged > 0) this.log.info(`anti-entropy with ${peer}: merged ${merged} keys`);
      return merged;
    } catch (e) {
      this.log.warnEvery(`ae-${peer}`, 10_000, `anti-entropy with ${peer} failed: ${(e as Error).message}`);
      return 0;
    }
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
      case 'sums':
        return this.sync.answerSums(b);
      case 'pull':
        return this.sync.answerPull(b);
      case 'push':
        return this.sync.answerPush(b);
      case 'fetch':
        return this.sync.answerFetch(b);
      case 'execute': {
        const op = parseOp(body);
        if (!op.ok) throw new PeerRequestError(op.error);
        const hops = Number.isSafeInteger(b.hops) && (b.hops as number) > 0 ? (b.hops as number) : MAX_HOPS;
        return resultJson(await this.execute(op.value, hops));
      }
      case 'layout':
        this.shards.adoptJson(b.layout);
        return { epoch: this.shards.layout()?.epoch ?? null };
      case 'transfer':
        return this.shards.answerTransfer(b);
      case 'keyCount':
        return this.shards.answerKeyCount(b);
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
      counters: { ...this.counters, ...this.causal.counters, received: this.sync.received },
      shards: { ...this.shards.status(), coordinating: this.resharder.isCoordinating() },
      outboxes: this.replicator.status(),
      limits: { clockEntries: KV_LIMITS.clockEntries, outboxWrites: KV_LIMITS.outboxWrites },
    };
  }
}
