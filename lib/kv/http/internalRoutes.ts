/**
 * The routes peers call (POST /kv-internal/<method>) and two read-only pages
 * for operators and tests: the node's status and what it holds of one key.
 * Same port as the door: one address per node, as containers have.
 */
import Router from '@koa/router';
import { HttpError } from '../../http/common';
import { KV_LIMITS } from '../core/limits';
import { KvNode } from '../node/node';
import { INTERNAL_PREFIX } from '../node/httpTransport';
import { PEER_METHODS, PeerMethod, PeerRequestError } from '../node/transport';
import { bodyText, jsonFields } from './body';

export function internalRoutes(node: KvNode): Router {
  const router = new Router({ prefix: INTERNAL_PREFIX });
  router.post('/:method', async (ctx) => {
    const method = ctx.params.method as PeerMethod;
    if (!PEER_METHODS.includes(method)) throw new HttpError(404, `no internal method ${JSON.stringify(method)}`);
    const read = await bodyText(ctx, KV_LIMITS.internalBodyBytes);
    const body = 'error' in read ? read.error : jsonFields(read.text);
    if (typeof body === 'string') throw new HttpError(400, body);
    try {
      ctx.body = await node.handlePeer(method, body);
    } catch (e) {
      if (e instanceof PeerRequestError) throw new HttpError(400, e.message);
      throw e;
    }
  });
  router.get('/status', (ctx) => {
    ctx.body = node.status();
  });
  router.get('/keys/:key', (ctx) => {
    ctx.body = node.localVersions(ctx.params.key ?? '');
  });
  return router;
}
