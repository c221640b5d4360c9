/**
 * Reading every DB directly and deciding whether the cluster has converged:
 * every acknowledged write is on every DB (a clock c with c[w] >= n for each
 * acknowledged {w: n}), and all DBs hold identical data (the same set of
 * versions for every tea, and the same anti-entropy bucket sums, which cover
 * every tea a DB holds, tombstones included).
 */
import { canonicalVersions } from '../../lib/core/versions';
import { parseVersions } from '../../lib/core/wire';
import { HttpClient } from '../../lib/net/httpClient';
import { Ledger } from './load';

export interface Held {
  /** The versions as an order-free set (canonicalVersions). */
  canonical: string[];
  /** Per client id, the largest counter among the clocks held. */
  newest: Map<string, number>;
}

export interface Snapshot {
  /** Per DB: tea -> what it holds, or an error text when the read failed. */
  teas: Map<string, Held | string>[];
  /** Per DB: the bucket sums as one string, or an error text. */
  sums: string[];
}

export interface Verdict {
  /** Acknowledged writes (per tea and writer, the newest) missing on some DB: count over DB x (tea, writer). */
  missing: number;
  /** Teas whose versions differ between DBs. */
  differing: number;
  /** Bucket sums differ between DBs. */
  sumsDiffer: boolean;
  /** Reads that failed. */
  errors: number;
  /** A few examples, for the report. */
  examples: string[];
  ok: boolean;
}

const READ_TIMEOUT_MS = 3000;

async function pool<T>(items: T[], width: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (next < items.length) await work(items[next++]);
    }),
  );
}

export async function snapshot(http: HttpClient, dbUrls: string[], teas: string[], width = 32): Promise<Snapshot> {
  const result: Snapshot = { teas: dbUrls.map(() => new Map()), sums: dbUrls.map(() => '') };
  const jobs: [number, string | null][] = [];
  for (let db = 0; db < dbUrls.length; db++) {
    jobs.push([db, null]);
    for (const tea of teas) jobs.push([db, tea]);
  }
  await pool(jobs, width, async ([db, tea]) => {
    if (tea === null) {
      try {
        const res = await http.request('GET', `${dbUrls[db]}/ae/buckets`, undefined, READ_TIMEOUT_MS);
        result.sums[db] = res.status === 200 ? JSON.stringify(JSON.parse(res.body).sums) : `error: HTTP ${res.status}`;
      } catch (e) {
        result.sums[db] = `error: ${(e as Error).message}`;
      }
      return;
    }
    try {
      const res = await http.request('GET', `${dbUrls[db]}/rating/${encodeURIComponent(tea)}`, undefined, READ_TIMEOUT_MS);
      if (res.status !== 200) {
        result.teas[db].set(tea, `error: HTTP ${res.status} ${res.body.slice(0, 80)}`);
        return;
      }
      const body = JSON.parse(res.body);
      const versions = parseVersions(body.choices, body.clocks);
      if (!versions.ok) {
        result.teas[db].set(tea, `error: ${versions.error}`);
        return;
      }
      const newest = new Map<string, number>();
      for (const { clock } of versions.value) {
        for (const [id, n] of Object.entries(clock)) newest.set(id, Math.max(newest.get(id) ?? 0, n));
      }
      result.teas[db].set(tea, { canonical: canonicalVersions({ versions: versions.value, tombstone: null }), newest });
    } catch (e) {
      result.teas[db].set(tea, `error: ${(e as Error).message}`);
    }
  });
  return result;
}

