/**
 * Causal contexts: vector clocks over node addresses (lib/core/clock), where
 * `{A: s}` means "every write node A accepted, up to its sequence number s".
 * A client's context is the join of the versions it has seen; a node may
 * answer it once its own applied clock covers it. Contexts come from clients
 * and peers as JSON, so parsing is strict and bounded.
 */
import { Clock, join, leq, makeClock } from '../../core/clock';
import { isAddress } from './address';
import { KV_LIMITS } from './limits';

export type Context = Clock;

export const EMPTY_CONTEXT: Context = Object.freeze(makeClock());

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

/** A clock from parsed JSON: an object of `host:port` to a non-negative safe integer. */
export function parseClock(raw: unknown, what = 'clock'): Parsed<Clock> {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return { ok: false, error: `${what} must be a JSON object` };
  const entries = Object.entries(raw as Record<string, unknown>);
  if (entries.length > KV_LIMITS.clockEntries) return { ok: false, error: `${what} has more than ${KV_LIMITS.clockEntries} entries` };
  const out: [string, number][] = [];
  for (const [id, n] of entries) {
    if (!isAddress(id)) return { ok: false, error: `${what} has an entry ${JSON.stringify(String(id).slice(0, 80))} that is not a node address` };
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
      return { ok: false, error: `${what} entry ${JSON.stringify(id)} must be a non-negative integer` };
    }
    if (n > 0) out.push([id, n]);
  }
  return { ok: true, value: makeClock(out) };
}

/** The clock as a plain JSON object with its entries in address order, so equal clocks print the same. */
export function clockJson(clock: Clock): Record<string, number> {
  const out: Record<string, number> = {};
  for (const id of Object.keys(clock).sort()) if (clock[id] > 0) out[id] = clock[id];
  return out;
}

/**
 * True when `applied` holds everything `context` asks for among the origins
 * `relevant` says this node must hold (every origin with full replication;
 * a shard's own members once shards exist).
 */
export function covers(applied: Clock, context: Context, relevant: (origin: string) => boolean = () => true): boolean {
  for (const id of Object.keys(context)) {
    if (!relevant(id)) continue;
    if (context[id] > (Object.hasOwn(applied, id) ? applied[id] : 0)) return false;
  }
  return true;
}

/** The origins of `context` that `applied` is behind on. */
export function missingOrigins(applied: Clock, context: Context): string[] {
  return Object.keys(context).filter((id) => context[id] > (Object.hasOwn(applied, id) ? applied[id] : 0));
}

export { join, leq };
