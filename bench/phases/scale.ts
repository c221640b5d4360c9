/**
 * Phase "scale": one system at a time, since each tea count restarts its
 * servers over freshly loaded Redis; what it shows, cost per operation as
 * the data grows, is compared within a system.
 */
import type { BenchContext } from '../context';
import { measure } from '../slices';
import { preload, redisUsedMemory, scaleTea } from '../redis';
import { System, SystemKind, rssBytes } from '../systems';
import type { ScalePoint, SystemRun } from '../types';
import { idleUse, recordIdle, start, startWarm } from '../warmup';

export async function measureScale(ctx: BenchContext, kind: SystemKind, earlier: SystemRun | undefined): Promise<SystemRun> {
  // The scale phase wipes the data and restarts the servers, so a warm-up here would be thrown
  // away; it runs only when no earlier phase has given this system its run (and warm-up figures).
  const warm = earlier ? { sys: await start(ctx, kind, ctx.opts.ndb), run: earlier } : await startWarm(ctx, kind, ctx.opts.ndb);
  const { sys, run } = warm;
  try {
    if (!earlier) await recordIdle(ctx, warm);
    run.scale = [];
    for (const teas of ctx.opts.teas) run.scale.push(await scalePoint(ctx, sys, teas));
    return run;
  } finally {
    await sys.stop();
  }
}

/**
 * One tea count: stop the DBs and the LB, wipe, write the teas straight into
 * Redis, start the servers over that data (as after a restore: the store
 * indexes it at start-up), measure.
 */
async function scalePoint(ctx: BenchContext, sys: System, teas: number): Promise<ScalePoint> {
  const { opts, progress } = ctx;
  const c = opts.concurrency;
  const tag = `${sys.kind} ndb${opts.ndb}`;
  await sys.stopServers();
  await sys.wipe();
  const empty = await redisUsedMemory(sys);
  const t0 = Date.now();
  const task = progress.task(`${tag} preload ${teas.toLocaleString('en-US')} teas`, teas);
  await preload(sys, 0, teas, (done) => task.update(done));
  const preloadSeconds = (Date.now() - t0) / 1000;
  const t1 = Date.now();
  await sys.startServers();
  const startSeconds = (Date.now() - t1) / 1000;
  task.end(`written into Redis in ${preloadSeconds.toFixed(1)} s; servers up in ${startSeconds.toFixed(1)} s`);
  const idle = await idleUse(ctx, sys);
  const rnd = () => scaleTea(Math.floor(Math.random() * teas));
  const label = teas >= 1e6 ? `${teas / 1e6}M` : `${teas / 1e3}k`;
  const put = await measure(ctx, `${tag} ${label} teas PUT c=${c}`, c, () => ctx.load.putOp(rnd()), sys);
  const get = await measure(ctx, `${tag} ${label} teas GET c=${c}`, c, () => ({ method: 'GET', path: `/rating/${rnd()}` }), sys);
  const used = await redisUsedMemory(sys);
  const copies = sys.kind === 'store' ? opts.ndb : 1;
  const perTea = (used.reduce((a, b) => a + b, 0) - empty.reduce((a, b) => a + b, 0)) / teas;
  const point: ScalePoint = {
    teas, preloadSeconds, serverStartSeconds: startSeconds, idleServerCores: idle.cores, idleRedisCommandsPerSecond: idle.redisCommandsPerSecond, put, get, redisEmptyBytes: empty, redisUsedBytes: used,
    redisBytesPerTea: perTea, redisBytesPerTeaCopy: perTea / copies, copies,
    dbRssBytes: sys.dbPids().map(rssBytes), lbRssBytes: rssBytes(sys.lbPid()),
  };
  progress.log(`  ${`${tag} ${label} teas memory`.padEnd(40)} Redis ${Math.round(perTea)} B/tea over ${copies} cop${copies === 1 ? 'y' : 'ies'}, DB RSS ${(point.dbRssBytes.reduce((a, b) => a + b, 0) / 1024 / 1024).toFixed(1)} MB in all`);
  return point;
}
