/** The summary table (text), and the figures behind it, from the raw results. */
import type { PhaseResult } from './load';
import type { ClientRow, Results, Row, ScalePoint, Target } from './types';

export const TARGETS = {
  throughputRatio: 0.6,
  getThroughputRatio: 0.8,
  seqPutP50Ratio: 1.5,
  cpuPerPutRatio: 2,
  redisCommandsPerPut: 12,
};

const ratio = (s: number | null | undefined, b: number | null | undefined): number | null =>
  s == null || b == null || !Number.isFinite(s) || !Number.isFinite(b) || b === 0 ? null : s / b;

function row(section: string, metric: string, unit: string, digits: number, s?: number | null, b?: number | null, extra: Partial<Row> = {}): Row {
  return { section, metric, unit, digits, store: s ?? null, baseline: b ?? null, ratio: ratio(s, b), ...extra };
}

function allPhases(r: Results, kind: 'store' | 'baseline'): PhaseResult[] {
  const run = r[kind];
  const list: PhaseResult[] = [];
  if (run) {
    if (run.latency) list.push(run.latency.put, run.latency.getStrong, run.latency.getWeak);
    if (run.throughput?.put) list.push(run.throughput.put);
    if (run.throughput?.get) list.push(run.throughput.get);
    if (run.throughput?.putLongLoad) list.push(run.throughput.putLongLoad);
    for (const p of run.scale ?? []) list.push(p.put, p.get);
  }
  const n1 = kind === 'store' ? r.replication?.storeNdb1 : r.replication?.baselineNdb1;
  if (n1) list.push(n1);
  return list;
}

const cpuPerReq = (p?: PhaseResult) => p?.cpu?.serverUsPerRequest ?? null;

/** Mean CPU the rest of the machine used during a system's measured windows: the noise. */
export function otherCores(r: Results, kind: 'store' | 'baseline'): number | null {
  const xs = allPhases(r, kind).map((p) => p.cpu?.otherCores).filter((x): x is number => x !== undefined && Number.isFinite(x));
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null;
}

/** Above this many cores of other processes' CPU, throughput and latency say more about the neighbours than about the store. */
export const NOISY_CORES = 0.25;

export function errorsOf(r: Results, kind: 'store' | 'baseline'): number {
  return allPhases(r, kind).reduce((n, p) => n + p.errors, 0) + (r[kind]?.warmup.errors ?? 0);
}

const MB = 1024 * 1024;
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

/** Sequential latency: p50 (with its target for PUT), p99, CPU and Redis commands per request. */
function latencyRows(r: Results): Row[] {
  const rows: Row[] = [];
  const { store: s, baseline: b } = r;
  if (s?.latency || b?.latency) {
    const sec = 'sequential latency (c=1)';
    const ops: [string, 'put' | 'getStrong' | 'getWeak'][] = [['PUT', 'put'], ['GET strong', 'getStrong'], ['GET weak', 'getWeak']];
    for (const [name, key] of ops) {
      const sp = s?.latency?.[key];
      const bp = b?.latency?.[key];
      const p50 = row(sec, `${name} p50`, 'ms', 2, sp?.latencyMs.p50, bp?.latencyMs.p50);
      if (key === 'put') {
        p50.target = `<= ${TARGETS.seqPutP50Ratio}x`;
        p50.pass = p50.ratio !== null && p50.ratio <= TARGETS.seqPutP50Ratio;
      }
      rows.push(p50, row(sec, `${name} p99`, 'ms', 2, sp?.latencyMs.p99, bp?.latencyMs.p99));
      if (key === 'put') rows.push(row(sec, `${name} server CPU per request`, 'us', 0, cpuPerReq(sp), cpuPerReq(bp)));
      rows.push(row(sec, `${name} Redis commands per request`, '', 1, sp?.redisCommandsPerRequest, bp?.redisCommandsPerRequest));
    }
  }
  return rows;
}

