/**
 * The probes of issue 16 against a cluster of their own, with the issue's
 * figures (larger than the suite's), printing what each saw:
 *
 *   node dist/test/hostile/report.js [--only 1,2,...]
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { bigDelete, internalRoutes, largeClocks, operations, sameTeaBatch, siblingFlood } from './probes';
import { hostileCluster, startTarget } from './target';

const PROBES: Record<string, (t: Awaited<ReturnType<typeof startTarget>>) => Promise<Record<string, unknown>>> = {
  1: (t) => siblingFlood(t, { puts: 5000, ids: 1000, concurrency: 64 }),
  2: (t) => largeClocks(t, 100, 1024),
  3: (t) => bigDelete(t, 600),
  4: (t) => sameTeaBatch(t, 5000, 1000, 5000),
  5: (t) => internalRoutes(t, 200),
  '5s': (t) => internalRoutes(t, 200, true),
  6: (t) => operations(t, 200_000, 40_000),
};

async function main(): Promise<void> {
  const argv = yargs(hideBin(process.argv)).option('only', { type: 'string', default: '1,2,3,4,5,5s,6' }).strict().parseSync();
  for (const item of argv.only.split(',')) {
    const cluster = hostileCluster(`hostile-report-${item}`);
    try {
      const t = await startTarget(cluster);
      const start = Date.now();
      const seen = await Promise.race([PROBES[item](t), new Promise<Record<string, unknown>>((r) => setTimeout(() => r({ timedOut: true }), 180_000))]);
      console.log(`item ${item} (${Date.now() - start} ms): ${JSON.stringify(seen)}`);
      const dead = [...cluster.dbs, cluster.queue, cluster.lb].filter((p) => p && (p.child.exitCode !== null || p.child.signalCode !== null));
      console.log(`  processes that died: ${dead.map((p) => `${p!.role} (${p!.child.signalCode ?? p!.child.exitCode}): ${p!.stderr().slice(-300)}`).join('; ') || 'none'}`);
    } catch (e) {
      console.log(`item ${item}: failed: ${(e as Error).stack}`);
    } finally {
      await cluster.stopAll();
    }
  }
}

main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
