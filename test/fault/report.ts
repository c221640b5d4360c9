/**
 * The fault suite's output: one line per check (`ok` or `FAIL`), indented
 * details, the summary lines gathered along the way, and the closing
 * `N passed, N failed`.
 */
import type { Proxy } from './proxy';

export const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

export class Report {
  passed = 0;
  failed = 0;
  /** Lines for the summary at the end, one or more per phase. */
  readonly summary: string[] = [];
  worstConvergence = { ms: -1, phase: '' };
  worstAvailability = { ratio: 2, phase: '' };

  check(what: string, ok: boolean, detail?: string): boolean {
    if (ok) this.passed++;
    else this.failed++;
    console.log(`  ${ok ? 'ok  ' : 'FAIL'} ${what}${detail ? `  (${detail})` : ''}`);
    return ok;
  }

  info(line: string): void {
    console.log(`       ${line}`);
  }

  /** A cut that held back nothing would make its phase prove nothing. */
  checkCut(what: string, cut: Proxy[]): void {
    const counts = cut.map((p) => `${p.listenPort}->${p.targetPort}: ${p.blackholed}`);
    this.check(what, cut.every((p) => p.blackholed > 0), `connections blackholed per proxy: ${counts.join(', ')}`);
    for (const p of cut) p.blackholed = 0;
  }

  /** The summary of every phase run, the worst figures, and how long the suite took. */
  printSummary(suiteStart: number): void {
    console.log('summary:');
    for (const line of this.summary) this.info(line);
    const { worstAvailability, worstConvergence } = this;
    if (worstAvailability.ratio <= 1) this.info(`worst availability while a process was down: ${(100 * worstAvailability.ratio).toFixed(2)} % ${worstAvailability.phase}`);
    this.info(`worst convergence: ${Number.isFinite(worstConvergence.ms) ? secs(worstConvergence.ms) : 'never'} ${worstConvergence.phase}`);
    this.info(`suite took ${secs(Date.now() - suiteStart)}`);
  }
}
