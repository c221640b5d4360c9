/**
 * The JSON shapes of the contract (docs/protocol.md), validated. Everything that crosses a process
 * boundary (a client's PUT body, a gossip message read from the queue, a
 * value read back from Redis) comes through here, so no malformed or hostile
 * value reaches the merge.
 */
import { Clock, makeClock } from './clock';
import { LIMITS } from './limits';
import { isDbName } from './ring';
import { overLimit, weigh } from './weight';
import { utf8Length } from './utf8';
import { TeaState, Version, rating } from './versions';

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const fail = <T>(error: string): Parsed<T> => ({ ok: false, error });

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** A clock: at most `maxEntries` entries (a client's clock; a tombstone, the join of many, may have more). */
export function parseClock(x: unknown, what = 'clock', maxEntries: number = LIMITS.clockEntries): Parsed<Clock> {
  if (!isPlainObject(x)) return fail(`${what} must be an object of client id to counter`);
  const ids = Object.keys(x);
  if (ids.length > maxEntries) return fail(`${what} has ${ids.length} entries; at most ${maxEntries}`);
  const entries: [string, number][] = [];
  for (const id of ids) {
    if (id.length === 0 || id.length > LIMITS.clientIdLength) {
      return fail(`${what} client ids must be 1 to ${LIMITS.clientIdLength} characters`);
    }
    const n = x[id];
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
      return fail(`${what} counter for ${JSON.stringify(id)} must be an integer >= 0`);
    }
    entries.push([id, n]);
  }
  return ok(makeClock(entries));
}

function parseChoice(x: unknown, what: string): Parsed<number> {
  if (typeof x !== 'number' || !Number.isFinite(x)) return fail(`${what} must be a finite number`);
  return ok(x);
}

/** A client's write: `{"rating": <number>, "clock": {...}}`. */
export function parseWrite(body: unknown): Parsed<Version> {
  if (!isPlainObject(body)) return fail('body must be a JSON object {"rating": <number>, "clock": {...}}');
  if (!('rating' in body)) return fail('rating is missing');
  const choice = parseChoice(body.rating, 'rating');
  if (!choice.ok) return choice;
  if (!('clock' in body)) return fail('clock is missing');
  const clock = parseClock(body.clock);
  if (!clock.ok) return clock;
  return ok({ choice: choice.value, clock: clock.value });
}

/** Parallel `choices` and `clocks` arrays, as in a GET response, a gossip tuple or Redis. */
export function parseVersions(choices: unknown, clocks: unknown): Parsed<Version[]> {
  if (!Array.isArray(choices) || !Array.isArray(clocks)) return fail('choices and clocks must be arrays');
  if (choices.length !== clocks.length) return fail('choices and clocks must have the same length');
  if (choices.length > LIMITS.replicaTea.versions) return fail(`at most ${LIMITS.replicaTea.versions} versions`);
  const versions: Version[] = [];
  for (let k = 0; k < choices.length; k++) {
    const choice = parseChoice(choices[k], `choices[${k}]`);
    if (!choice.ok) return choice;
    const clock = parseClock(clocks[k], `clocks[${k}]`);
    if (!clock.ok) return clock;
    versions.push({ choice: choice.value, clock: clock.value });
  }
  return ok(versions);
}

/**
 * A tea's state as a replica holds it (read back from storage, or carried by
 * gossip or anti-entropy): within the replica limits, so that nothing a
 * reader accepts can cost it more than they allow.
 */
export function parseState(choices: unknown, clocks: unknown, tombstone: unknown): Parsed<TeaState> {
  const versions = parseVersions(choices, clocks);
  if (!versions.ok) return versions;
  let tomb: Clock | null = null;
  if (tombstone !== undefined && tombstone !== null) {
    const parsed = parseClock(tombstone, 'tombstone', LIMITS.replicaTea.clockEntries);
    if (!parsed.ok) return parsed;
    tomb = parsed.value;
  }
  const state: TeaState = { versions: versions.value, tombstone: tomb };
  const over = overLimit(weigh(state), LIMITS.replicaTea);
  return over === null ? ok(state) : fail(`the tea holds ${over}`);
}

/** What GET answers: `{"rating", "choices", "clocks"}`. */
export interface RatingView {
  rating: number;
  choices: number[];
  clocks: Clock[];
}

export function viewOf(state: TeaState): RatingView {
  return {
    rating: rating(state),
    choices: state.versions.map((v) => v.choice),
    clocks: state.versions.map((v) => v.clock),
  };
}

