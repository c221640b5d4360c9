/** The DB's HTTP API (docs/protocol.md): `/rating/<tea>` over a Replica. */
import Koa from 'koa';
import Router from '@koa/router';

import { parseWrite, viewOf } from '../core/wire';
import { BUCKETS } from '../core/antiEntropy';
import { LIMITS } from '../core/limits';
import { AntiEntropy } from './antiEntropy';
import {
  HttpError, ROUTER_OPTIONS, bodiesInFlight, jsonApp, jsonBody, methodNotAllowed, parseJsonBody, requireJsonContentType, teaFromPath,
} from '../http/common';
import { requireSecret } from '../http/secret';
import { Logger } from '../log';
import { Replica, ReplicaUnavailableError } from './replica';
import { FencedError } from './store';

/**
 * `storeUp` says whether Redis is reachable: when it is not, a failed
 * request is 503 (so the LB fails over to another DB) rather than 500, and
 * /health says so.
 */
export function dbApp(replica: Replica, antiEntropy: AntiEntropy, log: Logger, storeUp: () => boolean = () => true, secret: string | null = null): Koa {
  const router = new Router(ROUTER_OPTIONS);
  const internal = requireSecret(secret);
  const bulk = jsonBody(LIMITS.bulkBytes);
  router.put('/rating/:tea', requireJsonContentType, bodiesInFlight(LIMITS.bodiesInFlight), parseJsonBody, async (ctx) => {
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
    if (!storeUp()) throw new HttpError(503, `${replica.name}: Redis is unavailable`);
    const health = replica.health;
    if (health.status === 'superseded' || health.status === 'stopped') throw new HttpError(503, `${replica.name} is ${health.status}`);
    ctx.body = health;
  });
  // Anti-entropy between DBs (db/antiEntropy.ts).
  const bucketOfParam = (param: string | undefined) => {
    const b = Number(param);
    if (!Number.isInteger(b) || b < 0 || b >= BUCKETS) throw new HttpError(400, `bucket must be an integer 0..${BUCKETS - 1}`);
    return b;
  };
  router.get('/ae/buckets', internal, async (ctx) => {
    const sums = antiEntropy.sums();
    if (sums === null) throw new HttpError(503, `${replica.name} is still indexing its teas`);
    ctx.body = { sums };
  });
  // A bucket's answer may be megabytes: a few at once, like the bulk bodies the other way.
  router.get('/ae/buckets/:bucket', internal, bodiesInFlight(LIMITS.bulkReadsInFlight), async (ctx) => {
    ctx.body = { entries: await antiEntropy.entries(bucketOfParam(ctx.params.bucket)) };
  });
  router.put('/ae/buckets/:bucket', internal, requireJsonContentType, bodiesInFlight(LIMITS.bulkInFlight), bulk, async (ctx) => {
    const bucket = bucketOfParam(ctx.params.bucket);
    const body = ctx.request.body as { entries?: unknown };
    if (!Array.isArray(body?.entries)) throw new HttpError(400, 'body must be {"entries": [...]}');
    ctx.body = { merged: await antiEntropy.merge(body.entries, bucket) };
  });

  // A failure caused by Redis being down, or by this process no longer owning it, is 503: the LB fails over.
  const unavailableIs503: Koa.Middleware = async (_ctx, next) => {
    try {
      await next();
    } catch (e) {
      if (e instanceof ReplicaUnavailableError || e instanceof FencedError) throw new HttpError(503, e.message);
      if (!storeUp() && !(e instanceof HttpError && e.status < 500)) throw new HttpError(503, `${replica.name}: Redis is unavailable`);
      throw e;
    }
  };
  return jsonApp(log, router, unavailableIs503);
}
