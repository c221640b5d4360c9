/**
 * What issue 16's checks cost on the write path, per operation, measured in
 * this process: the limits check of a client's write (checkWrite after
 * mergeVersion) and the stricter reading of each gossip tuple (primary,
 * tombstone and weight checks beside what was checked before).
 *
 *   node dist/bench/limitsCost.js
 */
import { makeClock } from '../lib/core/clock';
import { LIMITS } from '../lib/core/limits';
import { EMPTY, TeaState, Version, mergeVersion } from '../lib/core/versions';
import { checkWrite } from '../lib/core/weight';
import { checkTeaName, parseTuple, parseVersions, tupleOf, tupleText } from '../lib/core/wire';

/** Nanoseconds per call of fn, best of 5 runs of n calls. */
function nsPerOp(n: number, fn: (k: number) => unknown): number {
  let best = Infinity;
  for (let run = 0; run < 5; run++) {
    const start = process.hrtime.bigint();
    for (let k = 0; k < n; k++) fn(k);
    best = Math.min(best, Number(process.hrtime.bigint() - start) / n);
  }
  return best;
}

function stateWith(versions: number, entries: number): TeaState {
  let s: TeaState = EMPTY;
  for (let v = 0; v < versions; v++) s = mergeVersion(s, { choice: v, clock: makeClock(Array.from({ length: entries }, (_, e) => [`client-${v}-${e}`, 1] as const)) });
  return s;
}

const N = 200_000;
const rows: string[][] = [['state (versions x entries)', 'merge (ns)', 'merge + checkWrite', 'tuple read as before', 'tuple read now']];
for (const [versions, entries] of [[1, 1], [3, 3], [LIMITS.tea.versions, 1], [1, LIMITS.clockEntries]]) {
  const state = stateWith(versions, entries);
  // A fresh version each time, as each write brings (a new clock object, weighed once).
  const incoming = Array.from({ length: 1024 }, (_, k): Version => ({ choice: k, clock: makeClock([['client-0-0', k + 2]]) }));
  const merge = nsPerOp(N / Math.max(1, versions * entries / 8), (k) => mergeVersion(state, incoming[k % 1024]));
  const both = nsPerOp(N / Math.max(1, versions * entries / 8), (k) => {
    const after = mergeVersion(state, incoming[k % 1024]);
    return checkWrite(state, after, LIMITS.tea);
  });
  const text = tupleText('db1', 'oolong', state);
  // As the DB read a tuple before issue 16: the versions parsed, the name checked, no primary, tombstone or weight check.
  const before = nsPerOp(N / Math.max(1, versions * entries / 8), () => {
    const x = JSON.parse(text);
    const vs = parseVersions(x.choices, x.clocks);
    return vs.ok && checkTeaName(x.key) === null && tupleOf(x.primary, x.key, { versions: vs.value, tombstone: null });
  });
  const strict = nsPerOp(N / Math.max(1, versions * entries / 8), () => parseTuple(JSON.parse(text), 4));
  rows.push([`${versions} x ${entries}`, merge.toFixed(0), both.toFixed(0), before.toFixed(0), strict.toFixed(0)]);
}
for (const r of rows) console.log(r.map((c) => c.padStart(26)).join(''));
console.log('(nanoseconds per operation, best of 5; a PUT costs the cluster about 1,000,000 ns of CPU in all: README, Performance)');
