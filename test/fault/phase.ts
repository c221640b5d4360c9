/**
 * One phase of the fault suite: the load running, each fault injected, held
 * and restored in turn; then the availability of writes and strong reads,
 * over the whole phase and while each fault lasted; then how long the
 * cluster took to converge after the last write, and whether it lost any
 * acknowledged write.
 */
import type { HttpClient } from '../../lib/net/httpClient';
import { Fault, NDB, Phase } from './cluster';
import { Attempt, Availability, Ledger, Readers, Window, Writers, percent } from './load';
import { Report, secs } from './report';
import { awaitConvergence, describe } from './verify';

/** Convergence: the contract's bound with no traffic, and how long to keep looking. */
export const BOUND_MS = 10_000;
const GIVE_UP_MS = 20_000;
/** Availability while one process is down. */
const MIN_AVAILABILITY = 0.99;

const PRE_MS = 3000;
const GAP_MS = 3000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What a phase runs against: the load, the DBs to read, and where the checks go. */
export interface PhaseEnv {
  writers: Writers;
  readers: Readers;
  http: HttpClient;
  dbUrls: string[];
  teas: string[];
  report: Report;
}

/** The attempts a phase made, and its availability over all of it. */
interface PhaseLoad {
  label: string;
  all: Attempt[];
  allReads: Attempt[];
  phaseAvail: Availability;
  phaseReads: Availability;
}

const failures = (list: Attempt[]) => {
  const a = Ledger.availability(list);
  return `${percent(a)}${a.acked < a.attempted ? `; failures: ${Ledger.failures(list)}` : ''}`;
};

export async function runPhase(phase: Phase, env: PhaseEnv): Promise<void> {
  const { writers, readers, report } = env;
  const label = `(${phase.key})`;
  console.log(`${label} ${phase.title}`);
  const faults = phase.faults();
  const phaseStart = Date.now();
  const ackedBefore = writers.ledger.ackedCount;
  writers.start();
  readers.start();
  let windows: Window[] = [];
  let loadEnd: number;
  try {
    windows = await applyFaults(faults, phaseStart, report);
  } finally {
    await writers.stop();
    loadEnd = Date.now();
    await readers.stop();
  }
  const phaseWindow = { from: phaseStart, to: loadEnd + 1 };
  const all = writers.ledger.startedIn(phaseWindow);
  const allReads = readers.ledger.startedIn(phaseWindow);
  const load: PhaseLoad = { label, all, allReads, phaseAvail: Ledger.availability(all), phaseReads: Ledger.availability(allReads) };
  report.info(`load: ${load.phaseAvail.attempted} writes attempted in ${secs(loadEnd - phaseStart)}, ${load.phaseAvail.acked} acknowledged; ${Ledger.latency(all)}`);
  report.info(`strong reads: ${load.phaseReads.attempted} attempted, ${load.phaseReads.acked} answered; ${Ledger.latency(allReads)}`);
  if (!faults.some((f) => f.lbDown)) {
    // Recovery (a backlog to drain, a repair) must not cost writes or reads either.
    report.check(`${label} write availability over the whole phase (before, during, after) >= 99 %`, load.phaseAvail.ratio >= MIN_AVAILABILITY, failures(all));
    report.check(`${label} strong-read availability over the whole phase >= 99 %`, load.phaseReads.ratio >= MIN_AVAILABILITY, failures(allReads));
  }
  faults.forEach((fault, k) => checkFaultWindow(fault, windows[k], load, env));
  await checkConvergence(phase, label, loadEnd, ackedBefore, env);
}

/** Each fault in turn: injected, held, restored, then a gap; the window each one lasted. */
async function applyFaults(faults: Fault[], phaseStart: number, report: Report): Promise<Window[]> {
  const at = () => `+${secs(Date.now() - phaseStart)}`;
  const windows: Window[] = [];
  await sleep(PRE_MS);
  for (const fault of faults) {
    const from = Date.now();
    await fault.inject();
    report.info(`${at()} ${fault.what}`);
    await sleep(fault.holdMs);
    await fault.restore();
    const to = Date.now();
    windows.push({ from, to });
    report.info(`${at()} back (${fault.what} for ${secs(to - from)})`);
    await sleep(GAP_MS);
  }
  return windows;
}

