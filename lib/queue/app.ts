/**
 * The queue service's HTTP API. SPEC.md's part: PUT /q/<channel> appends,
 * GET /q/<channel> removes the oldest ({} when empty), DELETE /clear empties
 * everything. The DBs use three more routes: a batch put, and lease / ack so
 * that a message is only forgotten once it has been applied.
 */
import Koa from 'koa';
import Router from '@koa/router';
import { LIMITS } from '../core/limits';
import {
  HttpError, jsonBody, jsonErrors, methodNotAllowed, parseJsonBody, requireAcceptJson, requireJsonContentType,
} from '../http/common';
import { Logger } from '../log';
import { ChannelStore } from './channelStore';

/** Channel names are short ids like db3; this bounds what a client can make the queue keep. */
const MAX_CHANNEL_NAME = 256;
/** A lease long enough for any drain, short enough that a dead DB's messages come back soon. */
export const MAX_LEASE_MS = 60_000;
const MAX_LEASE_COUNT = 10_000;

function channelOf(param: string | undefined): string {
  const channel = param ?? '';
  if (channel.length === 0 || channel.length > MAX_CHANNEL_NAME) {
    throw new HttpError(400, `channel name must be 1 to ${MAX_CHANNEL_NAME} characters`);
  }
  return channel;
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function intIn(x: unknown, lo: number, hi: number, what: string): number {
  if (!Number.isInteger(x) || (x as number) < lo || (x as number) > hi) throw new HttpError(400, `${what} must be an integer ${lo}..${hi}`);
  return x as number;
}

/** The longest a consumer may wait for a message in one request. */
export const MAX_WAIT_MS = 60_000;

export function queueApp(store: ChannelStore, log: Logger): Koa {
  const bulk = jsonBody(LIMITS.bulkBytes);
  const router = new Router();
  // Consumers waiting for a channel to have messages (GET /q/<channel>/wait).
  const waiters = new Map<string, Set<() => void>>();
  const wake = (channel: string) => {
    const set = waiters.get(channel);
    if (!set) return;
    waiters.delete(channel);
    for (const resolve of set) resolve();
  };
  router.put('/q/:channel', requireJsonContentType, parseJsonBody, async (ctx) => {
    const channel = channelOf(ctx.params.channel);
    const body: unknown = ctx.request.body;
    if (!isObject(body)) throw new HttpError(400, 'a queue message must be a JSON object');
    ctx.body = { channel, length: await store.put(channel, [body]) };
    wake(channel);
  });
  router.get('/q/:channel', async (ctx) => {
    ctx.body = (await store.take(channelOf(ctx.params.channel))) ?? {};
  });
  router.all('/q/:channel', methodNotAllowed(['GET', 'PUT']));
  router.post('/q/:channel/batch', requireJsonContentType, bulk, async (ctx) => {
    const channel = channelOf(ctx.params.channel);
    const body: unknown = ctx.request.body;
    if (!isObject(body) || !Array.isArray(body.messages) || !body.messages.every(isObject)) {
      throw new HttpError(400, 'a batch must be {"messages": [<object>, ...]}');
    }
    ctx.body = { channel, length: await store.put(channel, body.messages as object[]) };
    wake(channel);
  });
  // A long poll: answers {"waiting": n} as soon as the channel has messages, or after `ms`
  // with what it has then. DBs wait here instead of polling, so an idle ring costs nothing
  // and gossip is taken the moment it arrives. It takes nothing: the DB then drains.
  router.get('/q/:channel/wait', async (ctx) => {
    const channel = channelOf(ctx.params.channel);
    const ms = intIn(Number(ctx.query.ms), 0, MAX_WAIT_MS, 'ms');
    let waiting = await store.waiting(channel);
    if (waiting === 0 && ms > 0) {
      await new Promise<void>((resolve) => {
        const set = waiters.get(channel) ?? new Set<() => void>();
        waiters.set(channel, set);
        const done = () => {
          clearTimeout(timer);
          set.delete(done);
          resolve();
        };
        const timer = setTimeout(done, ms);
        set.add(done);
        ctx.req.once('close', done);
      });
      waiting = await store.waiting(channel);
    }
    ctx.body = { waiting };
  });
  // The parameters are in the query, not a body: a drain is the queue's hottest call.
  router.post('/q/:channel/lease', async (ctx) => {
    const channel = channelOf(ctx.params.channel);
    const max = intIn(Number(ctx.query.max), 1, MAX_LEASE_COUNT, 'max');
    const ms = intIn(Number(ctx.query.ms), 1, MAX_LEASE_MS, 'ms');
    ctx.body = { messages: await store.lease(channel, max, ms) };
  });
  router.post('/q/:channel/ack', requireJsonContentType, bulk, async (ctx) => {
    const channel = channelOf(ctx.params.channel);
    const body: unknown = ctx.request.body;
    if (!isObject(body) || !Array.isArray(body.ids) || !body.ids.every((id) => typeof id === 'string')) {
      throw new HttpError(400, 'an ack must be {"ids": [<string>, ...]}');
    }
    ctx.body = { acked: await store.ack(channel, body.ids as string[]) };
  });
  router.delete('/clear', async (ctx) => {
    ctx.body = await store.clear();
  });
  router.all('/clear', methodNotAllowed(['DELETE']));

  const app = new Koa();
  app.use(jsonErrors(log));
  app.use(requireAcceptJson);
  app.use(router.routes());
  return app;
}
