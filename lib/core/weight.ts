/**
 * How big a tea's state is, in the units of its limits (core/limits.ts):
 * versions, clock entries (the tombstone's included) and characters of its
 * stored JSON (choices, clocks, tombstone: exactly the lengths of
 * storedFormOf's texts). A clock's and a version's weights are remembered
 * (they are immutable and shared by every state that holds them), so
 * weighing a state costs one step per version, not a pass over its clocks:
 * it runs on every write and every gossip merge.
 */
import type { Clock } from './clock';
import type { TeaLimits } from './limits';
import type { TeaState, Version } from './versions';

export interface Weight {
  versions: number;
  clockEntries: number;
  chars: number;
}

interface Part {
  entries: number;
  chars: number;
}

const clockParts = new WeakMap<Clock, Part>();
const versionParts = new WeakMap<Version, Part>();

/** Characters needing an escape in JSON, or a surrogate (a lone one is escaped): such ids are measured by JSON.stringify. */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

function quotedLength(id: string): number {
  return NEEDS_ESCAPE.test(id) ? JSON.stringify(id).length : id.length + 2;
}

/** Entries of a clock and the length of its JSON text. */
export function clockPart(clock: Clock): Part {
  const known = clockParts.get(clock);
  if (known !== undefined) return known;
  const ids = Object.keys(clock);
  let chars = ids.length === 0 ? 2 : 1 + ids.length; // braces, and a colon or comma per entry less one
  for (const id of ids) chars += quotedLength(id) + 1 + String(clock[id]).length;
  const part = { entries: ids.length, chars: ids.length === 0 ? 2 : chars };
  clockParts.set(clock, part);
  return part;
}

/** A version's clock entries, and its share of the stored choices and clocks texts (a comma each included). */
function versionPart(version: Version): Part {
  const known = versionParts.get(version);
  if (known !== undefined) return known;
  const clock = clockPart(version.clock);
  const part = { entries: clock.entries, chars: clock.chars + String(version.choice).length + 2 };
  versionParts.set(version, part);
  return part;
}

export function weigh(state: TeaState): Weight {
  let clockEntries = 0;
  let chars = 0;
  for (const v of state.versions) {
    const part = versionPart(v);
    clockEntries += part.entries;
    chars += part.chars;
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
