/**
 * What every server's HTTP shell shares: JSON errors, content negotiation,
 * body parsing with limits, and reading the tea name from the path.
 */
import type { IncomingMessage } from 'node:http';
import Koa from 'koa';
import type Router from '@koa/router';
import type { Context, Middleware, Next } from 'koa';
import bodyParser from 'koa-bodyparser';
import { LIMITS } from '../core/limits';
import { checkTeaName } from '../core/wire';
import type { Logger } from '../log';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** Render every error as `{"error": "..."}` with its status; hide the details of 5xx. */
export function jsonErrors(log: Logger): Middleware {
  return async (ctx: Context, next: Next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        ctx.status = 404;
        ctx.body = { error: `no route for ${ctx.method} ${ctx.path}` };
      }
    } catch (e) {
      const err = e as { status?: number; statusCode?: number; message?: string; headers?: Record<string, string>; stack?: string };
      const status = err.status ?? err.statusCode ?? 500;
      // Our own HttpErrors (a 503 included) say what is wrong; other failures are bugs and say nothing.
      const expose = e instanceof HttpError || (Number.isInteger(status) && status >= 400 && status < 500);
      ctx.status = expose ? status : 500;
      ctx.body = { error: expose ? (err.message ?? 'bad request') : 'internal error' };
      if (err.headers) ctx.set(err.headers);
      if (!expose) log.error(`${ctx.method} ${ctx.path}: ${err.stack ?? String(e)}`);
    }
  };
}

/** Accept headers that plainly allow JSON, answered without running content negotiation (the common case, and a hot path). */
const PLAINLY_JSON = new Set(['', '*/*', 'application/json']);

/** 406 when the client's Accept header leaves out application/json (none, or * / *, is fine). */
export const requireAcceptJson: Middleware = async (ctx, next) => {
  const accept = ctx.get('accept');
  if (!PLAINLY_JSON.has(accept) && !ctx.accepts('application/json')) {
    throw new HttpError(406, 'this server only answers application/json');
  }
  await next();
};

/** 415 unless the body is declared as `type` (a charset parameter is fine). */
function requireContentType(type: string): Middleware {
  return async (ctx, next) => {
    if (ctx.get('content-type').split(';')[0].trim().toLowerCase() !== type) {
      throw new HttpError(415, `Content-Type must be ${type}, got ${JSON.stringify(ctx.get('content-type'))}`);
    }
    await next();
  };
}

export const requireJsonContentType: Middleware = requireContentType('application/json');

const tooLarge = (limitBytes: number) => new HttpError(413, `body is larger than ${limitBytes} bytes`);

/**
 * Run koa-bodyparser as middleware with our errors: 413 above `limitBytes`,
 * 400 (`what` and the parser's message) for anything else it rejects.
 */
function bodyWithLimit(parser: Middleware, limitBytes: number, what: string): Middleware {
  return async (ctx, next) => {
    try {
      await parser(ctx, async () => undefined);
    } catch (e) {
      const err = e as { status?: number; message?: string };
      if (err.status === 413) throw tooLarge(limitBytes);
      throw new HttpError(400, `${what}: ${err.message ?? 'parse error'}`);
    }
    await next();
  };
}

/**
 * Parse a JSON body: 413 above `limitBytes`, 400 when it is not a JSON object
 * or array. Client-facing routes keep LIMITS.bodyBytes; internal bulk routes
 * (gossip batches, anti-entropy) allow more.
 */
export function jsonBody(limitBytes: number): Middleware {
  const parser = bodyParser({ enableTypes: ['json'], jsonLimit: String(limitBytes), strict: true });
  return bodyWithLimit(parser, limitBytes, 'body is not valid JSON');
}

export const parseJsonBody: Middleware = jsonBody(LIMITS.bodyBytes);

/**
 * The request body's bytes as they came, not decoded or parsed, for a server
 * that passes a body on (the LB): 413 as soon as it is known to be larger
 * than `limitBytes`, by its Content-Length or by what has arrived.
 */
export function readRawBody(req: IncomingMessage, limitBytes: number): Promise<Buffer> {
  if (Number(req.headers['content-length']) > limitBytes) return Promise.reject(tooLarge(limitBytes));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limitBytes) {
        // Node discards the rest once the answer has gone.
        stop();
        req.pause();
        reject(tooLarge(limitBytes));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      stop();
      resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size));
    };
    const onError = (e: Error) => {
      stop();
      reject(new HttpError(400, `body could not be read: ${e.message}`));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}

export const NDJSON = 'application/x-ndjson';

/**
 * Read an NDJSON body (one JSON value per line) as text into
 * ctx.request.body: 415 unless it is declared application/x-ndjson, 413
 * above `limitBytes`. The lines are the route's to check.
 */
export function ndjsonBody(limitBytes: number): Middleware {
  const parser = bodyParser({ enableTypes: ['text'], extendTypes: { text: [NDJSON] }, textLimit: String(limitBytes) });
  const requireNdjson = requireContentType(NDJSON);
  const read = bodyWithLimit(parser, limitBytes, 'body could not be read');
  return (ctx, next) => requireNdjson(ctx, () => read(ctx, next));
}

/**
 * At most `max` requests of a route read and handle their bodies at once;
 * past that, 429 with Retry-After, before a byte of the body is read: with
 * each body bounded too, no mix of requests can make a server hold more
 * than max x its limit (decompressed) for that route.
 */
export function bodiesInFlight(max: number): Middleware {
  let inFlight = 0;
  return async (_ctx, next) => {
    if (inFlight >= max) throw new HttpError(429, `${max} bodies of this route are being read already; retry in a second`, { 'Retry-After': '1' });
    inFlight++;
    try {
      await next();
    } finally {
      inFlight--;
    }
  };
}

/** Route paths match exactly as written: `/RATING/x` is not `/rating/x` (koa-router ignores case by default). */
export const ROUTER_OPTIONS = Object.freeze({ sensitive: true });

/** The tea name of `/rating/<tea>`: one path segment, percent-decoded, within limits. */
export function teaFromPath(path: string): string {
  const raw = path.replace(/^\/rating\//, '').replace(/\/$/, '');
  let tea: string;
  try {
    tea = decodeURIComponent(raw);
  } catch {
    throw new HttpError(400, 'tea name is not valid percent-encoding');
  }
  const problem = checkTeaName(tea);
  if (problem) throw new HttpError(400, problem);
  return tea;
}

/** A catch-all for a route's other methods: 405 with an Allow header. */
export function methodNotAllowed(allowed: string[]): Middleware {
  return async (ctx) => {
    throw new HttpError(405, `${ctx.method} is not allowed on ${ctx.path}; use ${allowed.join(', ')}`, { Allow: allowed.join(', ') });
  };
}

/**
 * A JSON API as every server here assembles it: errors as JSON, a 406 for
 * clients that will not take JSON, then `middleware` (if any) and the routes.
 */
export function jsonApp(log: Logger, router: Router, ...middleware: Middleware[]): Koa {
  const app = new Koa();
  app.use(jsonErrors(log));
  for (const m of middleware) app.use(m);
  app.use(requireAcceptJson);
  app.use(router.routes());
  return app;
}
