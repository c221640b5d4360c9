/**
 * Baseline DB: koa + @koa/router like the product's DB, doing one Redis hash
 * write (PUT) or one hash read (GET) per request and nothing else.
 *
 *   node dist/bench/baseline/dbBaseline.js '{"id":0,"host":"127.0.0.1","port":10220,"redisHost":"127.0.0.1","redisPort":10240}'
 */
import Koa from 'koa';
import Router from '@koa/router';
import Redis from 'ioredis';
import { listen, main, onStop, parseArg, readBody } from './common';

main('dbBaseline', async () => {
  const o = parseArg('dbBaseline');
  const host = String(o.host ?? '127.0.0.1');
  const port = Number(o.port);
  const redis = new Redis({ host: String(o.redisHost ?? host), port: Number(o.redisPort), lazyConnect: true, maxRetriesPerRequest: 2 });
  redis.on('error', () => undefined);
  await redis.connect();

  const router = new Router();
  router.put('/rating/:tea', async (ctx) => {
    const body = JSON.parse(await readBody(ctx.req)) as { rating: number; clock: object };
    await redis.hset(`/rating/${ctx.params.tea}`, 'rating', String(body.rating), 'choices', `[${body.rating}]`, 'clocks', `[${JSON.stringify(body.clock)}]`);
    ctx.type = 'application/json';
    ctx.body = `{"rating":${body.rating}}`;
  });
  router.get('/rating/:tea', async (ctx) => {
    const h = await redis.hgetall(`/rating/${ctx.params.tea}`);
    ctx.type = 'application/json';
    ctx.body = h.clocks === undefined
      ? '{"rating":0,"choices":[],"clocks":[]}'
      : `{"rating":${h.rating},"choices":${h.choices},"clocks":${h.clocks}}`;
  });

  const app = new Koa();
  app.use(router.routes());
  const server = await listen(app, host, port);
  onStop(server, async () => {
    await redis.quit();
  });
});
