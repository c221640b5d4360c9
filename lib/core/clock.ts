/**
 * Vector clocks: a map from client id to a non-negative integer counter.
 *
 * Clocks arrive from clients as JSON, so an id may be any string, including
 * `__proto__` or `constructor`. Every clock built here therefore has a null
 * prototype, and lookups go through `Object.hasOwn`, so no id can reach
 * Object.prototype.
 */
export type Clock = Readonly<Record<string, number>>;

export type Order = 'before' | 'after' | 'equal' | 'concurrent';

/** A fresh clock with a null prototype; entries are copied as own properties. */
export function makeClock(entries: Iterable<readonly [string, number]> = []): Clock {
  const clock: Record<string, number> = Object.create(null);
  for (const [id, n] of entries) clock[id] = n;
  return clock;
}

/** The counter of `id` in `clock`; a missing counter is 0. */
export function counter(clock: Clock, id: string): number {
  return Object.hasOwn(clock, id) ? clock[id] : 0;
}

/** `a <= b`: every counter of a is at most the same counter of b. */
export function leq(a: Clock, b: Clock): boolean {
  for (const id of Object.keys(a)) {
    if (a[id] > counter(b, id)) return false;
  }
  return true;
}

/** How `a` stands against `b`: before (a < b), after (a > b), equal or concurrent. */
export function compare(a: Clock, b: Clock): Order {
  const aLeqB = leq(a, b);
  const bLeqA = leq(b, a);
  if (aLeqB && bLeqA) return 'equal';
  if (aLeqB) return 'before';
  if (bLeqA) return 'after';
  return 'concurrent';
}

export function equal(a: Clock, b: Clock): boolean {
  return compare(a, b) === 'equal';
}

/** `a < b`: a <= b and a != b. */
export function lt(a: Clock, b: Clock): boolean {
  return compare(a, b) === 'before';
}

export function concurrent(a: Clock, b: Clock): boolean {
  return compare(a, b) === 'concurrent';
}

/** Element-wise maximum: the least clock that is >= both. */
export function join(a: Clock, b: Clock): Clock {
  const out: Record<string, number> = Object.create(null);
  for (const id of Object.keys(a)) out[id] = a[id];
  for (const id of Object.keys(b)) out[id] = Math.max(counter(out, id), b[id]);
  return out;
}

/** A string that is the same for clocks with the same non-zero counters, whatever their key order. */
export function canonicalKey(clock: Clock): string {
  const ids = Object.keys(clock);
  // Most clocks have one entry (a client's own counter): spare the general path's arrays,
  // which ran for every version of every tea written (anti-entropy digests).
  if (ids.length === 1) return clock[ids[0]] === 0 ? '[]' : `[[${JSON.stringify(ids[0])},${JSON.stringify(clock[ids[0]])}]]`;
  const live = ids.filter((id) => clock[id] !== 0).sort();
  return JSON.stringify(live.map((id) => [id, clock[id]]));
}