/** Throughput at c: PUT (with its sustained rate and replication catch-up) and GET, with their targets. */
function throughputRows(r: Results): Row[] {
  const rows: Row[] = [];
  const { store: s, baseline: b } = r;
  const { ndb, concurrency: c } = r.options;
  if (s?.throughput || b?.throughput) {
    const sec = `throughput (c=${c}, ndb ${ndb})`;
    for (const [name, key] of [['PUT', 'put'], ['GET', 'get']] as const) {
      const sp = s?.throughput?.[key];
      const bp = b?.throughput?.[key];
      if (!sp && !bp) continue;
      const want = key === 'get' ? TARGETS.getThroughputRatio : TARGETS.throughputRatio;
      const got = ratio(sp?.throughput, bp?.throughput);
      rows.push(
        row(sec, name, 'req/s', 0, sp?.throughput, bp?.throughput, { target: `>= ${want}x`, pass: got !== null && got >= want }),
        ...(key === 'put' && sp?.sustainedThroughput !== undefined
          ? [
              row(sec, 'PUT sustained, replication included', 'req/s', 0, sp.sustainedThroughput, bp?.throughput, {
                target: `>= ${TARGETS.throughputRatio}x`,
                pass: (ratio(sp.sustainedThroughput, bp?.throughput) ?? 0) >= TARGETS.throughputRatio,
              }),
              ...(sp.replicationPace
                ? [
                    row(sec, `PUT replication catch-up after a ${sp.replicationPace.short.seconds.toFixed(2)} s slice`, 's', 2, sp.replicationPace.short.catchUpSeconds, null),
                    row(sec, `PUT replication catch-up after a ${sp.replicationPace.long.seconds.toFixed(2)} s load`, 's', 2, sp.replicationPace.long.catchUpSeconds, null),
                    row(sec, 'PUT replication backlog per second of load', 's', 3, sp.replicationPace.backlogPerSecond, null),
                  ]
                : [row(sec, 'PUT replication catch-up after the load', 's', 2, sp.catchUpSeconds, null)]),
            ]
          : []),
        row(sec, `${name} p99`, 'ms', 2, sp?.latencyMs.p99, bp?.latencyMs.p99),
        row(sec, `${name} server CPU per request`, 'us', 0, cpuPerReq(sp), cpuPerReq(bp)),
        row(sec, `${name} Redis commands per request`, '', 1, sp?.redisCommandsPerRequest, bp?.redisCommandsPerRequest),
        row(sec, `${name} errors`, '', 0, sp?.errors, bp?.errors),
      );
    }
  }
  return rows;
}

/** Replication: PUT throughput and CPU at ndb 1 against ndb --ndb. */
function replicationRows(r: Results): Row[] {
  const rows: Row[] = [];
  const { store: s, baseline: b } = r;
  const { ndb, concurrency: c } = r.options;
  if (r.replication) {
    const sec = `replication (PUT, c=${c})`;
    const s1 = r.replication.storeNdb1?.throughput;
    const b1 = r.replication.baselineNdb1?.throughput;
    const sN = s?.throughput?.put?.throughput;
    const bN = b?.throughput?.put?.throughput;
    rows.push(row(sec, 'PUT at ndb 1', 'req/s', 0, s1, b1));
    if (ndb !== 1) {
      rows.push(row(sec, `PUT at ndb ${ndb}`, 'req/s', 0, sN, bN));
      rows.push(row(sec, `ndb ${ndb} / ndb 1`, 'x', 2, ratio(sN, s1), ratio(bN, b1)));
      const cs1 = cpuPerReq(r.replication.storeNdb1);
      const cb1 = cpuPerReq(r.replication.baselineNdb1);
      const csN = cpuPerReq(s?.throughput?.put);
      const cbN = cpuPerReq(b?.throughput?.put);
      rows.push(row(sec, 'server CPU per PUT at ndb 1', 'us', 0, cs1, cb1));
      rows.push(row(sec, `server CPU per PUT at ndb ${ndb}`, 'us', 0, csN, cbN));
      rows.push(row(sec, `CPU per PUT, ndb ${ndb} / ndb 1`, 'x', 2, ratio(csN, cs1), ratio(cbN, cb1)));
    }
  }
  return rows;
}

