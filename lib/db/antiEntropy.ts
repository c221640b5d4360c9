/**
 * Anti-entropy: the repair path beside gossip. Every round a DB compares its
 * per-bucket sums (core/antiEntropy.ts) with one live peer's and, for each
 * bucket that differs, pulls the peer's teas and pushes its own; both sides
 * merge what they get. Gossip can be cut (a dead DB holds up the ring beyond
 * it, a DB restarted with an empty Redis has missed everything); this
 * converges every pair of live DBs regardless.
 *
 * It only repairs: a tea that changed within the last recentMs on the side
 * that holds it is gossip's to deliver, and stays out of the exchange, so a
 * weak read right after a write is stale as the contract says, whatever the
 * rounds do.
 */
import { BUCKETS, Words, bucketOf, differingBuckets } from '../core/antiEntropy';
import { LIMITS } from '../core/limits';
import { weigh } from '../core/weight';
import { dbName } from '../core/ring';
import { TeaState } from '../core/versions';
import { GossipTuple, parseTuple, stateOfTuple, tupleOf } from '../core/wire';
import { Logger } from '../log';
import { HttpClient } from '../net/httpClient';
import { TeaStore } from './store';

/** A tea as anti-entropy exchanges it: its gossip tuple, and how recently it changed there (null: not recently). */
export type AgedTuple = GossipTuple & { ageMs: number | null };

export interface PeerAddress {
  host: string;
  port: number;
}

export interface AntiEntropyOptions {
  id: number;
  peers: PeerAddress[];
  store: TeaStore;
  /** Merge teas from a peer into this DB (db/replica.ts mergeStates); returns how many changed. */
  merge: (entries: { tea: string; state: TeaState }[]) => Promise<number>;
  http: HttpClient;
  log: Logger;
  /** 0 turns the rounds off. */
  intervalMs: number;
  random?: () => number;
  /**
   * Milliseconds since this DB last took gossip from its inbox (Infinity if never).
   * Rounds wait for the inbox to go quiet: while gossip flows, every bucket
   * differs for a moment, and repairing them all each round cost more CPU
   * than the writes themselves (measured under a write load).
   */
  gossipQuietForMs?: () => number;
  now?: () => number;
  /** Headers every call to a peer carries (the cluster secret). */
  headers?: Record<string, string>;
}

/**
 * However busy gossip is, a round runs at least this many intervals apart. A
 * ring stuck behind a dead DB is repaired sooner than that by the DBs whose
 * inbox it starves: theirs is quiet, so they run rounds, and a round repairs
 * both sides. Every 5 intervals cost as much Redis work as the writes did.
 */
const MAX_ROUNDS_SKIPPED = 30;

/**
 * A round repairs at most this many buckets. All of them: a DB back with an
 * empty Redis should be whole after one round, not four; a bucket is a few
 * hundred teas even at 100k.
 */
const MAX_BUCKETS_PER_ROUND = BUCKETS;
/** Peers answer in milliseconds; a peer that does not is treated as down for this round. */
const PEER_TIMEOUT_MS = 2000;
/** What one bucket's exchange carries at most, estimated from the teas' weights: half what a peer's PUT takes. */
const AE_BUDGET_CHARS = LIMITS.bulkBytes / 2;

export class AntiEntropy {
  private timer: NodeJS.Timeout | null = null;
  /** The buckets that differed at the last comparison, with whichever peer. */
  private lastDiff = new Set<number>();
  private lastRoundAt = -Infinity;
  private running: Promise<number> | null = null;
  private stopped = false;
  private readonly name: string;
  private readonly random: () => number;

  constructor(private readonly options: AntiEntropyOptions) {
    this.name = dbName(options.id);
    this.random = options.random ?? Math.random;
  }

  start(): void {
    if (this.options.intervalMs <= 0 || this.options.peers.length < 2 || this.timer) return;
    this.timer = setInterval(() => void this.timedRound(), this.options.intervalMs);
    this.timer.unref();
  }

  /** No more rounds; a round under way finds its next call refused. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.stopped = true;
  }

  /** A round when gossip is quiet, or when too many have been skipped. */
  timedRound(): Promise<number> {
    const now = (this.options.now ?? Date.now)();
    const quiet = (this.options.gossipQuietForMs?.() ?? Infinity) >= this.options.intervalMs;
    if (!quiet && now - this.lastRoundAt < MAX_ROUNDS_SKIPPED * this.options.intervalMs) return Promise.resolve(0);
    this.lastRoundAt = now;
    return this.round();
  }

