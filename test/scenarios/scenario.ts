/** What a scenario is and what it gets to work with. */
import Redis from 'ioredis';
import { ServerSettings } from '../../tools/cluster/cluster';
import { Clock } from '../../lib/core/clock';
import { Ring } from '../../lib/core/ring';
import { canonicalVersions } from '../../lib/core/versions';
import { parseVersions } from '../../lib/core/wire';
import { QueueClient, Reading, StoreClient } from './client';

/** A scenario's server settings; what it leaves out comes from config.json. */
export type Settings = ServerSettings;

export interface World {
  ndb: number;
  ring: Ring;
  lb: StoreClient;
  db(i: number): StoreClient;
  redis(i: number): Redis;
  queue: QueueClient;
  /** Where the servers listen. */
  host: string;
  /** config.json's flush-after-ms: the time after which the background moves gossip. */
  flushAfterMs: number;
  /** The original harness's restart between scenarios (tools/cluster/cluster.ts), with these settings. */
  restart(settings?: Settings): Promise<void>;
  /** The log file of DB i. */
  dbLog(i: number): string;
  /** Record one check; the runner prints it and counts it. */
  check(what: string, ok: boolean, detail?: string): boolean;
}

export interface Scenario {
  name: string;
  about: string;
  settings: Settings;
  /** Scenarios that need several DBs are skipped, and say so, below this. */
  minNdb?: number;
  run(world: World): Promise<void>;
}

/** `count` tea names whose primary is `db`, found by trying names in order. */
export function teasOn(ring: Ring, db: number, count: number, prefix = 'tea'): string[] {
  const teas: string[] = [];
  for (let n = 0; teas.length < count; n++) {
    const tea = `${prefix}-${n}`;
    if (ring.primaryOf(tea) === db) teas.push(tea);
  }
  return teas;
}

/** A reading as an order-free set, for comparing replicas. */
export function canonical(reading: Reading): string {
  const versions = parseVersions(reading.choices, reading.clocks);
  if (!versions.ok) return `invalid: ${versions.error}`;
  return JSON.stringify([reading.rating, canonicalVersions({ versions: versions.value, tombstone: null })]);
}

export function show(reading: Reading): string {
  return JSON.stringify(reading);
}

export function clock(entries: Record<string, number>): Clock {
  return entries;
}