/** Scale: each tea count, and the flatness from the smallest count to the largest. */
function scaleRows(r: Results): Row[] {
  const rows: Row[] = [];
  const { store: s, baseline: b } = r;
  const c = r.options.concurrency;
  const sScale = s?.scale ?? [];
  const bScale = b?.scale ?? [];
  if (sScale.length || bScale.length) {
    const teas = [...new Set([...sScale, ...bScale].map((p) => p.teas))].sort((x, y) => x - y);
    const at = (list: ScalePoint[], n: number) => list.find((p) => p.teas === n);
    for (const n of teas) {
      const sec = `scale: ${n.toLocaleString('en-US')} teas (c=${c})`;
      const sp = at(sScale, n);
      const bp = at(bScale, n);
      rows.push(
        row(sec, 'PUT', 'req/s', 0, sp?.put.throughput, bp?.put.throughput),
        row(sec, 'GET', 'req/s', 0, sp?.get.throughput, bp?.get.throughput),
        row(sec, 'server CPU per PUT', 'us', 0, cpuPerReq(sp?.put), cpuPerReq(bp?.put)),
        row(sec, 'server CPU per GET', 'us', 0, cpuPerReq(sp?.get), cpuPerReq(bp?.get)),
        row(sec, 'Redis commands per PUT', '', 1, sp?.put.redisCommandsPerRequest, bp?.put.redisCommandsPerRequest),
        row(sec, 'Redis commands per GET', '', 1, sp?.get.redisCommandsPerRequest, bp?.get.redisCommandsPerRequest),
        row(sec, 'Redis per tea, all copies', 'B', 0, sp?.redisBytesPerTea, bp?.redisBytesPerTea),
        row(sec, 'Redis per tea, per copy', 'B', 0, sp?.redisBytesPerTeaCopy, bp?.redisBytesPerTeaCopy),
        row(sec, 'DB RSS, all DBs', 'MB', 1, sp ? sum(sp.dbRssBytes) / MB : null, bp ? sum(bp.dbRssBytes) / MB : null),
        row(sec, 'servers up after loading', 's', 1, sp?.serverStartSeconds, bp?.serverStartSeconds),
        row(sec, 'server CPU with no requests, after start', 'cores', 2, sp?.idleServerCores, bp?.idleServerCores),
      );
    }
    if (teas.length > 1) {
      const first = teas[0];
      const last = teas[teas.length - 1];
      const sec = `scale: flatness (${last.toLocaleString('en-US')} / ${first.toLocaleString('en-US')} teas)`;
      const f = (list: ScalePoint[], k: 'put' | 'get') => ratio(at(list, last)?.[k].throughput, at(list, first)?.[k].throughput);
      const g = (list: ScalePoint[], k: 'put' | 'get') => ratio(cpuPerReq(at(list, last)?.[k]), cpuPerReq(at(list, first)?.[k]));
      rows.push(row(sec, 'PUT throughput', 'x', 2, f(sScale, 'put'), f(bScale, 'put')));
      rows.push(row(sec, 'GET throughput', 'x', 2, f(sScale, 'get'), f(bScale, 'get')));
      rows.push(row(sec, 'server CPU per PUT', 'x', 2, g(sScale, 'put'), g(bScale, 'put')));
      rows.push(row(sec, 'server CPU per GET', 'x', 2, g(sScale, 'get'), g(bScale, 'get')));
    }
  }
  return rows;
}

/** What the machine and the errors say about the whole run. */
function machineRows(r: Results): Row[] {
  const rows: Row[] = [];
  const { store: s, baseline: b } = r;
  if (s || b) {
    rows.push(row('machine', 'server CPU with no requests, after warm-up', 'cores', 2, s?.idleServerCores, b?.idleServerCores));
    rows.push(row('machine', 'Redis commands with no requests', '/s', 0, s?.idleRedisCommandsPerSecond, b?.idleRedisCommandsPerSecond));
    rows.push(row('machine', "other processes' CPU, mean over phases", 'cores', 2, otherCores(r, 'store'), otherCores(r, 'baseline')));
    rows.push(row('errors', 'all phases, warm-up included', '', 0, s ? errorsOf(r, 'store') : null, b ? errorsOf(r, 'baseline') : null, {
      target: '0 (store)', pass: s ? errorsOf(r, 'store') === 0 : undefined,
    }));
  }
  return rows;
}

/** The targets the summary ends with (PASS / FAIL). */
function targetsOf(r: Results): Target[] {
  const targets: Target[] = [];
  const { store: s, baseline: b } = r;
  const tput = (k: 'put' | 'get') => ratio(s?.throughput?.[k]?.throughput, b?.throughput?.[k]?.throughput);
  if (s?.throughput?.put && b?.throughput?.put) {
    const v = tput('put');
    targets.push({ name: 'PUT throughput (accepted), store / baseline', value: v, want: `>= ${TARGETS.throughputRatio}`, pass: v !== null && v >= TARGETS.throughputRatio });
    if (s.throughput.put.sustainedThroughput !== undefined) {
      const w = ratio(s.throughput.put.sustainedThroughput, b.throughput.put.throughput);
      targets.push({ name: 'PUT throughput (replicated), store / baseline', value: w, want: `>= ${TARGETS.throughputRatio}`, pass: w !== null && w >= TARGETS.throughputRatio });
    }
  }
  if (s?.throughput?.get && b?.throughput?.get) {
    const v = tput('get');
    targets.push({ name: 'GET throughput, store / baseline', value: v, want: `>= ${TARGETS.getThroughputRatio}`, pass: v !== null && v >= TARGETS.getThroughputRatio });
  }
  if (s?.throughput?.put && b?.throughput?.put) {
    const v = ratio(cpuPerReq(s.throughput.put), cpuPerReq(b.throughput.put));
    targets.push({ name: 'server CPU per PUT at c=32, store / baseline', value: v, want: `<= ${TARGETS.cpuPerPutRatio}`, pass: v !== null && v <= TARGETS.cpuPerPutRatio });
    const c = s.throughput.put.redisCommandsPerRequest ?? null;
    targets.push({ name: `Redis commands per PUT at c=32, store (ndb ${r.options.ndb})`, value: c, want: `<= ${TARGETS.redisCommandsPerPut}`, pass: c !== null && c <= TARGETS.redisCommandsPerPut });
  }
  if (s?.latency && b?.latency) {
    const v = ratio(s.latency.put.latencyMs.p50, b.latency.put.latencyMs.p50);
    targets.push({ name: 'sequential PUT p50, store / baseline', value: v, want: `<= ${TARGETS.seqPutP50Ratio}`, pass: v !== null && v <= TARGETS.seqPutP50Ratio });
  }
  if (s) {
    const v = errorsOf(r, 'store');
    targets.push({ name: 'store errors', value: v, want: '0', pass: v === 0 });
  }
  return targets;
}

