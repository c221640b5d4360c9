/** Phase "clients": the HTTP client micro-benchmark (bench/httpClients.ts) for the LB->DB and DB->Q hops. */
import type { BenchContext } from '../context';
import { ClientResult, runClientBench } from '../httpClients';

export async function measureClients(ctx: BenchContext): Promise<ClientResult[]> {
  const { progress } = ctx;
  progress.log('\nHTTP clients (micro-benchmark against a trivial koa server):');
  return runClientBench({
    root: ctx.root, host: ctx.defaults.host, concurrency: ctx.opts.concurrency, warmupMs: ctx.warmupMs, durationMs: ctx.durationMs,
    progress: (label) => progress.phase(label),
    done: (r) => progress.done(r),
  });
}
