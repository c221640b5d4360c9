/**
 * Phase "replication": PUT throughput at ndb 1 against ndb --ndb, both
 * systems restarted at ndb 1 and measured in paired slices (at --ndb 1, the
 * throughput phase's figures).
 */
import type { BenchContext } from '../context';
import { paired } from '../slices';
import type { Results } from '../types';
import { withWarmPair } from '../warmup';

export async function measureReplication(ctx: BenchContext, results: Results): Promise<NonNullable<Results['replication']>> {
  const replication: NonNullable<Results['replication']> = { ndb: ctx.opts.ndb };
  if (ctx.opts.ndb === 1) {
    replication.storeNdb1 = results.store?.throughput?.put;
    replication.baselineNdb1 = results.baseline?.throughput?.put;
    return replication;
  }
  const c = ctx.opts.concurrency;
  await withWarmPair(ctx, 1, async ({ baseline, store }) => {
    const [b, s1] = await paired(ctx, `PUT c=${c}`, c, ctx.load.putMain, [baseline.sys, store.sys]);
    replication.baselineNdb1 = b;
    replication.storeNdb1 = s1;
  });
  return replication;
}