/** The HTTP client micro-benchmark, one row per client. */
function clientRows(r: Results): ClientRow[] {
  return (r.clients ?? []).map((x) => ({
    kind: x.kind,
    seqP50: x.sequential.latencyMs.p50,
    seqP99: x.sequential.latencyMs.p99,
    seqThroughput: x.sequential.throughput,
    concThroughput: x.concurrent.throughput,
    concP99: x.concurrent.latencyMs.p99,
    cpuUsPerRequest: x.concurrent.loadCpuUsPerRequest,
    errors: x.sequential.errors + x.concurrent.errors,
  }));
}

export function buildSummary(r: Results): { rows: Row[]; targets: Target[]; clients: ClientRow[] } {
  const rows = [...latencyRows(r), ...throughputRows(r), ...replicationRows(r), ...scaleRows(r), ...machineRows(r)];
  return { rows, targets: targetsOf(r), clients: clientRows(r) };
}

function num(v: number | null, digits: number): string {
  if (v === null || !Number.isFinite(v)) return '-';
  return v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function table(headers: string[], body: string[][], rightAlign: boolean[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (rightAlign[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

export function formatSummary(r: Results): string {
  const sm = r.summary ?? buildSummary(r);
  const out: string[] = [];
  let section = '';
  const body: string[][] = [];
  for (const x of sm.rows) {
    if (x.section !== section) {
      section = x.section;
      body.push([`[${section}]`, '', '', '', '', '']);
    }
    const unit = x.unit ? ` (${x.unit})` : '';
    const check = x.pass === undefined ? '' : x.pass ? 'PASS' : 'FAIL';
    body.push([`  ${x.metric}${unit}`, num(x.store, x.digits), num(x.baseline, x.digits), x.ratio === null ? '-' : `${x.ratio.toFixed(2)}x`, x.target ?? '', check]);
  }
  out.push(table(['metric', 'store', 'baseline', 'ratio', 'target', 'check'], body, [false, true, true, true, false, false]));
  if (sm.clients.length) {
    out.push('');
    out.push(`HTTP clients (LB->DB, DB->Q hop candidates) against a trivial koa server, c=${r.options.concurrency}:`);
    const ref = sm.clients.find((x) => x.kind === 'got') ?? sm.clients[0];
    out.push(
      table(
        ['client', 'seq p50 ms', 'seq p99 ms', 'seq req/s', `c=${r.options.concurrency} req/s`, 'vs got', `c=${r.options.concurrency} p99 ms`, 'client CPU us/req', 'errors'],
        sm.clients.map((x) => [
          x.kind, num(x.seqP50, 3), num(x.seqP99, 3), num(x.seqThroughput, 0), num(x.concThroughput, 0),
          `${(x.concThroughput / ref.concThroughput).toFixed(2)}x`, num(x.concP99, 2), num(x.cpuUsPerRequest, 0), String(x.errors),
        ]),
        [false, true, true, true, true, true, true, true, true],
      ),
    );
  }
  const noise = Math.max(otherCores(r, 'store') ?? 0, otherCores(r, 'baseline') ?? 0);
  if (noise > NOISY_CORES) {
    out.push('');
    out.push(
      `WARNING: other processes on this machine used ${noise.toFixed(2)} of ${r.meta.cpus} cores on average during the measurements: ` +
        'throughput and latency (and so the targets) are unreliable in this run; server CPU per request is the steadier figure. Re-run on a quiet machine.',
    );
  }
  if (sm.targets.length) {
    out.push('');
    out.push('Targets:');
    for (const t of sm.targets) {
      const v = t.value === null ? '-' : Number.isInteger(t.value) ? String(t.value) : t.value.toFixed(2);
      out.push(`  ${t.pass ? 'PASS' : 'FAIL'}  ${t.name}: ${v} (want ${t.want})`);
    }
    const missed = sm.targets.filter((t) => !t.pass).length;
    out.push(missed === 0 ? 'All targets met.' : `${missed} of ${sm.targets.length} targets MISSED.`);
  }
  return out.join('\n');
}
