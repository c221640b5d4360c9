/**
 * A node's configuration from its environment, exactly as the course's
 * containers were started (docs/kv.md, the contract's "One node, several front doors"):
 * IP_PORT means seed 000's door, SOCKET_ADDRESS seed 003's; `--api NAME` or
 * KV_API overrides. Pure: it takes the environment and arguments and returns
 * a config or throws a ConfigError that says what to change.
 */
import { parseAddress, parseViewList } from './core/address';
import { KV_LIMITS } from './core/limits';
import { API_NAMES, ApiName } from './doors/door';

export class ConfigError extends Error {}

export interface KvConfig {
  api: ApiName;
  self: string;
  view: string[];
  /** The host to bind: the own address's, unless KV_LISTEN says otherwise (0.0.0.0 in a container). */
  listenHost: string;
  port: number;
  /** SHARD_COUNT (seed 003): the start-up layout's shard count; null learns it from the peers (or has no shards). */
  shardCount: number | null;
}

export function apiFromArgs(argv: readonly string[], env: NodeJS.ProcessEnv): string | undefined {
  const i = argv.indexOf('--api');
  if (i >= 0) {
    if (i + 1 >= argv.length) throw new ConfigError('--api needs a name: keyValue-store or key-value-store');
    return argv[i + 1];
  }
  const eq = argv.find((a) => a.startsWith('--api='));
  if (eq) return eq.slice('--api='.length);
  return env.KV_API || undefined;
}

export function configFromEnv(env: NodeJS.ProcessEnv, argv: readonly string[] = []): KvConfig {
  const chosen = apiFromArgs(argv, env);
  let api: ApiName;
  if (chosen !== undefined) {
    if (chosen === 'kv-store') throw new ConfigError('the seed-001 door (kv-store) is not built yet');
    if (!(API_NAMES as readonly string[]).includes(chosen)) throw new ConfigError(`unknown API ${JSON.stringify(chosen)}: use ${API_NAMES.join(' or ')}`);
    api = chosen as ApiName;
  } else if (env.SOCKET_ADDRESS) api = 'key-value-store';
  else if (env.IP_PORT) api = 'keyValue-store';
  else if (env.IPPORT) throw new ConfigError('IPPORT selects the seed-001 door (kv-store), which is not built yet');
  else throw new ConfigError('set IP_PORT (seed 000 door) or SOCKET_ADDRESS (seed 003 door) to this node\'s "ip:port", and VIEW to every node\'s');

  const selfVar = api === 'key-value-store' ? 'SOCKET_ADDRESS' : 'IP_PORT';
  const self = env[selfVar] ?? env.SOCKET_ADDRESS ?? env.IP_PORT;
  if (!self) throw new ConfigError(`${selfVar} must be this node's "ip:port"`);
  const parsed = parseAddress(self);
  if (typeof parsed === 'string') throw new ConfigError(`${selfVar}: ${parsed}`);
  let view: string[];
  try {
    view = parseViewList(env.VIEW ?? self);
  } catch (e) {
    throw new ConfigError((e as Error).message);
  }
  if (view.length === 0) view = [self];
  return { api, self, view, listenHost: env.KV_LISTEN || parsed.host, port: parsed.port, shardCount: shardCountFrom(env.SHARD_COUNT, api, view) };
}

/** SHARD_COUNT: a positive integer, seed 003's door only, and at least two VIEW nodes per shard (one shard is any VIEW). */
function shardCountFrom(raw: string | undefined, api: ApiName, view: readonly string[]): number | null {
  if (raw === undefined || raw.trim() === '') return null;
  if (api !== 'key-value-store') throw new ConfigError('SHARD_COUNT: shards belong to seed 003\'s door (SOCKET_ADDRESS), not seed 000\'s');
  if (!/^\s*\d{1,6}\s*$/.test(raw) || Number(raw) < 1 || Number(raw) > KV_LIMITS.shards) {
    throw new ConfigError(`SHARD_COUNT must be an integer from 1 to ${KV_LIMITS.shards}, not ${JSON.stringify(raw)}`);
  }
  const count = Number(raw);
  if (count > 1 && view.length < 2 * count) {
    throw new ConfigError(`SHARD_COUNT=${count} needs at least ${2 * count} nodes in VIEW (two per shard), and VIEW lists ${view.length}`);
  }
  return count;
}