/** Availability of the writes and reads a fault could touch; with the LB down, of those it could not. */
function checkFaultWindow(fault: Fault, window: Window, load: PhaseLoad, { writers, readers, report }: PhaseEnv): void {
  const { label, all, allReads, phaseAvail, phaseReads } = load;
  const touched = writers.ledger.overlapping(window);
  const touchedReads = readers.ledger.overlapping(window);
  const a = Ledger.availability(touched);
  const r = Ledger.availability(touchedReads);
  if (fault.lbDown) {
    const touchedSet = new Set([...touched, ...touchedReads]);
    const outside = all.filter((x) => !touchedSet.has(x));
    const outsideReads = allReads.filter((x) => !touchedSet.has(x));
    const ex = Ledger.availability(outside);
    const exReads = Ledger.availability(outsideReads);
    report.info(`writes touched by the LB outage (${secs(window.to - window.from)}): ${percent(a)} acknowledged; ` +
      `${a.attempted - a.acked} attempted but unanswered, not lost: ${Ledger.failures(touched)}`);
    report.info(`write availability including the LB-down window: ${percent(phaseAvail)}; strong reads: ${percent(phaseReads)}`);
    report.check(`${label} write availability outside the LB-down window >= 99 %`, ex.ratio >= MIN_AVAILABILITY, failures(outside));
    report.check(`${label} strong-read availability outside the LB-down window >= 99 %`, exReads.ratio >= MIN_AVAILABILITY, failures(outsideReads));
    report.summary.push(`${label} write availability: ${percent(ex)} excluding the LB-down window, ${percent(phaseAvail)} including it`);
    return;
  }
  report.check(`${label} write availability while ${fault.what} >= 99 %`, a.ratio >= MIN_AVAILABILITY, failures(touched));
  report.check(`${label} strong-read availability while ${fault.what} >= 99 %`, r.ratio >= MIN_AVAILABILITY, failures(touchedReads));
  report.summary.push(`${label} availability while ${fault.what}: writes ${percent(a)}, strong reads ${percent(r)} (whole phase: writes ${percent(phaseAvail)}, reads ${percent(phaseReads)})`);
  const worst = Math.min(a.ratio, r.ratio);
  if (worst < report.worstAvailability.ratio) report.worstAvailability = { ratio: worst, phase: `${label} ${fault.what}` };
}

/** Every acknowledged write on every DB, identical data everywhere, and how soon after the last write. */
async function checkConvergence(phase: Phase, label: string, loadEnd: number, ackedBefore: number, env: PhaseEnv): Promise<void> {
  const { report, teas } = env;
  const ledger = env.writers.ledger;
  const conv = await awaitConvergence(env.http, env.dbUrls, teas, ledger, loadEnd, GIVE_UP_MS);
  const acked = ledger.ackedCount;
  const pairs = [...ledger.acked.values()].reduce((n, m) => n + m.size, 0);
  const whose = phase.repairs ? ` (${phase.repairs} repaired)` : '';
  const shown = conv.ms === null ? `not within ${secs(GIVE_UP_MS)}` : secs(conv.ms);
  report.info(`convergence after the last write: ${shown}` +
    (conv.confirmedMs === null ? '' : ` (bucket sums of all DBs agreed; confirmed by a full read of ${NDB} DBs x ${teas.length} teas ending at ${secs(conv.confirmedMs)}, ${conv.rounds} full reads of ~${Math.round(conv.roundMs)} ms)`));
  report.check(`${label} no acknowledged write lost: every one is on every DB`, conv.last.missing === 0 && conv.last.errors === 0,
    `${acked} acknowledged writes checked, ${acked - ackedBefore} of them in this phase, ${pairs} newest (tea, writer) pairs; ${describe(conv.last)}`);
  report.check(`${label} all DBs hold identical data`, conv.last.differing === 0 && !conv.last.sumsDiffer && conv.last.errors === 0, describe(conv.last));
  report.check(`${label} converged within ${BOUND_MS / 1000} s${whose}`, conv.ms !== null && conv.ms <= BOUND_MS, shown);
  report.summary.push(`${label} convergence: ${shown}`);
  const asMs = conv.ms ?? Infinity;
  if (asMs > report.worstConvergence.ms) report.worstConvergence = { ms: asMs, phase: label };
}
