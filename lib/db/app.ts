/** The DB's HTTP API (SPEC.md): `/rating/<tea>` over a Replica. */
import Koa from 'koa';
import Router from '@koa/router';

import { parseWrite, viewOf } from '../core/wire';
import {
  HttpError, jsonErrors, methodNotAllowed, parseJsonBody, requireAcceptJson, requireJsonContentType, teaFromPath,
} from '../http/common';
import { Logger } from '../log';
import { Replica } from './replica';

export function dbApp(replica: Replica, log: Logger): Koa {
  const router = new Router();
  router.put('/rating/:tea', requireJsonContentType, parseJsonBody, async (ctx) => {
    const tea = teaFromPath(ctx.path);
    const write = parseWrite(ctx.request.body);
    if (!write.ok) throw new HttpError(400, write.error);
    const state = await replica.write(tea, write.value);
    ctx.body = { rating: viewOf(state).rating };
  });
  router.get('/rating/:tea', async (ctx) => {
    const tea = teaFromPath(ctx.path);
    ctx.body = viewOf(await replica.read(tea));
  });
  router.delete('/rating/:tea', async (ctx) => {
    const tea = teaFromPath(ctx.path);
    const after = await replica.delete(tea);
    if (after === null) throw new HttpError(404, `${replica.name} does not hold ${JSON.stringify(tea)}`);
    ctx.body = { rating: null };
  });
  router.all('/rating/:tea', methodNotAllowed(['GET', 'PUT', 'DELETE']));
  router.get('/health', async (ctx) => {
    ctx.body = { name: replica.name, pending: replica.pending };
  });

  const app = new Koa();
  app.use(jsonErrors(log));
  app.use(requireAcceptJson);
  app.use(router.routes());
  return app;
}
