/** Shared arbitraries and comparisons for the unit tests (not a test file itself). */
import fc from 'fast-check';
import { Clock, canonicalKey, makeClock } from '../../lib/core/clock';
import { EMPTY, TeaState, Version, canonicalVersions, mergeTombstone, mergeVersion, rating } from '../../lib/core/versions';

/** A small id alphabet and small counters, so equal, dominated and concurrent clocks are all frequent. */
export const IDS = ['c0', 'c1', 'c2', 'c3'] as const;
export const HOSTILE_IDS = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'c0'] as const;

export function clockArb(ids: readonly string[] = IDS, maxCounter = 3): fc.Arbitrary<Clock> {
  return fc
    .array(fc.tuple(fc.constantFrom(...ids), fc.integer({ min: 0, max: maxCounter })), { maxLength: ids.length + 1 })
    .map((entries) => makeClock(entries));
}

/**
 * A clock over the hostile ids, built the way a client's JSON arrives: by
 * JSON.parse, so `__proto__` is an own key of an ordinary object.
 */
export function jsonClockArb(ids: readonly string[] = HOSTILE_IDS, maxCounter = 3): fc.Arbitrary<Clock> {
  return fc
    .dictionary(fc.constantFrom(...ids), fc.integer({ min: 0, max: maxCounter }), { maxKeys: ids.length })
    .map((d) => JSON.parse(JSON.stringify(Object.fromEntries(Object.entries(d)))) as Clock);
}

/** Clocks over ordinary and hostile ids, built both with makeClock and by JSON.parse. */
export const anyClockArb: fc.Arbitrary<Clock> = fc.oneof(clockArb(), clockArb([...IDS, ...HOSTILE_IDS]), jsonClockArb());

/** A clock from JSON text, as a client sends it. */
export function fromJson(text: string): Clock {
  return JSON.parse(text) as Clock;
}

/** A version from a choice and its clock as JSON text: v(3, '{"a":1}'). */
export const v = (choice: number, clock: string): Version => ({ choice, clock: fromJson(clock) });

/** The choices a state holds, in the order it holds them. */
export const choices = (s: TeaState) => s.versions.map((x) => x.choice);

export const smallChoiceArb = fc.integer({ min: 0, max: 4 });
export const finiteDoubleArb = fc.double({ noNaN: true, noDefaultInfinity: true });
export const choiceArb = fc.oneof(smallChoiceArb, finiteDoubleArb);

export function versionArb(choice: fc.Arbitrary<number> = choiceArb): fc.Arbitrary<Version> {
  return fc.record({ choice, clock: clockArb() });
}

/** One thing a replica can receive: a version, or a tombstone (the clock of a deletion). */
export type Op = { kind: 'version'; version: Version } | { kind: 'tombstone'; tombstone: Clock };

export function opArb(choice: fc.Arbitrary<number> = choiceArb): fc.Arbitrary<Op> {
  return fc.oneof(
    { weight: 4, arbitrary: versionArb(choice).map((version) => ({ kind: 'version' as const, version })) },
    { weight: 1, arbitrary: clockArb().map((tombstone) => ({ kind: 'tombstone' as const, tombstone })) },
  );
}

export function applyOp(state: TeaState, op: Op): TeaState {
  return op.kind === 'version' ? mergeVersion(state, op.version) : mergeTombstone(state, op.tombstone);
}

export function applyAll(ops: readonly Op[], from: TeaState = EMPTY): TeaState {
  return ops.reduce(applyOp, from);
}

/** A state reached by merging arbitrary versions and tombstones. */
export function stateArb(choice: fc.Arbitrary<number> = choiceArb): fc.Arbitrary<TeaState> {
  return fc.array(opArb(choice), { maxLength: 8 }).map((ops) => applyAll(ops));
}

/** Everything that must agree between two replicas holding "the same" state. */
export function canonical(state: TeaState): string {
  return JSON.stringify({
    versions: canonicalVersions(state),
    tombstone: state.tombstone === null ? null : canonicalKey(state.tombstone),
  });
}

/** Same canonical state and a bit-for-bit identical rating. */
export function sameState(a: TeaState, b: TeaState): boolean {
  return canonical(a) === canonical(b) && Object.is(rating(a), rating(b));
}

/** A small deterministic PRNG (mulberry32), so generated data is the same on every run. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A promise with its resolve and reject exposed. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Let every queued microtask and immediate run. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
