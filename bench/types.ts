/** The shape of var/bench/results-*.json (and latest.json). */
import type { ClientResult } from './httpClients';
import type { PhaseResult } from './load';
import type { ProfileSummary } from './profileSummary';
import type { ProcessInfo, SystemKind } from './systems';

export interface ScalePoint {
  teas: number;
  /** Seconds to write the teas not loaded yet straight into Redis. */
  preloadSeconds: number;
  /** Seconds for the DBs and the LB to start (and listen) over the loaded data. */
  serverStartSeconds: number;
  /** CPU the system's processes used with no requests, measured right after they started, in cores. */
  idleServerCores: number | null;
  idleRedisCommandsPerSecond: number;
  put: PhaseResult;
  get: PhaseResult;
  /** used_memory of each Redis right after FLUSHALL, and after this point's load phases, bytes. */
  redisEmptyBytes: number[];
  redisUsedBytes: number[];
  /** (sum used - sum empty) / teas: what a tea costs in Redis over all its copies. */
  redisBytesPerTea: number;
  /** The same per copy: divided by the number of Redis servers holding each tea. */
  redisBytesPerTeaCopy: number;
  /** Copies of each tea: ndb for the store (every DB holds every tea), 1 for the baseline. */
  copies: number;
  /** RSS of each DB process, and of the LB, after the load phases, bytes. */
  dbRssBytes: number[];
  lbRssBytes: number;
}

export interface SystemRun {
  kind: SystemKind;
  ndb: number;
  processes: ProcessInfo[];
  warmup: { seconds: number; errors: number; errorSamples: string[] };
  /** CPU the system's processes used with no requests, after the warm-up, in cores. */
  idleServerCores?: number | null;
  /** Commands all its Redis servers processed per second with no requests. */
  idleRedisCommandsPerSecond?: number;
  latency?: { put: PhaseResult; getStrong: PhaseResult; getWeak: PhaseResult };
  /** putLongLoad (store): the one whole-phase PUT load after the slices that tells whether replication keeps up. */
  throughput?: { put?: PhaseResult; get?: PhaseResult; putLongLoad?: PhaseResult };
  scale?: ScalePoint[];
}

export interface Options {
  ndb: number;
  digestLength: number;
  concurrency: number;
  duration: number;
  warmup: number;
  /** Mixed requests that warm each system up after it starts. */
  warmupRequests: number;
  teas: number[];
  phases: string[];
  httpClient: string;
  quick: boolean;
  profile: string[];
  nodeOptions: string;
}

export interface Row {
  section: string;
  metric: string;
  unit: string;
  store: number | null;
  baseline: number | null;
  /** store / baseline. */
  ratio: number | null;
  target?: string;
  pass?: boolean;
  /** Decimals to print for store and baseline. */
  digits: number;
}

export interface Target {
  name: string;
  value: number | null;
  want: string;
  pass: boolean;
}

export interface Results {
  meta: {
    startedAt: string;
    finishedAt?: string;
    seconds?: number;
    command: string;
    node: string;
    platform: string;
    cpus: number;
    cpuModel: string;
    totalMemoryMB: number;
    loadAverageStart: number[];
    loadAverageEnd?: number[];
    git: { commit: string | null; dirty: boolean | null };
  };
  options: Options;
  notes: string[];
  clients?: ClientResult[];
  baseline?: SystemRun;
  store?: SystemRun;
  replication?: { ndb: number; baselineNdb1?: PhaseResult; storeNdb1?: PhaseResult };
  profiles?: ProfileSummary[];
  summary?: { rows: Row[]; targets: Target[]; clients: ClientRow[] };
}

export interface ClientRow {
  kind: string;
  seqP50: number;
  seqP99: number;
  seqThroughput: number;
  concThroughput: number;
  concP99: number;
  cpuUsPerRequest: number;
  errors: number;
}
