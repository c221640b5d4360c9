/** Seed 003's answers: JSON bodies, and errors as {error, message: "Error in <verb>"}. */
import type { Context } from 'koa';
import { KV_LIMITS } from '../core/limits';
import { bodyText, jsonFields } from '../http/body';

export type Verb = 'GET' | 'PUT' | 'DELETE';

export function reply(ctx: Context, status: number, body: object): void {
  ctx.status = status;
  ctx.body = body;
}

export function error(ctx: Context, status: number, verb: Verb, message: string): void {
  reply(ctx, status, { error: message, message: `Error in ${verb}` });
}

export async function readFields(ctx: Context, verb: Verb): Promise<Record<string, unknown> | null> {
  const read = await bodyText(ctx, KV_LIMITS.clientBodyBytes);
  const fields = 'error' in read ? read.error : jsonFields(read.text);
  if (typeof fields === 'string') {
    error(ctx, 400, verb, fields);
    return null;
  }
  return fields;
}
