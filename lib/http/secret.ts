/**
 * The cluster secret: what the internal routes (a DB's /ae/*, the queue's
 * routes and its gossip link) require when one is configured, as
 * `Authorization: Bearer <secret>`. Without one they are open, as the
 * original harness runs them, and the server says so once at start-up.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Middleware } from 'koa';
import { HttpError } from './common';

const digest = (text: string) => createHash('sha256').update(text).digest();

/** Whether an Authorization header carries `secret` (compared in constant time); any header will do when there is none. */
export function carriesSecret(authorization: string | undefined, secret: string | null): boolean {
  if (secret === null) return true;
  const given = /^Bearer (.+)$/.exec(authorization ?? '')?.[1] ?? '';
  return timingSafeEqual(digest(given), digest(secret));
}

/** The headers an internal request carries. */
export function secretHeaders(secret: string | null): Record<string, string> {
  return secret === null ? {} : { authorization: `Bearer ${secret}` };
}

/** 401 unless the request carries the cluster secret (checked before its body is read). */
export function requireSecret(secret: string | null): Middleware {
  return async (ctx, next) => {
    if (!carriesSecret(ctx.get('authorization') || undefined, secret)) {
      throw new HttpError(401, 'this is an internal route: it needs the cluster secret (Authorization: Bearer <the secret in var/secret>)', { 'WWW-Authenticate': 'Bearer' });
    }
    await next();
  };
}