export function judge(snap: Snapshot, ledger: Ledger, teas: string[]): Verdict {
  const v: Verdict = { missing: 0, differing: 0, sumsDiffer: false, errors: 0, examples: [], ok: false };
  const note = (s: string) => {
    if (v.examples.length < 4) v.examples.push(s);
  };
  const ndb = snap.teas.length;
  for (const tea of teas) {
    const perDb = snap.teas.map((m) => m.get(tea) ?? 'error: not read');
    const failed = perDb.findIndex((x) => typeof x === 'string');
    if (failed >= 0) {
      v.errors++;
      note(`db${failed} ${tea}: ${perDb[failed] as string}`);
      continue;
    }
    const held = perDb as Held[];
    const first = JSON.stringify(held[0].canonical);
    if (held.some((h) => JSON.stringify(h.canonical) !== first)) {
      v.differing++;
      note(`${tea} differs: ${held.map((h, db) => `db${db} has ${h.canonical.length} versions`).join(', ')}`);
    }
    for (const [writer, n] of ledger.acked.get(tea) ?? []) {
      for (let db = 0; db < ndb; db++) {
        const have = held[db].newest.get(writer) ?? 0;
        if (have < n) {
          v.missing++;
          note(`db${db} lacks ${tea} {${writer}: ${n}} (newest there: ${have})`);
        }
      }
    }
  }
  for (let db = 0; db < ndb; db++) if (snap.sums[db].startsWith('error')) v.errors++;
  v.sumsDiffer = snap.sums.some((s) => s !== snap.sums[0]);
  if (v.sumsDiffer && v.differing === 0) note('bucket sums differ between DBs');
  v.ok = v.missing === 0 && v.differing === 0 && !v.sumsDiffer && v.errors === 0;
  return v;
}

export function describe(v: Verdict): string {
  const parts = [`${v.missing} missing`, `${v.differing} teas differ`, `sums ${v.sumsDiffer ? 'differ' : 'agree'}`, `${v.errors} read errors`];
  return `${parts.join(', ')}${v.examples.length ? `; e.g. ${v.examples.join(' | ')}` : ''}`;
}

export interface Convergence {
  /**
   * ms from `since` to the moment the cluster was seen converged, null if it
   * never was within the time given: the moment every DB's bucket sums agreed,
   * when a full read right after finds every acknowledged write everywhere,
   * identical data, and the same sums (so nothing changed in between); else
   * the end of the first full read that passes.
   */
  ms: number | null;
  /** ms from `since` to the end of the full read that confirmed it. */
  confirmedMs: number | null;
  /** Full read rounds made, and how long one took on average. */
  rounds: number;
  roundMs: number;
  last: Verdict;
}

async function sumsOf(http: HttpClient, dbUrls: string[]): Promise<string[] | null> {
  try {
    const all = await Promise.all(
      dbUrls.map(async (url) => {
        const res = await http.request('GET', `${url}/ae/buckets`, undefined, READ_TIMEOUT_MS);
        if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
        return JSON.stringify(JSON.parse(res.body).sums);
      }),
    );
    return all;
  } catch {
    return null;
  }
}

/**
 * Watch the bucket sums of every DB (cheap: one request each, no gossip
 * drained by the watching) every 50 ms; when they agree, read every tea on
 * every DB to confirm. Give up `giveUpMs` after `since`, with a last full
 * read for the verdict.
 */
export async function awaitConvergence(
  http: HttpClient, dbUrls: string[], teas: string[], ledger: Ledger, since: number, giveUpMs: number,
): Promise<Convergence> {
  let rounds = 0;
  let spent = 0;
  const fullRead = async () => {
    const t0 = Date.now();
    const snap = await snapshot(http, dbUrls, teas);
    const verdict = judge(snap, ledger, teas);
    const t1 = Date.now();
    rounds++;
    spent += t1 - t0;
    return { snap, verdict, end: t1 };
  };
  for (;;) {
    const sums = await sumsOf(http, dbUrls);
    const seen = Date.now();
    if (sums !== null && sums.every((x) => x === sums[0])) {
      const { snap, verdict, end } = await fullRead();
      if (verdict.ok) {
        const unchanged = snap.sums.every((x) => x === sums[0]);
        return { ms: (unchanged ? seen : end) - since, confirmedMs: end - since, rounds, roundMs: spent / rounds, last: verdict };
      }
      if (end - since > giveUpMs) return { ms: null, confirmedMs: null, rounds, roundMs: spent / rounds, last: verdict };
    } else if (seen - since > giveUpMs) {
      const { verdict } = await fullRead();
      return { ms: null, confirmedMs: null, rounds, roundMs: rounds ? spent / rounds : 0, last: verdict };
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
