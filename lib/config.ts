/**
 * Configuration: the defaults of config.json, overridden per server by the
 * JSON object the original harness passed as the first argument. Pure: it
 * takes parsed values and returns validated, complete configs, or throws a
 * ConfigError that says which key is wrong and why.
 */
export class ConfigError extends Error {}

export interface Defaults {
  host: string;
  ndb: number;
  lb: { port: number };
  db: {
    'base-port': number;
    'digest-length': number;
    'flush-after-ms': number;
    'anti-entropy-interval-ms': number;
  };
  redis: { 'base-port': number; 'single-instance-port': number };
  q: { port: number; 'redis-port': number };
  'log-dir': string;
  'data-dir': string;
}

export interface RedisAddress {
  host: string;
  port: number;
}

/*
 * The configs below name their fields in camelCase: the original keys
 * ('digest-length', baseDBport, ...) are read once, here, at the boundary.
 */
export interface LBConfig {
  id: number;
  host: string;
  port: number;
  ndb: number;
  dbHost: string;
  dbBasePort: number;
  logfile: string | null;
}

export interface DBConfig {
  id: number;
  host: string;
  /** The original's hostport. */
  port: number;
  /** Its Redis: the original's servers[0]. */
  redis: RedisAddress;
  queueHost: string;
  queuePort: number;
  ndb: number;
  /** The original's baseDBport. */
  dbBasePort: number;
  digestLength: number;
  /** Gossip that no request has moved for this long (a partial digest, an unread inbox) is moved by a timer. */
  flushAfterMs: number;
  /** Anti-entropy round with a random live peer. 0 = off. */
  antiEntropyIntervalMs: number;
  /** Where the other DBs are, for anti-entropy; by default host:dbBasePort+i. */
  peers: RedisAddress[];
  logfile: string | null;
  /** A file holding the cluster secret (internal routes, and its Redis's password); null: internal routes are open. */
  secretFile: string | null;
}

export interface QConfig {
  id: number;
  host: string;
  port: number;
  nq: number;
  ndb: number;
  /** The Redis that keeps the channels; null keeps them in memory (lost with the process). */
  redis: RedisAddress | null;
  logfile: string | null;
  /** A file holding the cluster secret (every route, and its Redis's password); null: the routes are open. */
  secretFile: string | null;
}

/** 'logfile': a file path or null (log files, the secret file). */
type Kind = 'count' | 'index' | 'port' | 'string' | 'servers' | 'logfile' | 'millis' | 'address';

function check(obj: Record<string, unknown>, key: string, kind: Kind, where: string): void {
  const v = obj[key];
  if (v === undefined) return;
  const bad = (want: string) => new ConfigError(`${where}: "${key}" must be ${want}, got ${JSON.stringify(v)}`);
  switch (kind) {
    case 'count':
      if (!Number.isInteger(v) || (v as number) < 1) throw bad('an integer >= 1');
      return;
    case 'index':
      if (!Number.isInteger(v) || (v as number) < 0) throw bad('an integer >= 0');
      return;
    case 'port':
      if (!Number.isInteger(v) || (v as number) < 0 || (v as number) > 65535) throw bad('a port number 0..65535');
      return;
    case 'string':
      if (typeof v !== 'string' || v.length === 0) throw bad('a non-empty string');
      return;
    case 'millis':
      if (!Number.isInteger(v) || (v as number) < 0) throw bad('a whole number of milliseconds >= 0');
      return;
    case 'address':
      if (v === null) return;
      if (typeof v !== 'object' || Array.isArray(v)) throw bad('{"host", "port"} or null');
      check(v as Record<string, unknown>, 'host', 'string', `${where} ${key}`);
      check(v as Record<string, unknown>, 'port', 'port', `${where} ${key}`);
      return;
    case 'logfile':
      if (v !== null && (typeof v !== 'string' || v.length === 0)) throw bad('a file path or null');
      return;
    case 'servers':
      if (!Array.isArray(v) || v.length === 0) throw bad('a non-empty array of {"host", "port"}');
      for (const s of v) {
        if (typeof s !== 'object' || s === null) throw bad('a non-empty array of {"host", "port"}');
        // Both are required: a missing one would silently connect to some other Redis.
        if (s.host === undefined || s.port === undefined) throw bad('a non-empty array of {"host", "port"}, each with both');
        check(s as Record<string, unknown>, 'host', 'string', `${where} servers[]`);
        check(s as Record<string, unknown>, 'port', 'port', `${where} servers[]`);
      }
  }
}

function checkAll(obj: Record<string, unknown>, kinds: Record<string, Kind>, where: string): void {
  for (const [key, kind] of Object.entries(kinds)) check(obj, key, kind, where);
}

