/**
 * How big a tea's state is, in the units of its limits (core/limits.ts):
 * versions, clock entries (the tombstone's included) and characters of its
 * stored JSON (choices, clocks, tombstone: exactly the lengths of
 * storedFormOf's texts), by a walk over the clocks' ids that makes no
 * text: it runs on every write and every gossip merge. Large clocks are
 * measured once each (clocks are immutable and shared by every state that
 * holds them); small ones are walked each time, since remembering costs
 * more than that (0.7 us a clock in a WeakMap, most of it the collector's,
 * against 0.1 for the walk).
 */
import type { Clock } from './clock';
import type { TeaLimits } from './limits';
import type { TeaState } from './versions';

export interface Weight {
  versions: number;
  clockEntries: number;
  chars: number;
}

interface Part {
  entries: number;
  chars: number;
}

/** Characters needing an escape in JSON, or a surrogate (a lone one is escaped): such ids are measured by JSON.stringify. */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

function quotedLength(id: string): number {
  return NEEDS_ESCAPE.test(id) ? JSON.stringify(id).length : id.length + 2;
}

/** Digits of a counter (an integer >= 0), without making its string. */
function digits(n: number): number {
  let d = 1;
  while (n >= 10) {
    n = Math.floor(n / 10);
    d++;
  }
  return d;
}

/** Clocks with at least this many entries are measured once each (a walk costs more than remembering). */
const REMEMBER_FROM_ENTRIES = 16;
const clockParts = new WeakMap<Clock, Part>();

/** Entries of a clock and the length of its JSON text. */
export function clockPart(clock: Clock): Part {
  const known = clockParts.get(clock);
  if (known !== undefined) return known;
  const ids = Object.keys(clock);
  if (ids.length === 0) return { entries: 0, chars: 2 };
  let chars = 1 + ids.length; // braces, and a colon or comma per entry less one
  for (const id of ids) chars += quotedLength(id) + 1 + digits(clock[id]);
  const part = { entries: ids.length, chars };
  if (ids.length >= REMEMBER_FROM_ENTRIES) clockParts.set(clock, part);
  return part;
}

export function weigh(state: TeaState): Weight {
  let clockEntries = 0;
  let chars = 0;
  for (const v of state.versions) {
    const part = clockPart(v.clock);
    clockEntries += part.entries;
    // The version's share of the stored choices and clocks texts, a comma each included.
    chars += part.chars + String(v.choice).length + 2;
  }
  // "[a,b]" twice: two brackets each, and one comma fewer than versions each.
  if (state.versions.length > 0) chars += 2;
  if (state.tombstone !== null) {
    const tomb = clockPart(state.tombstone);
    clockEntries += tomb.entries;
    chars += tomb.chars;
  }
  return { versions: state.versions.length, clockEntries, chars };
}

const WHAT: Record<keyof Weight, string> = {
  versions: 'versions (siblings)',
  clockEntries: 'clock entries (its versions\' and its tombstone\'s together)',
  chars: 'characters of stored JSON',
};

/** The first limit `weight` is over, as a sentence; null when within all of them. */
export function overLimit(weight: Weight, limits: TeaLimits): string | null {
  for (const key of Object.keys(WHAT) as (keyof Weight)[]) {
    if (weight[key] > limits[key]) return `${weight[key]} ${WHAT[key]}; at most ${limits[key]}`;
  }
  return null;
}

/** A change to a tea's state that its limits refuse: nothing of it is stored. */
export class LimitError extends Error {
  /** HTTP status: the request is well-formed, but the tea as it stands cannot take it. */
  readonly status = 409;
}

/**
 * Whether a client's write may take a tea from `before` to `after`: within
 * the write limits, or no larger than before in what it is over (so that a
 * write can always shrink a tea that gossip merged beyond them).
 */
export function checkWrite(before: TeaState, after: TeaState, limits: TeaLimits): string | null {
  if (after === before) return null;
  const a = weigh(after);
  const problem = overLimit(a, limits);
  if (problem === null) return null;
  const b = weigh(before);
  const grows = (Object.keys(WHAT) as (keyof Weight)[]).some((k) => a[k] > limits[k] && a[k] > b[k]);
  return grows ? problem : null;
}
