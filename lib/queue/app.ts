/**
 * The queue service's HTTP API, over the hub (hub.ts). the contract's part: PUT
 * /q/<channel> appends a message, GET /q/<channel> removes the oldest one
 * no subscriber holds ({} when there is none), DELETE /clear empties
 * everything. Beside it: a batch put (NDJSON, one message per line, kept as
 * one chunk and never re-encoded) and the channels' counts. The DBs
 * themselves talk to the queue over the link of peer.ts, not these routes.
 */
import Koa from 'koa';
import Router from '@koa/router';
import { LIMITS } from '../core/limits';
import { HttpError, ROUTER_OPTIONS, bodiesInFlight, jsonApp, methodNotAllowed, ndjsonBody, parseJsonBody, requireJsonContentType } from '../http/common';
import { requireSecret } from '../http/secret';
import { Logger } from '../log';
import { Hub } from './hub';

/** Channel names are short ids like db3; this bounds what a client can make the queue keep. */
const MAX_CHANNEL_NAME = 256;

export function channelOf(param: string | undefined): string {
  const channel = param ?? '';
  if (channel.length === 0 || channel.length > MAX_CHANNEL_NAME) {
    throw new HttpError(400, `channel name must be 1 to ${MAX_CHANNEL_NAME} characters`);
  }
  return channel;
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
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
 * With a cluster secret every route needs it, the contract's too: PUT
 * /q/db<i> is the way to forge gossip, GET /q/db<i> steals it, DELETE /clear
 * drops what is in flight. The original harness never sets one.
 */
export function queueApp(hub: Hub, log: Logger, secret: string | null = null): Koa {
  const router = new Router(ROUTER_OPTIONS);
  router.put('/q/:channel', requireJsonContentType, bodiesInFlight(LIMITS.bodiesInFlight), parseJsonBody, async (ctx) => {
    const channel = channelOf(ctx.params.channel);
    const body: unknown = ctx.request.body;
    if (!isObject(body)) throw new HttpError(400, 'a queue message must be a JSON object');
    ctx.body = { channel, length: await hub.put(channel, [JSON.stringify(body)]) };
  });
  router.get('/q/:channel', async (ctx) => {
    const message = await hub.take(channelOf(ctx.params.channel));
    ctx.type = 'application/json';
    ctx.body = message ?? '{}';
  });
  router.all('/q/:channel', methodNotAllowed(['GET', 'PUT']));
  // Several messages as one chunk: NDJSON, one message per line.
  router.post('/q/:channel/batch', bodiesInFlight(LIMITS.bulkInFlight), ndjsonBody(LIMITS.chunk.chars), async (ctx) => {
    const channel = channelOf(ctx.params.channel);
    const messages = batchMessages(ctx.request.body as string);
    if (messages.length > LIMITS.chunk.messages) throw new HttpError(413, `a batch holds at most ${LIMITS.chunk.messages} messages, got ${messages.length}`);
    ctx.body = { channel, length: await hub.put(channel, messages) };
  });
  // Per channel: the messages held, how many of them a subscriber holds unapplied, whether one is subscribed.
  router.get('/stats', (ctx) => {
    ctx.body = { channels: hub.stats() };
  });
  router.delete('/clear', async (ctx) => {
    ctx.body = await hub.clear();
  });
  router.all('/clear', methodNotAllowed(['DELETE']));

  return jsonApp(log, router, requireSecret(secret));
}
