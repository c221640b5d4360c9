/** Phase "latency": sequential (one client) PUT, strong GET and weak GET, on both systems in paired slices. */
import type { BenchContext } from '../context';
import { paired } from '../slices';
import type { Warm } from '../warmup';

export async function measureLatency(ctx: BenchContext, both: readonly Warm[]): Promise<void> {
  const { load } = ctx;
  const systems = both.map((x) => x.sys);
  const [put, getStrong, getWeak] = [
    await paired(ctx, 'PUT sequential', 1, load.putMain, systems),
    await paired(ctx, 'GET strong sequential', 1, (k) => load.getSpread(k), systems),
    await paired(ctx, 'GET weak sequential', 1, (k) => load.getSpread(k, '?consistency=weak'), systems),
  ];
  both.forEach(({ run }, i) => (run.latency = { put: put[i], getStrong: getStrong[i], getWeak: getWeak[i] }));
}
