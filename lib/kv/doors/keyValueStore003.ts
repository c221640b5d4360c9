/**
 * Seed 003's door: /key-value-store, /key-value-store-view and the shard
 * routes (shardRoutes003.ts) (docs/kv.md, the contract's "Door key-value-store"). JSON
 * bodies, a GET may come with no body and no Content-Type; the causal
 * context is `causal-metadata`, a JSON object of node address to sequence
 * number ("" or nothing at first). A request whose metadata names writes
 * this node lacks is answered once the node has caught up (bounded), never
 * with an error.
 *
 * The metadata a PUT returns is the written version's clock, and a GET
 * returns exactly that clock, from any node, whatever the client sent: the
 * contract says it identifies the version. The cost: a client that passes a
 * GET's metadata on forgets what its own metadata held beyond the version
 * (docs/kv.md, "Causality").
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import { Clock } from '../../core/clock';
import { parseAddress } from '../core/address';
import { EMPTY_CONTEXT, clockJson, parseClock } from '../core/context';
import { KV_LIMITS } from '../core/limits';
import { Op, OpResult } from '../core/ops';
import { KvNode } from '../node/node';
import { keyParam } from '../http/body';
import { Door, valueBytes } from './door';
import { Verb, error, readFields, reply } from './reply003';
import { shardRoutes } from './shardRoutes003';

function parseMetadata(raw: unknown): Clock | string {
  if (raw === undefined || raw === null || raw === '') return EMPTY_CONTEXT;
  let value = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw);
    } catch {
      return 'causal-metadata is not valid: it must be what the store last returned';
    }
  }
  const clock = parseClock(value, 'causal-metadata');
  return clock.ok ? clock.value : `causal-metadata is not valid: ${clock.error}`;
}

/** The request's key and context, or null once a 400 has been answered. */
async function readKeyRequest(ctx: Context, verb: Verb): Promise<{ key: string; fields: Record<string, unknown>; context: Clock } | null> {
  const fields = await readFields(ctx, verb);
  if (!fields) return null;
  const key = keyParam(ctx);
  if (key.length > KV_LIMITS.keyLength003) {
    error(ctx, 400, verb, 'Key is too long');
    return null;
  }
  const context = parseMetadata(fields['causal-metadata']);
  if (typeof context === 'string') {
    error(ctx, 400, verb, context);
    return null;
  }
  return { key, fields, context };
}

async function run(ctx: Context, node: KvNode, op: Op, verb: Verb): Promise<OpResult | null> {
  try {
    return await node.execute(op);
  } catch (e) {
    error(ctx, 503, verb, (e as Error).message);
    return null;
  }
}

function keyRoutes(router: Router, node: KvNode): void {
  router.put('/key-value-store/:key', async (ctx) => {
    const req = await readKeyRequest(ctx, 'PUT');
    if (!req) return;
    const value = req.fields.value;
    if (value === undefined || value === null) return error(ctx, 400, 'PUT', 'Value is missing');
    if (valueBytes(value) > KV_LIMITS.valueBytes) return error(ctx, 400, 'PUT', `Value is too large: at most ${KV_LIMITS.valueBytes} bytes`);
    const r = await run(ctx, node, { kind: 'put', key: req.key, value, context: req.context }, 'PUT');
    if (!r) return;
    const body = { message: r.replaced ? 'Updated successfully' : 'Added successfully', 'causal-metadata': clockJson(r.context), 'shard-id': r.shardId };
    reply(ctx, r.replaced ? 200 : 201, body);
  });
  router.get('/key-value-store/:key', async (ctx) => {
    const req = await readKeyRequest(ctx, 'GET');
    if (!req) return;
    const r = await run(ctx, node, { kind: 'get', key: req.key, context: req.context }, 'GET');
    if (!r) return;
    if (!r.found) {
      return reply(ctx, 404, { doesExist: false, error: 'Key does not exist', message: 'Error in GET', 'causal-metadata': clockJson(r.context) });
    }
    reply(ctx, 200, { message: 'Retrieved successfully', 'causal-metadata': clockJson(r.versionClock ?? r.context), value: r.value });
  });
  router.delete('/key-value-store/:key', async (ctx) => {
    const req = await readKeyRequest(ctx, 'DELETE');
    if (!req) return;
    const r = await run(ctx, node, { kind: 'delete', key: req.key, context: req.context }, 'DELETE');
    if (!r) return;
    if (!r.found) {
      return reply(ctx, 404, { doesExist: false, error: 'Key does not exist', message: 'Error in DELETE', 'causal-metadata': clockJson(r.context) });
    }
    reply(ctx, 200, { message: 'Deleted successfully', 'causal-metadata': clockJson(r.context), 'shard-id': r.shardId });
  });
}

function viewRoutes(router: Router, node: KvNode): void {
  router.get('/key-value-store-view', (ctx) => reply(ctx, 200, { message: 'View retrieved successfully', view: node.view().join(',') }));
  const change = (verb: 'PUT' | 'DELETE') => async (ctx: Context) => {
    const fields = await readFields(ctx, verb);
    if (!fields) return;
    const address = fields['socket-address'];
    const parsed = parseAddress(address);
    if (typeof parsed === 'string') return error(ctx, 400, verb, `socket-address is not valid: ${parsed}`);
    if (verb === 'PUT') {
      if (node.addToView(address as string) === 'unchanged') return error(ctx, 404, verb, 'Socket address already exists in the view');
      return reply(ctx, 201, { message: 'Replica added successfully to the view' });
    }
    if (node.removeFromView(address as string) === 'unchanged') return error(ctx, 404, verb, 'Socket address does not exist in the view');
    reply(ctx, 200, { message: 'Replica deleted successfully from the view' });
  };
  router.put('/key-value-store-view', change('PUT'));
  router.delete('/key-value-store-view', change('DELETE'));
}

export const keyValueStore003: Door = {
  api: 'key-value-store',
  announceAdds: true,
  routes(node) {
    const router = new Router();
    keyRoutes(router, node);
    viewRoutes(router, node);
    shardRoutes(router, node);
    return router;
  },
};