/**
 * A gossip message: the contract's `{"primary", "key", "rating", "choices",
 * "clocks"}`, plus `tombstone` when the tea has been deleted, so deletions
 * travel the ring the same way writes do.
 */
export interface GossipTuple extends RatingView {
  primary: string;
  key: string;
  tombstone?: Clock;
}

export function tupleOf(primary: string, key: string, state: TeaState): GossipTuple {
  const tuple: GossipTuple = { primary, key, ...viewOf(state) };
  if (state.tombstone !== null) tuple.tombstone = state.tombstone;
  return tuple;
}

/** A gossip message as what it carries: its primary, its tea and the state, validated. */
export interface TupleState {
  primary: string;
  key: string;
  state: TeaState;
}

/**
 * A gossip tuple (or an anti-entropy entry), as strictly as a client's
 * write: the primary a DB of the ring (db0..db<ndb-1>), the key a tea name
 * the API accepts, the state within the replica limits. Gives the state the
 * merge needs, without building the tuple again.
 */
export function parseTupleState(x: unknown, ndb: number): Parsed<TupleState> {
  if (!isPlainObject(x)) return fail('gossip message must be an object');
  if (typeof x.primary !== 'string' || !isDbName(x.primary, ndb)) return fail(`gossip primary must name a DB, db0..db${ndb - 1}`);
  if (typeof x.key !== 'string') return fail('gossip key must be a string');
  const badName = checkTeaName(x.key);
  if (badName !== null) return fail(`gossip key: ${badName}`);
  const state = parseState(x.choices, x.clocks, x.tombstone);
  if (!state.ok) return state;
  return ok({ primary: x.primary, key: x.key, state: state.value });
}

export function parseTuple(x: unknown, ndb: number): Parsed<GossipTuple> {
  const parsed = parseTupleState(x, ndb);
  return parsed.ok ? ok(tupleOf(parsed.value.primary, parsed.value.key, parsed.value.state)) : parsed;
}

/** The state a tuple carries. */
export function stateOfTuple(tuple: GossipTuple): TeaState {
  return {
    versions: tuple.choices.map((choice, k) => ({ choice, clock: tuple.clocks[k] })),
    tombstone: tuple.tombstone ?? null,
  };
}

/**
 * A tea name from the URL: non-empty, at most LIMITS.teaNameBytes of UTF-8,
 * and not "." or "..": URL parsers (the LB's HTTP client among them) remove
 * those segments, even percent-encoded, so such a tea could never be
 * forwarded to its DB.
 */
export function checkTeaName(name: string): string | null {
  if (name.length === 0) return 'tea name is empty';
  if (name === '.' || name === '..') return `tea name cannot be ${JSON.stringify(name)}`;
  if (utf8Length(name) > LIMITS.teaNameBytes) return `tea name is longer than ${LIMITS.teaNameBytes} bytes`;
  return null;
}

/** A tea's state as stored and sent: its JSON parts, '' for what it does not have. */
export interface StoredForm {
  rating: string;
  choices: string;
  clocks: string;
  tombstone: string;
}

/** Computed once per state (states are immutable): a write stores it and sends it in its tuple. */
const storedForms = new WeakMap<TeaState, StoredForm>();

export function storedFormOf(state: TeaState): StoredForm {
  const known = storedForms.get(state);
  if (known !== undefined) return known;
  const tombstone = state.tombstone ? JSON.stringify(state.tombstone) : '';
  const form: StoredForm =
    state.versions.length === 0
      ? { rating: '', choices: '', clocks: '', tombstone }
      : {
          rating: JSON.stringify(rating(state)),
          choices: JSON.stringify(state.versions.map((v) => v.choice)),
          clocks: JSON.stringify(state.versions.map((v) => v.clock)),
          tombstone,
        };
  storedForms.set(state, form);
  return form;
}

/** The JSON text of tupleOf(primary, key, state), built from the stored form rather than serialised again. */
export function tupleText(primary: string, key: string, state: TeaState): string {
  const f = storedFormOf(state);
  const body = f.clocks === '' ? '"rating":0,"choices":[],"clocks":[]' : `"rating":${f.rating},"choices":${f.choices},"clocks":${f.clocks}`;
  return `{"primary":${JSON.stringify(primary)},"key":${JSON.stringify(key)},${body}${f.tombstone === '' ? '' : `,"tombstone":${f.tombstone}`}}`;
}
