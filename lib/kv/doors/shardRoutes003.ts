/**
 * Seed 003's shard routes, /key-value-store-shard/... (docs/kv.md, the contract's "Shards"):
 * shard ids are integers from 0, their URL form the decimal text. A store
 * started without SHARD_COUNT answers as one shard, 0, of every member.
 */
import type Router from '@koa/router';
import type { Context } from 'koa';
import { parseAddress } from '../core/address';
import { KV_LIMITS } from '../core/limits';
import { KvNode } from '../node/node';
import { Verb, error, readFields, reply } from './reply003';

const PREFIX = '/key-value-store-shard';

/** The shard id of the URL, or null once a 400 or 404 has been answered. */
function shardParam(ctx: Context, node: KvNode, verb: Verb): number | null {
  const text = String((ctx.params as Record<string, string>).id ?? '');
  if (!/^\d{1,6}$/.test(text)) {
    error(ctx, 400, verb, 'A shard ID is a non-negative integer');
    return null;
  }
  const id = Number(text);
  if (node.shards.membersOf(id) === null) {
    error(ctx, 404, verb, 'Shard ID does not exist');
    return null;
  }
  return id;
}

/** "shard-count" as a client may send it: a JSON integer or its decimal text. */
function parseCount(raw: unknown): number | null {
  const n = typeof raw === 'string' && /^\s*\d{1,6}\s*$/.test(raw) ? Number(raw) : raw;
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 1 && n <= KV_LIMITS.shards ? n : null;
}

export function shardRoutes(router: Router, node: KvNode): void {
  router.get(`${PREFIX}/shard-ids`, (ctx) => reply(ctx, 200, { message: 'Shard IDs retrieved successfully', 'shard-ids': node.shards.shardIds() }));

  router.get(`${PREFIX}/node-shard-id`, (ctx) => {
    const id = node.shards.ownership().shard;
    if (id === null) return error(ctx, 404, 'GET', 'This node is not a member of any shard');
    reply(ctx, 200, { message: 'Shard ID of the node retrieved successfully', 'shard-id': id });
  });

  router.get(`${PREFIX}/shard-id-members/:id`, (ctx) => {
    const id = shardParam(ctx, node, 'GET');
    if (id === null) return;
    reply(ctx, 200, { message: 'Members of shard ID retrieved successfully', 'shard-id-members': node.shards.membersOf(id) });
  });

  router.get(`${PREFIX}/shard-id-key-count/:id`, async (ctx) => {
    const id = shardParam(ctx, node, 'GET');
    if (id === null) return;
    try {
      reply(ctx, 200, { message: 'Key count of shard ID retrieved successfully', 'shard-id-key-count': await node.shards.keyCount(id) });
    } catch (e) {
      error(ctx, 503, 'GET', (e as Error).message);
    }
  });

  router.put(`${PREFIX}/add-member/:id`, async (ctx) => {
    const fields = await readFields(ctx, 'PUT');
    if (!fields) return;
    const id = shardParam(ctx, node, 'PUT');
    if (id === null) return;
    const address = fields['socket-address'];
    const parsed = parseAddress(address);
    if (typeof parsed === 'string') return error(ctx, 400, 'PUT', `socket-address is not valid: ${parsed}`);
    const result = node.resharder.addMember(id, address as string);
    if (result === 'in-another-shard') return error(ctx, 400, 'PUT', `${address as string} is a member of another shard: reshard to move nodes between shards`);
    reply(ctx, 200, { message: 'Node added to shard successfully' });
  });

  router.put(`${PREFIX}/reshard`, async (ctx) => {
    const fields = await readFields(ctx, 'PUT');
    if (!fields) return;
    const count = parseCount(fields['shard-count']);
    if (count === null) return error(ctx, 400, 'PUT', `shard-count must be an integer from 1 to ${KV_LIMITS.shards}`);
    const result = await node.resharder.reshard(count);
    switch (result.kind) {
      case 'done':
        return reply(ctx, 200, { message: 'Resharding done successfully' });
      case 'not-enough-nodes':
        return reply(ctx, 400, { message: 'Not enough nodes to provide fault-tolerance with the given shard count!' });
      case 'bad-count':
        return error(ctx, 400, 'PUT', `shard-count must be an integer from 1 to ${KV_LIMITS.shards}`);
      case 'busy':
        return error(ctx, 409, 'PUT', 'A reshard is already in progress');
      case 'incomplete':
        return error(ctx, 503, 'PUT', `Keys moved, but ${result.unconfirmed.join(', ')} did not confirm holding their new keys`);
    }
  });
}
