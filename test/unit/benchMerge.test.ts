/**
 * The benchmark's merging of paired slices (bench/run.ts): a phase measured
 * in slices must report what one phase over all of them would.
 */
import { expect } from 'chai';
import { CpuUse, mergeCpu } from '../../bench/cpu';
import { PhaseResult, mergePhases, replicationPace, runPhase } from '../../bench/load';
import { buildSummary, errorsOf } from '../../bench/report';
import type { Results, SystemRun } from '../../bench/types';

/** A slice whose requests each take `ms` (a fake sender: no sockets). */
function slice(ms: number, durationMs: number) {
  return runPhase({
    label: `slice ${ms}`, concurrency: 1, warmupMs: 0, durationMs,
    next: () => ({ method: 'GET', path: '/' }),
    send: () => new Promise((resolve) => setTimeout(() => resolve(200), ms)),
  });
}

describe('bench: merging paired slices', () => {
  it('mergePhases adds counts and seconds, and takes percentiles over every slice\'s samples', async () => {
    const fast = await slice(1, 150);
    const slow = await slice(20, 150);
    const merged = mergePhases('both', [fast, slow]);
    expect(merged.ok).to.equal(fast.ok + slow.ok);
    expect(merged.seconds).to.be.closeTo(0.3, 1e-9);
    expect(merged.throughput).to.be.closeTo(merged.ok / 0.3, 1e-9);
    expect(merged.latencyMs.min).to.equal(Math.min(fast.latencyMs.min, slow.latencyMs.min));
    expect(merged.latencyMs.max).to.equal(Math.max(fast.latencyMs.max, slow.latencyMs.max));
    // Most requests are fast ones, so the median is a fast one's, and the p99 a slow one's.
    expect(fast.ok).to.be.greaterThan(3 * slow.ok);
    expect(merged.latencyMs.p50).to.be.lessThan(slow.latencyMs.min);
    expect(merged.latencyMs.p99).to.be.at.least(slow.latencyMs.min);
    const mean = (fast.latencyMs.mean * fast.ok + slow.latencyMs.mean * slow.ok) / merged.ok;
    expect(merged.latencyMs.mean).to.be.closeTo(mean, 1e-6);
    // And merging a merge changes nothing.
    expect(mergePhases('again', [merged]).latencyMs).to.deep.equal(merged.latencyMs);
  });

  it('mergeCpu weights cores by time and CPU per request by requests', () => {
    const use = (serverCores: number, serverUsPerRequest: number): CpuUse => ({
      serverCores, loadGeneratorCores: 0.5, otherCores: 0, machineCores: 2, serverUsPerRequest,
    });
    const merged = mergeCpu([
      { cpu: use(1, 100), seconds: 1, requests: 300 },
      { cpu: use(2, 400), seconds: 3, requests: 100 },
    ])!;
    expect(merged.serverCores).to.be.closeTo((1 * 1 + 2 * 3) / 4, 1e-9);
    expect(merged.serverUsPerRequest).to.be.closeTo((100 * 300 + 400 * 100) / 400, 1e-9);
    expect(merged.loadGeneratorCores).to.be.closeTo(0.5, 1e-9);
    expect(mergeCpu([])).to.equal(undefined);
  });

  describe('replicationPace: the backlog a load builds, apart from the pipeline\'s fixed latency', () => {
    it('a catch-up that does not grow with the load\'s length is no backlog at all', () => {
      const pace = replicationPace({ seconds: 1.25, catchUpSeconds: 0.33 }, { seconds: 5, catchUpSeconds: 0.33 });
      expect(pace.backlogPerSecond).to.equal(0);
    });

    it('a catch-up that grows with the load is backlog, per second of load', () => {
      // Replication at 5/6 of the accepted rate: each second of load leaves 0.2 s of work behind.
      const pace = replicationPace({ seconds: 1.25, catchUpSeconds: 0.33 + 0.25 }, { seconds: 5, catchUpSeconds: 0.33 + 1 });
      expect(pace.backlogPerSecond).to.be.closeTo(0.2, 1e-9);
      expect(pace.short.seconds).to.equal(1.25);
      expect(pace.long.catchUpSeconds).to.be.closeTo(1.33, 1e-9);
    });

    it('a longer load that happened to catch up sooner (noise) is no backlog, not a negative one', () => {
      expect(replicationPace({ seconds: 1.25, catchUpSeconds: 0.4 }, { seconds: 5, catchUpSeconds: 0.3 }).backlogPerSecond).to.equal(0);
    });

    it('refuses a "long" load that is not longer than the short one', () => {
      expect(() => replicationPace({ seconds: 5, catchUpSeconds: 0.3 }, { seconds: 5, catchUpSeconds: 0.4 })).to.throw(/longer/);
    });
  });
});

describe('bench: the error count covers every measured load', () => {
  const latency = { min: 1, mean: 1, p50: 1, p75: 1, p90: 1, p95: 1, p99: 1, p999: 1, max: 1 };
  const result = (label: string, errors: number): PhaseResult => ({
    label, concurrency: 32, seconds: 5, ok: 5000, errors, errorSamples: [], throughput: 1000, latencyMs: latency, loadCpuUsPerRequest: 50,
  });
  const run = (kind: 'store' | 'baseline', longLoadErrors?: number): SystemRun => ({
    kind, ndb: 4, processes: [], warmup: { seconds: 1, errors: 0, errorSamples: [] },
    throughput: {
      put: result('PUT', 0), get: result('GET', 0),
      ...(longLoadErrors === undefined ? {} : { putLongLoad: result('PUT, one long load', longLoadErrors) }),
    },
  });
  const results = (longLoadErrors: number) => ({ store: run('store', longLoadErrors), baseline: run('baseline') }) as unknown as Results;

  it('errors in the store\'s long PUT load (replication pace) count, and fail the zero-errors target', () => {
    expect(errorsOf(results(0), 'store')).to.equal(0);
    expect(errorsOf(results(3), 'store')).to.equal(3);
    const target = (r: Results) => buildSummary({ ...r, options: { ndb: 4, concurrency: 32 } } as Results).targets.find((t) => t.name === 'store errors');
    expect(target(results(0))?.pass).to.equal(true);
    expect(target(results(3))?.pass).to.equal(false);
  });
});
