/**
 * A client's key operation as the core sees it, whatever door it came
 * through, and its outcome. Doors translate HTTP to an Op and an OpResult back
 * to their own status codes, messages and context encoding.
 */
import { Clock } from '../../core/clock';
import { Parsed, clockJson, parseClock } from './context';
import { parseKey } from './wire';
import { Value } from './versions';

export type Op =
  | { kind: 'get' | 'exists' | 'delete'; key: string; context: Clock }
  | { kind: 'put'; key: string; value: Value; context: Clock };

export interface OpResult {
  /** get, exists, delete: the key had a live value. put: always true. */
  found: boolean;
  /** put: the key had a live value before. */
  replaced: boolean;
  /** get: the value read. */
  value?: Value;
  /** The context to hand back: the client's joined with the version read or written. */
  context: Clock;
  /** get: the clock of the version read, as the PUT that wrote it returned it (null when none was read). */
  versionClock: Clock | null;
  /** The node held everything the request's context names when it answered. */
  caughtUp: boolean;
  /** The shard the key lives on. */
  shardId: number;
}

export function opJson(op: Op): object {
  return { ...op, context: clockJson(op.context) };
}

export function parseOp(raw: unknown): Parsed<Op> {
  const o = raw as Record<string, unknown> | null;
  if (o === null || typeof o !== 'object') return { ok: false, error: 'an operation must be an object' };
  const key = parseKey(o.key);
  if (!key.ok) return key;
  const context = parseClock(o.context, 'context');
  if (!context.ok) return context;
  if (o.kind === 'put') {
    if (!Object.hasOwn(o, 'value') || o.value === undefined) return { ok: false, error: 'a put needs a value' };
    return { ok: true, value: { kind: 'put', key: key.value, value: o.value, context: context.value } };
  }
  if (o.kind === 'get' || o.kind === 'exists' || o.kind === 'delete') return { ok: true, value: { kind: o.kind, key: key.value, context: context.value } };
  return { ok: false, error: 'an operation kind must be get, exists, put or delete' };
}

export function resultJson(r: OpResult): object {
  return { ...r, context: clockJson(r.context), versionClock: r.versionClock && clockJson(r.versionClock) };
}

export function parseResult(raw: unknown): Parsed<OpResult> {
  const r = raw as Record<string, unknown> | null;
  if (
    r === null || typeof r !== 'object' || typeof r.found !== 'boolean' || typeof r.replaced !== 'boolean' || typeof r.caughtUp !== 'boolean' ||
    !Number.isSafeInteger(r.shardId)
  ) {
    return { ok: false, error: 'a forwarded result is malformed' };
  }
  const context = parseClock(r.context, 'context');
  if (!context.ok) return context;
  const versionClock = r.versionClock === null ? null : parseClock(r.versionClock, 'versionClock');
  if (versionClock !== null && !versionClock.ok) return versionClock;
  return {
    ok: true,
    value: { found: r.found, replaced: r.replaced, value: r.value, context: context.value, versionClock: versionClock && versionClock.value, caughtUp: r.caughtUp, shardId: r.shardId as number },
  };
}
