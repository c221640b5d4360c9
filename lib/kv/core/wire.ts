/**
 * The shapes of what nodes send each other, and strict parsers for them: a
 * peer is another process, so what it sends is checked like a client's
 * input (bounded sizes, no prototype keys, a clear message when wrong).
 */
import { Clock } from '../../core/clock';
import { Words } from '../../core/antiEntropy';
import { isAddress } from './address';
import { Parsed, clockJson, parseClock } from './context';
import { KV_LIMITS } from './limits';
import { MemberEntry, parseMembership } from './membership';
import { ReplicatedWrite } from './outbox';
import { KvVersion, VersionSet } from './versions';

export interface VersionJson {
  deleted?: true;
  value?: unknown;
  clock: Record<string, number>;
  timestamp: number;
  origin: string;
}

export interface EntryJson {
  key: string;
  versions: VersionJson[];
}

export interface ProbeMessage {
  from: string;
  incarnation: number;
  ready: boolean;
  applied: Record<string, number>;
  membership: MemberEntry[];
  /** The sender's shard layout (core/shardMap.ts), parsed by whoever adopts it. */
  layout: object | null;
}

export interface SumsReply {
  from: string;
  sums: Words[];
  /** The peer's applied clock when it computed the sums. */
  applied: Record<string, number>;
}

export interface KeyEntryParsed {
  key: string;
  versions: VersionSet;
}

const maxKeyLength = Math.max(KV_LIMITS.keyLength000, KV_LIMITS.keyLength003);

export function versionJson(v: KvVersion): VersionJson {
  const out: VersionJson = { clock: clockJson(v.clock), timestamp: v.timestamp, origin: v.origin };
  if (v.deleted) out.deleted = true;
  else out.value = v.value;
  return out;
}

export function entryJson(key: string, versions: VersionSet): EntryJson {
  return { key, versions: versions.map(versionJson) };
}

function fail<T>(error: string): Parsed<T> {
  return { ok: false, error };
}

export function parseKey(raw: unknown): Parsed<string> {
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > maxKeyLength) return fail(`a key must be a string of 1 to ${maxKeyLength} characters`);
  return { ok: true, value: raw };
}

export function parseVersion(raw: unknown): Parsed<KvVersion> {
  if (raw === null || typeof raw !== 'object') return fail('a version must be an object');
  const v = raw as Record<string, unknown>;
  const clock = parseClock(v.clock, 'a version clock');
  if (!clock.ok) return clock;
  if (Object.keys(clock.value).length === 0) return fail('a version clock must not be empty');
  if (typeof v.timestamp !== 'number' || !Number.isSafeInteger(v.timestamp) || v.timestamp < 0) return fail('a version timestamp must be a non-negative integer');
  if (!isAddress(v.origin)) return fail('a version origin must be a node address');
  const deleted = v.deleted === true;
  if (!deleted && !Object.hasOwn(v, 'value')) return fail('a version without a value must be deleted');
  return { ok: true, value: { deleted, value: deleted ? undefined : v.value, clock: clock.value, timestamp: v.timestamp, origin: v.origin as string } };
}

export function parseVersions(raw: unknown): Parsed<KvVersion[]> {
  if (!Array.isArray(raw) || raw.length > KV_LIMITS.versionsPerKey) return fail(`versions must be an array of at most ${KV_LIMITS.versionsPerKey}`);
  const out: KvVersion[] = [];
  for (const item of raw) {
    const v = parseVersion(item);
    if (!v.ok) return v;
    out.push(v.value);
  }
  return { ok: true, value: out };
}

export function parseEntry(raw: unknown): Parsed<KeyEntryParsed> {
  const e = raw as Record<string, unknown> | null;
  if (e === null || typeof e !== 'object') return fail('an entry must be an object');
  const key = parseKey(e.key);
  if (!key.ok) return key;
  const versions = parseVersions(e.versions);
  if (!versions.ok) return versions;
  return { ok: true, value: { key: key.value, versions: versions.value } };
}

export function parseWrite(raw: unknown): Parsed<ReplicatedWrite> {
  const w = raw as Record<string, unknown> | null;
  if (w === null || typeof w !== 'object') return fail('a write must be an object');
  if (!Number.isSafeInteger(w.seq) || (w.seq as number) < 1) return fail('a write seq must be a positive integer');
  if (w.prev !== null && (!Number.isSafeInteger(w.prev) || (w.prev as number) < 0)) return fail('a write prev must be null or a non-negative integer');
  const key = parseKey(w.key);
  if (!key.ok) return key;
  const version = parseVersion(w.version);
  if (!version.ok) return version;
  return { ok: true, value: { seq: w.seq as number, prev: w.prev as number | null, key: key.value, version: version.value } };
}

export function writeJson(w: ReplicatedWrite): object {
  return { seq: w.seq, prev: w.prev, key: w.key, version: versionJson(w.version) };
}

export function parseProbe(raw: unknown): Parsed<{ from: string; incarnation: number; ready: boolean; applied: Clock; membership: MemberEntry[]; layout: unknown }> {
  const p = raw as Record<string, unknown> | null;
  if (p === null || typeof p !== 'object') return fail('a probe must be an object');
  if (!isAddress(p.from)) return fail('a probe must say whom it is from');
  if (!Number.isSafeInteger(p.incarnation)) return fail('a probe incarnation must be an integer');
  if (typeof p.ready !== 'boolean') return fail('a probe must say whether its node is ready');
  const applied = parseClock(p.applied, 'a probe applied clock');
  if (!applied.ok) return applied;
  const membership = parseMembership(p.membership, isAddress);
  if (typeof membership === 'string') return fail(membership);
  return { ok: true, value: { from: p.from as string, incarnation: p.incarnation as number, ready: p.ready, applied: applied.value, membership, layout: p.layout } };
}

export function parseSums(raw: unknown, buckets: number): Parsed<{ from: string; sums: Words[]; applied: Clock }> {
  const s = raw as Record<string, unknown> | null;
  if (s === null || typeof s !== 'object' || !Array.isArray(s.sums) || s.sums.length !== buckets) return fail(`sums must be ${buckets} pairs`);
  for (const pair of s.sums as unknown[]) {
    if (!Array.isArray(pair) || pair.length !== 2 || !pair.every((n) => Number.isSafeInteger(n))) return fail('a bucket sum must be two integers');
  }
  const applied = parseClock(s.applied, 'an applied clock');
  if (!applied.ok) return applied;
  if (!isAddress(s.from)) return fail('sums must say whom they are from');
  return { ok: true, value: { from: s.from as string, sums: s.sums as Words[], applied: applied.value } };
}