  /** One round with the first peer, in random order, that answers. Returns the teas merged here. */
  round(): Promise<number> {
    if (this.running) return this.running;
    const run = (async () => {
      const others = this.options.peers.map((_, i) => i).filter((i) => i !== this.options.id);
      for (let k = others.length - 1; k > 0; k--) {
        const j = Math.floor(this.random() * (k + 1));
        [others[k], others[j]] = [others[j], others[k]];
      }
      for (const peer of others) {
        try {
          return await this.syncWith(peer);
        } catch (e) {
          this.options.log.warnEvery(`ae-${peer}`, 10_000, `anti-entropy with ${dbName(peer)} failed: ${(e as Error).message}`);
        }
      }
      return 0;
    })().finally(() => {
      this.running = null;
    });
    this.running = run;
    return run;
  }

  /**
   * Compare with one peer and exchange the buckets that differ now and also
   * differed at the previous comparison (with any peer). A fresh write differs
   * for a moment everywhere but at its primary; gossip is what carries it (and
   * what makes a weak read right after a write stale, as the contract expects).
   * Anti-entropy steps in for what gossip has not delivered a round later.
   * `immediate` repairs every differing bucket at once (tests, start-up).
   */
  async syncWith(peer: number, immediate = false): Promise<number> {
    const theirs = (await this.call(peer, 'GET', '/ae/buckets')).sums as Words[];
    if (!this.options.store.indexReady) return 0;
    const mine = this.options.store.bucketSums();
    const differing = differingBuckets(mine, theirs);
    const before = this.lastDiff;
    this.lastDiff = new Set(differing);
    const buckets = differing.filter((b) => immediate || before.has(b)).slice(0, MAX_BUCKETS_PER_ROUND);
    let merged = 0;
    for (const bucket of buckets) {
      const remote = (await this.call(peer, 'GET', `/ae/buckets/${bucket}`)).entries as unknown[];
      merged += await this.merge(remote, bucket);
      await this.call(peer, 'PUT', `/ae/buckets/${bucket}`, { entries: await this.entries(bucket, true) });
    }
    if (merged > 0) this.options.log.info(`anti-entropy with ${dbName(peer)}: ${buckets.length} buckets differed, merged ${merged} teas`);
    return merged;
  }

  /**
   * This DB's teas of one bucket, as gossip tuples with their age; `oldOnly`
   * leaves out the recent ones. At most what a peer's PUT takes: past that,
   * the teas after a random one are left for a later round.
   */
  async entries(bucket: number, oldOnly = false): Promise<AgedTuple[]> {
    const now = (this.options.now ?? Date.now)();
    const entries = (await this.options.store.bucketEntries(bucket, now)).filter((e) => !oldOnly || e.ageMs === null);
    const start = Math.floor(this.random() * entries.length);
    const out: AgedTuple[] = [];
    let chars = 0;
    for (let k = 0; k < entries.length; k++) {
      const e = entries[(start + k) % entries.length];
      chars += weigh(e.state).chars + e.tea.length * 6 + 100;
      if (chars > AE_BUDGET_CHARS && out.length > 0) break;
      out.push({ ...tupleOf(this.name, e.tea, e.state), ageMs: e.ageMs });
    }
    return out;
  }

  /** Per bucket, the sums of this DB's teas there; null while the index is being built at start-up. */
  sums(): Words[] | null {
    return this.options.store.indexReady ? this.options.store.bucketSums() : null;
  }

  /**
   * Merge tuples from a peer, all of bucket `bucket`; malformed ones (as
   * strictly checked as gossip) are skipped, and recent ones are left to
   * gossip. Returns how many changed something.
   */
  async merge(entries: unknown[], bucket: number): Promise<number> {
    const states: { tea: string; state: TeaState }[] = [];
    for (const entry of entries) {
      const parsed = parseTuple(entry, this.options.peers.length);
      const problem = !parsed.ok ? parsed.error : bucketOf(parsed.value.key) !== bucket ? `${JSON.stringify(parsed.value.key)} is not in bucket ${bucket}` : null;
      if (problem !== null || !parsed.ok) {
        this.options.log.warnEvery('ae-malformed', 5000, `anti-entropy: skipped a malformed entry: ${problem}`);
        continue;
      }
      const age = (entry as { ageMs?: unknown }).ageMs;
      if (typeof age === 'number') continue;
      states.push({ tea: parsed.value.key, state: stateOfTuple(parsed.value) });
    }
    return states.length === 0 ? 0 : this.options.merge(states);
  }

  private async call(peer: number, method: string, path: string, body?: unknown): Promise<any> {
    if (this.stopped) throw new Error('anti-entropy stopped');
    const { host, port } = this.options.peers[peer];
    const res = await this.options.http.request(method, `http://${host}:${port}${path}`, body === undefined ? undefined : JSON.stringify(body), PEER_TIMEOUT_MS, this.options.headers);
    if (res.status !== 200) throw new Error(`${method} ${path} answered ${res.status}`);
    return JSON.parse(res.body);
  }
}
