/**
 * Phase "throughput": --concurrency clients, PUT then strong GET, on both
 * systems in paired slices; between them, one more store-only PUT load as
 * long as the whole phase, which tells whether replication keeps up.
 */
import type { BenchContext } from '../context';
import { PhaseResult, replicationPace } from '../load';
import { PHASE_SLICES, measure, paired } from '../slices';
import type { System } from '../systems';
import type { Warm } from '../warmup';

export async function measureThroughput(ctx: BenchContext, pair: { baseline: Warm; store: Warm }): Promise<void> {
  const { load } = ctx;
  const c = ctx.opts.concurrency;
  const both = [pair.baseline, pair.store];
  const systems = both.map((x) => x.sys);
  const put = await paired(ctx, `PUT c=${c}`, c, load.putMain, systems);
  const putLongLoad = await measureReplicationPace(ctx, put[both.indexOf(pair.store)], pair.store.sys);
  const get = await paired(ctx, `GET c=${c}`, c, (k) => load.getSpread(k), systems);
  both.forEach(({ run }, i) => (run.throughput = { put: put[i], get: get[i] }));
  // Its requests count like any phase's (errors above all).
  if (putLongLoad) pair.store.run.throughput!.putLongLoad = putLongLoad;
}

/**
 * Whether the store's replication keeps up with the c=32 PUT load whose
 * slices `put` merges: one more load as long as the whole phase, and the
 * catch-up after it against the slices' (replicationPace() in load.ts).
 * Sets put's pace and sustained throughput; returns the longer load.
 */
async function measureReplicationPace(ctx: BenchContext, put: PhaseResult, sys: System): Promise<PhaseResult | undefined> {
  if (put.catchUpSeconds === undefined) return undefined;
  const c = ctx.opts.concurrency;
  const long = await measure(ctx, `${sys.kind} ndb${sys.ndb} PUT c=${c}, one ${ctx.opts.duration} s load`, c, ctx.load.putMain, sys);
  const pace = replicationPace({ seconds: put.seconds / PHASE_SLICES, catchUpSeconds: put.catchUpSeconds }, { seconds: long.seconds, catchUpSeconds: long.catchUpSeconds! });
  put.replicationPace = pace;
  put.sustainedThroughput = put.throughput / (1 + pace.backlogPerSecond);
  ctx.progress.log(`  ${''.padEnd(40)} replication backlog ${pace.backlogPerSecond.toFixed(3)} s per s of load: ${put.sustainedThroughput.toFixed(0)} writes/s sustained`);
  return long;
}
