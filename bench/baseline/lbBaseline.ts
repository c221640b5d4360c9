/**
 * Baseline LB: koa + @koa/router like the product's LB, forwarding PUT and GET
 * /rating/:tea to DB (hash of the tea mod ndb; weak GETs to a random DB) with
 * the product's keep-alive HTTP client, relaying status and body. No checks.
 *
 *   node dist/bench/baseline/lbBaseline.js '{"host":"127.0.0.1","port":10200,"ndb":4,"dbHost":"127.0.0.1","dbBasePort":10220,"httpClient":"got"}'
 */
import Koa, { Context } from 'koa';
import Router from '@koa/router';
import { benchHttpClient } from '../httpClientKinds';
import { DEFAULT_HTTP_CLIENT } from '../httpClientKinds';
import { fnv1a, listen, main, onStop, parseArg, readBody } from './common';

main('lbBaseline', async () => {
  const o = parseArg('lbBaseline');
  const host = String(o.host ?? '127.0.0.1');
  const port = Number(o.port);
  const ndb = Number(o.ndb);
  const dbHost = String(o.dbHost ?? host);
  const dbBasePort = Number(o.dbBasePort);
  const http = benchHttpClient(String(o.httpClient ?? DEFAULT_HTTP_CLIENT));

  async function forward(ctx: Context, db: number, method: string, body?: string): Promise<void> {
    const res = await http.request(method, `http://${dbHost}:${dbBasePort + db}/rating/${encodeURIComponent(ctx.params.tea)}`, body);
    ctx.status = res.status;
    ctx.type = 'application/json';
    ctx.body = res.body;
  }

  const router = new Router();
  router.put('/rating/:tea', async (ctx) => {
    await forward(ctx, fnv1a(ctx.params.tea) % ndb, 'PUT', await readBody(ctx.req));
  });
  router.get('/rating/:tea', async (ctx) => {
    const db = ctx.query.consistency === 'weak' ? Math.floor(Math.random() * ndb) : fnv1a(ctx.params.tea) % ndb;
    await forward(ctx, db, 'GET');
  });

  const app = new Koa();
  app.use(router.routes());
  const server = await listen(app, host, port);
  onStop(server, async () => http.close());
});
