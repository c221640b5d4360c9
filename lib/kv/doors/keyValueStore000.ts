/**
 * Seed 000's door, /keyValue-store and /view (docs/kv.md, the contract's "Door keyValue-store").
 * Form bodies on every method; the causal context is `payload`, the JSON text
 * of a clock, sent back by the client as it was received. A read whose
 * payload names writes this node cannot get within its bounded wait is 400
 * "Payload out of date", never a stale value.
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import { Clock } from '../../core/clock';
import { parseAddress } from '../core/address';
import { EMPTY_CONTEXT, clockJson, parseClock } from '../core/context';
import { KV_LIMITS } from '../core/limits';
import { Op, OpResult } from '../core/ops';
import { KvNode } from '../node/node';
import { bodyText, formFields, keyParam } from '../http/body';
import { Door, valueBytes } from './door';

const payloadText = (clock: Clock) => JSON.stringify(clockJson(clock));

function reply(ctx: Context, status: number, body: object): void {
  ctx.status = status;
  ctx.body = body;
}

/** The form fields and the payload's context, or an answer already given (400) when either is malformed. */
async function readRequest(ctx: Context): Promise<{ fields: Record<string, unknown>; context: Clock } | null> {
  const read = await bodyText(ctx, KV_LIMITS.clientBodyBytes);
  const fields = 'error' in read ? read.error : formFields(ctx, read.text);
  if (typeof fields === 'string') {
    reply(ctx, 400, { result: 'Error', msg: fields, payload: payloadText(EMPTY_CONTEXT) });
    return null;
  }
  const raw = fields.payload;
  if (raw === undefined || raw === null || raw === '') return { fields, context: EMPTY_CONTEXT };
  let parsed: unknown = raw;
  if (typeof raw === 'string') {
    try {
      parsed = JSON.parse(raw);
    } catch {
      parsed = undefined;
    }
  }
  const clock = parseClock(parsed, 'payload');
  if (!clock.ok) {
    reply(ctx, 400, { result: 'Error', msg: `Payload is not valid: ${clock.error}`, payload: payloadText(EMPTY_CONTEXT) });
    return null;
  }
  return { fields, context: clock.value };
}

function keyProblem(key: string): string | null {
  if (key.length < 1 || key.length > KV_LIMITS.keyLength000) return `Key not valid: it must be 1 to ${KV_LIMITS.keyLength000} characters`;
  return null;
}

/** Run an op; a node that could not reach any holder of the key answers 503 with the client's payload. */
async function run(ctx: Context, node: KvNode, op: Op): Promise<OpResult | null> {
  try {
    return await node.execute(op);
  } catch (e) {
    reply(ctx, 503, { result: 'Error', msg: (e as Error).message, payload: payloadText(op.context) });
    return null;
  }
}

function keyRoutes(router: Router, node: KvNode): void {
  router.put('/keyValue-store/:key', async (ctx) => {
    const req = await readRequest(ctx);
    if (!req) return;
    const key = keyParam(ctx);
    const problem = keyProblem(key) ?? (typeof req.fields.val !== 'string' ? 'Value is missing' : null) ??
      (valueBytes(req.fields.val) > KV_LIMITS.valueBytes ? `Value is too large: at most ${KV_LIMITS.valueBytes} bytes` : null);
    if (problem) return reply(ctx, 400, { result: 'Error', msg: problem, payload: payloadText(req.context) });
    const r = await run(ctx, node, { kind: 'put', key, value: req.fields.val, context: req.context });
    if (!r) return;
    if (r.replaced) reply(ctx, 201, { replaced: true, msg: 'Updated successfully', payload: payloadText(r.context) });
    else reply(ctx, 200, { replaced: false, msg: 'Added successfully', payload: payloadText(r.context) });
  });

  const read = (kind: 'get' | 'exists') => async (ctx: Context) => {
    const req = await readRequest(ctx);
    if (!req) return;
    const key = keyParam(ctx);
    const problem = keyProblem(key);
    if (problem) return reply(ctx, 400, { result: 'Error', msg: problem, payload: payloadText(req.context) });
    const r = await run(ctx, node, { kind, key, context: req.context });
    if (!r) return;
    if (!r.caughtUp) return reply(ctx, 400, { result: 'Error', msg: 'Payload out of date', payload: payloadText(r.context) });
    if (kind === 'exists') return reply(ctx, 200, { isExists: r.found, result: 'Success', payload: payloadText(r.context) });
    if (r.found) return reply(ctx, 200, { result: 'Success', value: r.value, payload: payloadText(r.context) });
    reply(ctx, 404, { result: 'Error', msg: 'Key does not exist', payload: payloadText(r.context) });
  };
  router.get('/keyValue-store/search/:key', read('exists'));
  router.get('/keyValue-store/:key', read('get'));

  router.delete('/keyValue-store/:key', async (ctx) => {
    const req = await readRequest(ctx);
    if (!req) return;
    const key = keyParam(ctx);
    const problem = keyProblem(key);
    if (problem) return reply(ctx, 400, { result: 'Error', msg: problem, payload: payloadText(req.context) });
    const r = await run(ctx, node, { kind: 'delete', key, context: req.context });
    if (!r) return;
    if (r.found) reply(ctx, 200, { result: 'Success', msg: 'Key deleted', payload: payloadText(r.context) });
    else reply(ctx, 404, { result: 'Error', msg: 'Key does not exist', payload: payloadText(r.context) });
  });
}

function viewRoutes(router: Router, node: KvNode): void {
  router.get('/view', (ctx) => reply(ctx, 200, { view: node.view().join(',') }));
  const change = (add: boolean) => async (ctx: Context) => {
    const req = await readRequest(ctx);
    if (!req) return;
    const address = req.fields.ip_port;
    const parsed = parseAddress(address);
    if (typeof parsed === 'string') return reply(ctx, 400, { result: 'Error', msg: `ip_port is not valid: ${parsed}` });
    if (add) {
      if (node.addToView(address as string) === 'unchanged') return reply(ctx, 404, { result: 'Error', msg: `${address} is already in view` });
      return reply(ctx, 200, { result: 'Success', msg: `Successfully added ${address} to view` });
    }
    if (node.removeFromView(address as string) === 'unchanged') return reply(ctx, 404, { result: 'Error', msg: `${address} is not in current view` });
    reply(ctx, 200, { result: 'Success', msg: `Successfully removed ${address} from view` });
  };
  router.put('/view', change(true));
  router.delete('/view', change(false));
}

export const keyValueStore000: Door = {
  api: 'keyValue-store',
  announceAdds: false,
  routes(node) {
    const router = new Router();
    keyRoutes(router, node);
    viewRoutes(router, node);
    return router;
  },
};
