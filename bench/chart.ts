/**
 * A self-contained HTML page (inline SVG, no scripts, no external files) of
 * the latest run: sequential latency percentiles per operation and
 * throughput, store against baseline, the HTTP clients, and the table.
 *
 * Re-render any run: node dist/bench/chart.js var/bench/results-<time>.json [out.html]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { PhaseResult } from './load';
import { formatSummary } from './report';
import type { Results } from './types';

const STORE = '#d95f02';
const BASE = '#1b9e77';
const PALETTE = ['#7570b3', '#e7298a', '#66a61e', '#e6ab02', '#a6761d'];

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function fmt(v: number, integer = false): string {
  if (!Number.isFinite(v)) return '-';
  if (v === 0) return '0';
  if (integer) return Math.round(v).toLocaleString('en-US');
  if (v >= 100) return Math.round(v).toLocaleString('en-US');
  if (v >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

/** A y-axis top that is a round number above `max`. */
function niceMax(max: number): number {
  if (!(max > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(max));
  for (const m of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * p >= max) return m * p;
  return 10 * p;
}

function yAxis(x: number, y0: number, h: number, top: number, w: number, unit: string): string {
  const parts: string[] = [];
  for (let k = 0; k <= 4; k++) {
    const v = (top * k) / 4;
    const y = y0 + h - (h * k) / 4;
    parts.push(`<line x1="${x}" y1="${y}" x2="${x + w}" y2="${y}" stroke="#ddd"/>`);
    parts.push(`<text x="${x - 4}" y="${y + 4}" text-anchor="end" font-size="10">${fmt(v)}</text>`);
  }
  parts.push(`<text x="${x - 48}" y="${y0 + h / 2}" font-size="11" transform="rotate(-90 ${x - 48} ${y0 + h / 2})" text-anchor="middle">${esc(unit)}</text>`);
  return parts.join('');
}

function legend(x: number, y: number, items: [string, string][]): string {
  return items
    .map(([name, color], i) => `<rect x="${x + i * 110}" y="${y - 9}" width="10" height="10" fill="${color}"/><text x="${x + i * 110 + 14}" y="${y}" font-size="11">${esc(name)}</text>`)
    .join('');
}

const PCTS: [string, keyof PhaseResult['latencyMs']][] = [['p50', 'p50'], ['p75', 'p75'], ['p90', 'p90'], ['p95', 'p95'], ['p99', 'p99'], ['p99.9', 'p999']];

/** Latency (ms) at each percentile, one line per system, for one operation. */
function percentileChart(title: string, series: [string, string, PhaseResult | undefined][]): string {
  const W = 330, H = 230, L = 66, T = 34, PW = W - L - 26, PH = H - T - 44;
  const values = series.flatMap(([, , p]) => (p ? PCTS.map(([, k]) => p.latencyMs[k]) : [])).filter(Number.isFinite);
  const top = niceMax(Math.max(...values, 0));
  const xOf = (i: number) => L + (PW * i) / (PCTS.length - 1);
  const yOf = (v: number) => T + PH - (PH * v) / top;
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif">`,
    `<text x="${W / 2}" y="16" text-anchor="middle" font-size="13" font-weight="bold">${esc(title)}</text>`, yAxis(L, T, PH, top, PW, 'ms')];
  PCTS.forEach(([name], i) => parts.push(`<text x="${xOf(i)}" y="${T + PH + 14}" text-anchor="middle" font-size="10">${name}</text>`));
  for (const [name, color, p] of series) {
    if (!p) continue;
    const pts = PCTS.map(([, k], i) => [xOf(i), yOf(p.latencyMs[k])] as const);
    parts.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(' ')}"/>`);
    pts.forEach(([x, y], i) => parts.push(`<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="2.5" fill="${color}"><title>${esc(name)} ${PCTS[i][0]}: ${fmt(p.latencyMs[PCTS[i][1]])} ms</title></circle>`));
    parts.push(`<text x="${pts[0][0] + 3}" y="${pts[0][1] - 5}" font-size="10" fill="${color}">${fmt(p.latencyMs.p50)}</text>`);
    parts.push(`<text x="${pts[4][0]}" y="${pts[4][1] - 5}" font-size="10" fill="${color}" text-anchor="middle">${fmt(p.latencyMs.p99)}</text>`);
  }
  parts.push(legend(L, H - 8, series.map(([n, c]) => [n, c])));
  parts.push('</svg>');
  return parts.join('');
}

