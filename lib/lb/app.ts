/**
 * The LB's HTTP API: answers what it can from the request line and headers
 * (406, 415, a bad tea name, a body too large) and forwards the rest to a
 * DB, relaying the DB's status and body.
 */
import Koa, { Context } from 'koa';
import Router from '@koa/router';
import { LIMITS } from '../core/limits';
import { Ring, dbName } from '../core/ring';
import {
  HttpError, ROUTER_OPTIONS, bodiesInFlight, jsonApp, methodNotAllowed, readRawBody, requireJsonContentType, teaFromPath,
} from '../http/common';
import { Logger } from '../log';
import { HttpClient } from '../net/httpClient';
import { DbHealth } from './health';
import { parseConsistency, readTarget } from './routing';

export interface LBOptions {
  ndb: number;
  dbHost: string;
  dbBasePort: number;
  http: HttpClient;
  log: Logger;
  random?: () => number;
  /** Which DBs are up; lbApp makes one (without starting its probe) when not given. */
  health?: DbHealth;
}

/**
 * A DB that has not answered in this long is treated as failed and the
 * request goes to the next DB in ring order. Far above a DB's latency under
 * load (milliseconds), short enough that a cut-off DB costs a client little.
 */
export const DB_TIMEOUT_MS = 2000;

export function dbUrls(host: string, basePort: number, ndb: number): string[] {
  return Array.from({ length: ndb }, (_, i) => `http://${host}:${basePort + i}`);
}

export function lbApp(options: LBOptions): Koa {
  const { http, log } = options;
  const ring = new Ring(options.ndb);
  const random = options.random ?? Math.random;

  const urls = dbUrls(options.dbHost, options.dbBasePort, options.ndb);
  const health = options.health ?? new DbHealth(urls, http);

  /**
   * Send to the first DB of `order` that answers: those believed up first,
   * in ring order, then the others as a last resort. A DB that cannot be
   * reached, or answers 503 (its Redis is down), is marked down and skipped.
   * A write that lands on a DB other than the tea's primary makes that DB
   * the primary of its gossip tuple, so gossip still carries it everywhere.
   */
  async function forward(ctx: Context, order: number[], tea: string, method: string, body?: Buffer, headers?: Record<string, string>): Promise<void> {
    const path = `/rating/${encodeURIComponent(tea)}`;
    const tries = [...order.filter((db) => health.isUp(db)), ...order.filter((db) => !health.isUp(db))];
    for (const db of tries) {
      let res;
      try {
        res = await http.request(method, `${urls[db]}${path}`, body, DB_TIMEOUT_MS, headers);
      } catch (e) {
        health.markDown(db);
        log.warnEvery(`db${db}`, 5000, `${dbName(db)} unreachable, failing over: ${(e as Error).message}`);
        continue;
      }
      if (res.status === 503) {
        health.markDown(db);
        continue;
      }
      ctx.status = res.status;
      ctx.type = 'application/json';
      ctx.body = res.body;
      return;
    }
    throw new HttpError(503, 'no DB is available');
  }

  const router = new Router(ROUTER_OPTIONS);
  const bodies = bodiesInFlight(LIMITS.bodiesInFlight);
  // The body goes to the DB as it came, Content-Type and Content-Encoding included: the DB checks
  // it and says what is wrong (it must, as writes may be sent to it directly), and the LB does
  // not do that work twice. Measured: parsing, checking and re-serialising the body here was
  // about 8% of the LB's CPU per PUT. The LB bounds its size only.
  router.put('/rating/:tea', requireJsonContentType, bodies, async (ctx) => {
    const tea = teaFromPath(ctx.path);
    const body = await readRawBody(ctx.req, LIMITS.bodyBytes);
    const headers: Record<string, string> = { 'content-type': ctx.get('content-type') };
    const encoding = ctx.get('content-encoding');
    if (encoding !== '') headers['content-encoding'] = encoding;
    await forward(ctx, ring.walkFrom(ring.primaryOf(tea)), tea, 'PUT', body, headers);
  });
  router.get('/rating/:tea', async (ctx) => {
    const tea = teaFromPath(ctx.path);
    const consistency = parseConsistency(ctx.query.consistency);
    if (consistency === null) throw new HttpError(400, 'consistency must be strong or weak');
    await forward(ctx, ring.walkFrom(readTarget(ring, tea, consistency, random)), tea, 'GET');
  });
  router.delete('/rating/:tea', async (ctx) => {
    const tea = teaFromPath(ctx.path);
    await forward(ctx, ring.walkFrom(ring.primaryOf(tea)), tea, 'DELETE');
  });
  router.all('/rating/:tea', methodNotAllowed(['GET', 'PUT', 'DELETE']));
  // Which process answers: a harness that starts a new LB the moment it signals the old one tells them apart by pid.
  router.get('/health', (ctx) => {
    ctx.body = { name: 'lb', pid: process.pid, up: urls.map((_, db) => health.isUp(db)) };
  });

  return jsonApp(log, router);
}