/** Parse a server's first argument; no argument means single-instance mode. */
export function parseOverrides(arg: string | undefined, where: string): Record<string, unknown> | null {
  if (arg === undefined) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(arg);
  } catch (e) {
    throw new ConfigError(`${where}: the first argument must be a JSON object: ${(e as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError(`${where}: the first argument must be a JSON object, got ${arg}`);
  }
  return parsed as Record<string, unknown>;
}

export function checkDefaults(x: unknown): Defaults {
  const where = 'config.json';
  if (typeof x !== 'object' || x === null) throw new ConfigError(`${where} must hold a JSON object`);
  const d = x as Record<string, Record<string, unknown>>;
  checkAll(d, { host: 'string', ndb: 'count', 'log-dir': 'string', 'data-dir': 'string' }, where);
  for (const section of ['lb', 'db', 'redis', 'q']) {
    if (typeof d[section] !== 'object' || d[section] === null) throw new ConfigError(`${where}: "${section}" must be an object`);
  }
  checkAll(d.lb, { port: 'port' }, `${where} lb`);
  checkAll(
    d.db,
    { 'base-port': 'port', 'digest-length': 'count', 'flush-after-ms': 'millis', 'anti-entropy-interval-ms': 'millis' },
    `${where} db`,
  );
  checkAll(d.redis, { 'base-port': 'port', 'single-instance-port': 'port' }, `${where} redis`);
  checkAll(d.q, { port: 'port', 'redis-port': 'port' }, `${where} q`);
  return x as Defaults;
}

export function lbConfig(defaults: Defaults, overrides: Record<string, unknown> | null): LBConfig {
  const o = overrides ?? { ndb: 1 };
  checkAll(o, { id: 'index', port: 'port', ndb: 'count', 'db-base-port': 'port', 'db-host': 'string', host: 'string', logfile: 'logfile' }, 'LB');
  const id = (o.id as number | undefined) ?? 0;
  return {
    id,
    host: (o.host as string | undefined) ?? defaults.host,
    port: (o.port as number | undefined) ?? defaults.lb.port,
    ndb: (o.ndb as number | undefined) ?? defaults.ndb,
    dbHost: (o['db-host'] as string | undefined) ?? defaults.host,
    dbBasePort: (o['db-base-port'] as number | undefined) ?? defaults.db['base-port'],
    logfile: o.logfile === undefined ? null : (o.logfile as string | null),
  };
}

export function dbConfig(defaults: Defaults, overrides: Record<string, unknown> | null): DBConfig {
  const single = overrides === null;
  const o = overrides ?? { ndb: 1, servers: [{ host: 'localhost', port: defaults.redis['single-instance-port'] }] };
  checkAll(
    o,
    {
      id: 'index', host: 'string', hostport: 'port', servers: 'servers', qhost: 'string', qport: 'port',
      ndb: 'count', baseDBport: 'port', 'digest-length': 'count', logfile: 'logfile',
      'flush-after-ms': 'millis', 'anti-entropy-interval-ms': 'millis', peers: 'servers', 'secret-file': 'logfile',
    },
    'DB',
  );
  const id = (o.id as number | undefined) ?? 0;
  const ndb = (o.ndb as number | undefined) ?? defaults.ndb;
  const baseDBport = (o.baseDBport as number | undefined) ?? defaults.db['base-port'];
  const host = (o.host as string | undefined) ?? defaults.host;
  const peers = (o.peers as RedisAddress[] | undefined) ?? Array.from({ length: ndb }, (_, i) => ({ host, port: baseDBport + i }));
  if (peers.length !== ndb) throw new ConfigError(`DB: "peers" must list ${ndb} DBs (ndb), got ${peers.length}`);
  return {
    id,
    host,
    port: (o.hostport as number | undefined) ?? baseDBport + id,
    redis: (o.servers as RedisAddress[] | undefined)?.[0] ?? { host: 'localhost', port: defaults.redis['base-port'] + id },
    queueHost: (o.qhost as string | undefined) ?? defaults.host,
    queuePort: (o.qport as number | undefined) ?? defaults.q.port,
    ndb: single ? 1 : ndb,
    dbBasePort: baseDBport,
    digestLength: (o['digest-length'] as number | undefined) ?? defaults.db['digest-length'],
    flushAfterMs: (o['flush-after-ms'] as number | undefined) ?? defaults.db['flush-after-ms'],
    antiEntropyIntervalMs: (o['anti-entropy-interval-ms'] as number | undefined) ?? defaults.db['anti-entropy-interval-ms'],
    peers: single ? [{ host, port: (o.hostport as number | undefined) ?? baseDBport + id }] : peers,
    logfile: o.logfile === undefined ? null : (o.logfile as string | null),
    secretFile: (o['secret-file'] as string | null | undefined) ?? null,
  };
}

export function qConfig(defaults: Defaults, overrides: Record<string, unknown> | null): QConfig {
  const o = overrides ?? { ndb: 1 };
  checkAll(o, { id: 'index', host: 'string', port: 'port', nq: 'count', ndb: 'count', logfile: 'logfile', redis: 'address', 'secret-file': 'logfile' }, 'Q');
  return {
    id: (o.id as number | undefined) ?? 0,
    host: (o.host as string | undefined) ?? defaults.host,
    port: (o.port as number | undefined) ?? defaults.q.port,
    nq: (o.nq as number | undefined) ?? 1,
    ndb: (o.ndb as number | undefined) ?? defaults.ndb,
    redis: (o.redis as RedisAddress | null | undefined) ?? null,
    logfile: o.logfile === undefined ? null : (o.logfile as string | null),
    secretFile: (o['secret-file'] as string | null | undefined) ?? null,
  };
}