/** Grouped bars: one group per category, one bar per series, with the ratio of the first two over each group. */
function barChart(title: string, unit: string, categories: string[], series: [string, string, (number | undefined)[]][], showRatio: boolean): string {
  const group = 26 * series.length + 22;
  const L = 76, T = 48, PH = 200;
  const W = Math.max(240, L + categories.length * group + 20, L + series.length * 110);
  const integer = unit === 'req/s';
  const H = T + PH + 60;
  const values = series.flatMap(([, , vs]) => vs).filter((v): v is number => v !== undefined && Number.isFinite(v));
  const top = niceMax(Math.max(...values, 0) * 1.08);
  const yOf = (v: number) => T + PH - (PH * v) / top;
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif">`,
    `<text x="${W / 2}" y="16" text-anchor="middle" font-size="13" font-weight="bold">${esc(title)}</text>`, yAxis(L, T, PH, top, W - L - 10, unit)];
  categories.forEach((cat, ci) => {
    const gx = L + 12 + ci * group;
    series.forEach(([name, color, vs], si) => {
      const v = vs[ci];
      if (v === undefined || !Number.isFinite(v)) return;
      const x = gx + si * 26;
      parts.push(`<rect x="${x}" y="${yOf(v).toFixed(1)}" width="22" height="${(T + PH - yOf(v)).toFixed(1)}" fill="${color}"><title>${esc(name)} ${esc(cat)}: ${fmt(v, integer)} ${esc(unit)}</title></rect>`);
      parts.push(`<text x="${x + 11}" y="${(yOf(v) - 3).toFixed(1)}" font-size="9" text-anchor="middle">${fmt(v, integer)}</text>`);
    });
    const a = series[0]?.[2][ci];
    const b = series[1]?.[2][ci];
    if (showRatio && a !== undefined && b !== undefined && b > 0) {
      parts.push(`<text x="${gx + (series.length * 26) / 2 - 2}" y="${T - 10}" font-size="10" text-anchor="middle" font-weight="bold">${(a / b).toFixed(2)}x</text>`);
    }
    parts.push(`<text x="${gx + (series.length * 26) / 2 - 2}" y="${T + PH + 14}" font-size="10" text-anchor="middle">${esc(cat)}</text>`);
  });
  parts.push(legend(L, H - 10, series.map(([n, c]) => [n, c])));
  parts.push('</svg>');
  return parts.join('');
}

