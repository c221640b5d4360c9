/**
 * The queue service's HTTP API. SPEC.md's part: PUT /q/<channel> appends,
 * GET /q/<channel> removes the oldest ({} when empty), DELETE /clear empties
 * everything. The DBs use more routes: a batch put, and lease / ack so that
 * a message is only forgotten once it has been applied; a batch and a lease
 * travel as NDJSON, one message per line, which the queue checks but never
 * re-encodes (channelStore.ts), plus a long poll for "messages are waiting".
 */
import Koa from 'koa';
import Router from '@koa/router';
import { LIMITS } from '../core/limits';
import {
  HttpError, NDJSON, jsonBody, jsonErrors, methodNotAllowed, ndjsonBody, parseJsonBody, requireAcceptJson, requireJsonContentType,
} from '../http/common';
import { Logger } from '../log';
import { ChannelStore, Leased } from './channelStore';

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

/** A lease's `ack` parameter: lease ids, comma-separated (ids are what lease handed out: digits). */
export function ackIdsOf(param: string | string[] | undefined): string[] {
  if (param === undefined || param === '') return [];
  if (Array.isArray(param)) throw new HttpError(400, 'ack must be given once, as comma-separated lease ids');
  const ids = param.split(',');
  if (ids.length > MAX_LEASE_COUNT) throw new HttpError(400, `ack takes at most ${MAX_LEASE_COUNT} lease ids`);
  if (!ids.every((id) => /^[0-9]{1,20}$/.test(id))) throw new HttpError(400, 'ack must be comma-separated lease ids (digits)');
  return ids;
}

/**
 * The messages of an NDJSON batch, each line as it came (without surrounding
 * whitespace): 400 naming the first line that is not a JSON object. Blank
 * lines are skipped.
 */
export function batchMessages(text: string): string[] {
  const messages: string[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (e) {
      throw new HttpError(400, `line ${i + 1} of the batch is not JSON: ${(e as Error).message}`);
    }
    if (!isObject(value)) throw new HttpError(400, `line ${i + 1} of the batch is not a JSON object`);
    messages.push(line);
  }
  return messages;
}

/**
 * Leased chunks as NDJSON: a first line {"chunks": [{"id", "n"}, ...]}, then
 * the n messages of each chunk, one per line, in order.
 */
export function leaseNdjson(chunks: Leased[]): string {
  const header = JSON.stringify({ chunks: chunks.map((c) => ({ id: c.id, n: c.messages.length })) });
  return [header, ...chunks.flatMap((c) => c.messages)].join('\n') + '\n';
}

/** The same as one JSON object, {"chunks": [{"id", "messages": [...]}]}, for clients that only take JSON. */
function leaseJson(chunks: Leased[]): string {
  return `{"chunks":[${chunks.map((c) => `{"id":${JSON.stringify(c.id)},"messages":[${c.messages.join(',')}]}`).join(',')}]}`;
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
    ctx.body = { channel, length: await store.put(channel, [JSON.stringify(body)]) };
    wake(channel);
  });
  router.get('/q/:channel', async (ctx) => {
    const message = await store.take(channelOf(ctx.params.channel));
    ctx.type = 'application/json';
    ctx.body = message ?? '{}';
  });
  router.all('/q/:channel', methodNotAllowed(['GET', 'PUT']));
  // A DB's digest: NDJSON, one message per line, kept together as one chunk.
  router.post('/q/:channel/batch', ndjsonBody(LIMITS.bulkBytes), async (ctx) => {
    const channel = channelOf(ctx.params.channel);
    const messages = batchMessages(ctx.request.body as string);
    ctx.body = { channel, length: await store.put(channel, messages) };
    if (messages.length > 0) wake(channel);
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
  // The parameters are in the query, not a body: a drain is the queue's hottest call. `ack`
  // (comma-separated lease ids) acknowledges the consumer's previous round in the same call.
  router.post('/q/:channel/lease', async (ctx) => {
    const channel = channelOf(ctx.params.channel);
    const max = intIn(Number(ctx.query.max), 1, MAX_LEASE_COUNT, 'max');
    const ms = intIn(Number(ctx.query.ms), 1, MAX_LEASE_MS, 'ms');
    const chunks = await store.lease(channel, max, ms, ackIdsOf(ctx.query.ack));
    // DBs ask for NDJSON (each message's text as stored, nothing re-encoded); anyone else gets JSON.
    if (ctx.accepts('application/json', NDJSON) === NDJSON) {
      ctx.type = NDJSON;
      ctx.body = leaseNdjson(chunks);
    } else {
      ctx.type = 'application/json';
      ctx.body = leaseJson(chunks);
    }
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
