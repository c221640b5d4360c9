/**
 * The LB's HTTP API: checks what it can answer itself (406, 415, 400) and
 * forwards the rest to a DB, relaying the DB's status and body.
 */
import Koa, { Context } from 'koa';
import Router from '@koa/router';
import { Ring, dbName } from '../core/ring';
import { parseWrite } from '../core/wire';
import {
  HttpError, jsonErrors, methodNotAllowed, parseJsonBody, requireAcceptJson, requireJsonContentType, teaFromPath,
} from '../http/common';
import { Logger } from '../log';
import { HttpClient } from '../net/httpClient';
import { parseConsistency, readTarget } from './routing';

export interface LBOptions {
  ndb: number;
  dbHost: string;
  dbBasePort: number;
  http: HttpClient;
  log: Logger;
  random?: () => number;
}

export function lbApp(options: LBOptions): Koa {
  const { http, log } = options;
  const ring = new Ring(options.ndb);
  const random = options.random ?? Math.random;

  async function forward(ctx: Context, db: number, tea: string, method: string, body?: string): Promise<void> {
    const url = `http://${options.dbHost}:${options.dbBasePort + db}/rating/${encodeURIComponent(tea)}`;
    let res;
    try {
      res = await http.request(method, url, body);
    } catch (e) {
      log.warnEvery(`db${db}`, 5000, `${dbName(db)} unreachable: ${(e as Error).message}`);
      throw new HttpError(503, `${dbName(db)} is unavailable`);
    }
    ctx.status = res.status;
    ctx.type = 'application/json';
    ctx.body = res.body;
  }

  const router = new Router();
  router.put('/rating/:tea', requireJsonContentType, parseJsonBody, async (ctx) => {
    const tea = teaFromPath(ctx.path);
    const write = parseWrite(ctx.request.body);
    if (!write.ok) throw new HttpError(400, write.error);
    const body = JSON.stringify({ rating: write.value.choice, clock: write.value.clock });
    await forward(ctx, ring.primaryOf(tea), tea, 'PUT', body);
  });
  router.get('/rating/:tea', async (ctx) => {
    const tea = teaFromPath(ctx.path);
    const consistency = parseConsistency(ctx.query.consistency);
    if (consistency === null) throw new HttpError(400, 'consistency must be strong or weak');
    await forward(ctx, readTarget(ring, tea, consistency, random), tea, 'GET');
  });
  router.delete('/rating/:tea', async (ctx) => {
    const tea = teaFromPath(ctx.path);
    await forward(ctx, ring.primaryOf(tea), tea, 'DELETE');
  });
  router.all('/rating/:tea', methodNotAllowed(['GET', 'PUT', 'DELETE']));

  const app = new Koa();
  app.use(jsonErrors(log));
  app.use(requireAcceptJson);
  app.use(router.routes());
  return app;
}