export function renderHtml(r: Results): string {
  const s = r.store;
  const b = r.baseline;
  const sections: string[] = [];
  if (s?.latency || b?.latency) {
    const ops: [string, 'put' | 'getStrong' | 'getWeak'][] = [['PUT', 'put'], ['GET strong', 'getStrong'], ['GET weak', 'getWeak']];
    sections.push('<h2>Sequential latency percentiles (one client, ms)</h2><div class="row">' +
      ops.map(([name, k]) => percentileChart(name, [['store', STORE, s?.latency?.[k]], ['baseline', BASE, b?.latency?.[k]]])).join('') + '</div>');
  }
  const cats: string[] = [];
  const sv: (number | undefined)[] = [];
  const bv: (number | undefined)[] = [];
  const sc: (number | undefined)[] = [];
  const bc: (number | undefined)[] = [];
  const add = (cat: string, x?: PhaseResult, y?: PhaseResult) => {
    if (!x && !y) return;
    cats.push(cat);
    sv.push(x?.throughput);
    bv.push(y?.throughput);
    sc.push(x?.cpu?.serverUsPerRequest);
    bc.push(y?.cpu?.serverUsPerRequest);
  };
  add(`PUT ndb ${r.options.ndb}`, s?.throughput?.put, b?.throughput?.put);
  add(`GET ndb ${r.options.ndb}`, s?.throughput?.get, b?.throughput?.get);
  if (r.options.ndb !== 1) add('PUT ndb 1', r.replication?.storeNdb1, r.replication?.baselineNdb1);
  const teas = [...new Set([...(s?.scale ?? []), ...(b?.scale ?? [])].map((p) => p.teas))].sort((x, y) => x - y);
  for (const n of teas) {
    const label = n >= 1e6 ? `${n / 1e6}M` : n >= 1e3 ? `${n / 1e3}k` : String(n);
    const sp = s?.scale?.find((p) => p.teas === n);
    const bp = b?.scale?.find((p) => p.teas === n);
    add(`PUT ${label}`, sp?.put, bp?.put);
    add(`GET ${label}`, sp?.get, bp?.get);
  }
  if (cats.length) {
    sections.push(`<h2>Throughput with ${r.options.concurrency} concurrent clients (req/s; ratio store / baseline above)</h2>` +
      barChart('throughput', 'req/s', cats, [['store', STORE, sv], ['baseline', BASE, bv]], true));
    if ([...sc, ...bc].some((v) => v !== undefined)) {
      sections.push('<h2>Server CPU time per request (us, all processes of the system: LB, DBs, queue, Redis; ratio store / baseline above)</h2>' +
        barChart('CPU per request', 'us', cats, [['store', STORE, sc], ['baseline', BASE, bc]], true));
    }
  }
  if (r.clients?.length) {
    const kinds = r.clients.map((c) => c.kind);
    const color = (i: number) => PALETTE[i % PALETTE.length];
    sections.push('<h2>HTTP clients against a trivial koa server</h2><div class="row">' +
      barChart(`throughput, c=${r.options.concurrency}`, 'req/s', ['c=' + r.options.concurrency], r.clients.map((c, i) => [c.kind, color(i), [c.concurrent.throughput]]), false) +
      barChart('sequential latency', 'ms', ['p50', 'p99'], r.clients.map((c, i) => [c.kind, color(i), [c.sequential.latencyMs.p50, c.sequential.latencyMs.p99]]), false) +
      barChart('client CPU per request', 'us', [`c=${r.options.concurrency}`], r.clients.map((c, i) => [c.kind, color(i), [c.concurrent.loadCpuUsPerRequest]]), false) +
      `</div><p>${esc(kinds.join(', '))}</p>`);
  }
  const m = r.meta;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>tea store benchmark ${esc(m.startedAt)}</title>
<style>body{font-family:sans-serif;margin:24px;color:#222}.row{display:flex;flex-wrap:wrap;gap:16px}pre{background:#f6f6f6;padding:12px;font-size:12px;overflow:auto}h2{font-size:16px;margin-top:28px}</style>
</head><body>
<h1>tea store: store against baseline</h1>
<p>${esc(m.startedAt)} &middot; <code>${esc(m.command)}</code> &middot; ${m.cpus} x ${esc(m.cpuModel)}, ${m.totalMemoryMB} MB, node ${esc(m.node)} &middot;
git ${esc(m.git.commit ?? '?')}${m.git.dirty ? ' (uncommitted changes)' : ''} &middot; load average at start ${m.loadAverageStart.map((x) => x.toFixed(2)).join(' ')}
&middot; ndb ${r.options.ndb}, digest-length ${r.options.digestLength}, baseline LB client ${esc(r.options.httpClient)}</p>
${sections.join('\n')}
<h2>Summary</h2>
<pre>${esc(formatSummary(r))}</pre>
<h2>Notes</h2><ul>${r.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>
</body></html>
`;
}

if (require.main === module) {
  const [input, output] = process.argv.slice(2);
  if (!input) {
    console.error('usage: node dist/bench/chart.js RESULTS.json [OUT.html]');
    process.exit(2);
  }
  const out = output ?? input.replace(/\.json$/, '') + '.html';
  writeFileSync(out, renderHtml(JSON.parse(readFileSync(input, 'utf8')) as Results));
  console.log(out);
}
