/** The queue service's HTTP API (SPEC.md "The queue service") over Channels. */
import Koa from 'koa';
import Router from '@koa/router';
import { HttpError, jsonErrors, methodNotAllowed, parseJsonBody, requireAcceptJson, requireJsonContentType } from '../http/common';
import { Logger } from '../log';
import { Channels } from './channels';

/** Channel names are short ids like db3; this bounds what a client can make the queue keep. */
const MAX_CHANNEL_NAME = 256;

function channelOf(param: string | undefined): string {
  const channel = param ?? '';
  if (channel.length === 0 || channel.length > MAX_CHANNEL_NAME) {
    throw new HttpError(400, `channel name must be 1 to ${MAX_CHANNEL_NAME} characters`);
  }
  return channel;
}

export function queueApp(channels: Channels<object>, log: Logger): Koa {
  const router = new Router();
  router.put('/q/:channel', requireJsonContentType, parseJsonBody, async (ctx) => {
    const channel = channelOf(ctx.params.channel);
    const body: unknown = ctx.request.body;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new HttpError(400, 'a queue message must be a JSON object');
    }
    ctx.body = { channel, length: channels.put(channel, body) };
  });
  router.get('/q/:channel', async (ctx) => {
    ctx.body = channels.take(channelOf(ctx.params.channel)) ?? {};
  });
  router.all('/q/:channel', methodNotAllowed(['GET', 'PUT']));
  router.delete('/clear', async (ctx) => {
    ctx.body = channels.clear();
  });
  router.all('/clear', methodNotAllowed(['DELETE']));

  const app = new Koa();
  app.use(jsonErrors(log));
  app.use(requireAcceptJson);
  app.use(router.routes());
  return app;
}
