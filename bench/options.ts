/** The benchmark's command line: `npm run bench -- --help`. */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { DEFAULT_HTTP_CLIENT } from './httpClientKinds';
import { MAX_NDB } from '../tools/ports';
import { clientKinds } from './httpClientKinds';
import type { Options } from './types';

export const PHASES = ['clients', 'latency', 'throughput', 'replication', 'scale'] as const;
export type Phase = (typeof PHASES)[number];

/**
 * Requests of mixed traffic (half PUTs) that warm a system up before anything is measured: enough
 * for V8 to have compiled the hot paths. Measured (fresh systems, PUT windows of 4,000 at c=32):
 * the store's CPU per PUT fell from 2,560 us in the first window to a plateau of about 1,050 us
 * after 16-20k PUTs, the baseline's from 1,470 to about 480 after 12-16k; a perf profile of a DB
 * showed 28% of its CPU in V8's optimising compiler during the first 6,000 PUTs, 3.5% after
 * 20,000. A store serves for hours: the figures that matter are the warm ones.
 */
export const WARMUP_REQUESTS = 40_000;

export function parseArgs(): Options {
  const kinds = clientKinds();
  const a = yargs(hideBin(process.argv))
    .scriptName('npm run bench --')
    .usage('$0 [options]\n\nMeasures the tea store against a least-work baseline; writes var/bench/latest.{json,html}.')
    .option('ndb', { type: 'number', default: 4, describe: 'DB instances (and Redis servers) of both systems' })
    .option('digest-length', { type: 'number', default: 2, describe: "the store's gossip digest length" })
    .option('concurrency', { type: 'number', default: 32, describe: 'concurrent keep-alive clients in the throughput phases' })
    .option('duration', { type: 'number', describe: 'measured seconds per phase (default 5, --quick 1)' })
    .option('warmup', { type: 'number', describe: 'warm-up seconds before each phase (default 1, --quick 0.5)' })
    .option('warmup-requests', { type: 'number', describe: `mixed requests that warm each system up after it starts (default ${WARMUP_REQUESTS}, --quick 2000)` })
    .option('teas', { type: 'string', describe: 'tea counts of the scale phase, comma-separated (default 10000,100000; --quick 1000,2000)' })
    .option('teas-1m', { type: 'boolean', default: false, describe: 'add 1,000,000 teas to the scale phase' })
    .option('only', { type: 'string', describe: `phases to run, comma-separated: ${PHASES.join(', ')} (default all)` })
    .option('http-client', { type: 'string', default: DEFAULT_HTTP_CLIENT, choices: kinds, describe: `the baseline LB's client to its DBs; keep the default (${DEFAULT_HTTP_CLIENT}), which the store's servers use, for a fair comparison` })
    .option('quick', { type: 'boolean', default: false, describe: 'smoke check: 1 s phases, 0.5 s warm-up, 1k and 2k teas' })
    .option('profile', { type: 'string', describe: "store roles to CPU-profile (node --cpu-prof): any of db, lb, q, comma-separated; profiles under var/bench/profiles/" })
    .option('node-options', { type: 'string', default: '', describe: "extra NODE_OPTIONS for the store's DB and LB processes" })
    .check((x) => {
      for (const k of ['ndb', 'digest-length', 'concurrency'] as const) {
        if (!Number.isInteger(x[k]) || (x[k] as number) < 1) throw new Error(`--${k} must be an integer >= 1`);
      }
      if (x.ndb > MAX_NDB) throw new Error(`--ndb must be at most ${MAX_NDB}`);
      if (x.duration !== undefined && !(x.duration > 0)) throw new Error('--duration must be > 0');
      if (x.warmup !== undefined && !(x.warmup >= 0)) throw new Error('--warmup must be >= 0');
      if (x['warmup-requests'] !== undefined && !(Number.isInteger(x['warmup-requests']) && x['warmup-requests'] >= 0)) throw new Error('--warmup-requests must be an integer >= 0');
      return true;
    })
    .strict()
    .help()
    .parseSync();
  const phases = a.only ? a.only.split(',').map((p) => p.trim()).filter(Boolean) : [...PHASES];
  for (const p of phases) if (!(PHASES as readonly string[]).includes(p)) throw new Error(`--only: unknown phase ${JSON.stringify(p)}; one of ${PHASES.join(', ')}`);
  let teas = a.teas ? a.teas.split(',').map((t) => Number(t.trim())) : a.quick ? [1000, 2000] : [10_000, 100_000];
  if (a['teas-1m']) teas.push(1_000_000);
  teas = [...new Set(teas)].sort((x, y) => x - y);
  for (const t of teas) if (!Number.isInteger(t) || t < 1) throw new Error(`--teas: ${t} is not a positive integer`);
  const profile = a.profile ? a.profile.split(',').map((p) => p.trim()) : [];
  for (const p of profile) if (!['db', 'lb', 'q'].includes(p)) throw new Error(`--profile: ${JSON.stringify(p)} is not db, lb or q`);
  return {
    ndb: a.ndb,
    digestLength: a['digest-length'],
    concurrency: a.concurrency,
    duration: a.duration ?? (a.quick ? 1 : 5),
    warmup: a.warmup ?? (a.quick ? 0.5 : 1),
    warmupRequests: a['warmup-requests'] ?? (a.quick ? 2000 : WARMUP_REQUESTS),
    teas,
    phases,
    httpClient: a['http-client'],
    quick: a.quick,
    profile,
    nodeOptions: a['node-options'],
  };
}
