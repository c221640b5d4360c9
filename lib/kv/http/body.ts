/**
 * Reading a request body for the doors: the bytes as they came, whatever the
 * method (seed 000 sends form bodies on GET and DELETE too, which most
 * frameworks drop), bounded, then parsed as the door's clients send them.
 */
import type { Context } from 'koa';
import { HttpError, readRawBody } from '../../http/common';

/** The body as text ('' when there is none), or a message when it is over `limitBytes` or cannot be read. */
export async function bodyText(ctx: Context, limitBytes: number): Promise<{ text: string } | { error: string }> {
  try {
    return { text: (await readRawBody(ctx.req, limitBytes)).toString('utf8') };
  } catch (e) {
    if (e instanceof HttpError && e.status === 413) return { error: `Request body is larger than ${limitBytes} bytes` };
    if (e instanceof HttpError) return { error: e.message };
    throw e;
  }
}

function isJsonType(ctx: Context): boolean {
  return ctx.get('content-type').split(';')[0].trim().toLowerCase() === 'application/json';
}

/** Form fields (URL-encoded, as curl -d and Python's requests send them), or a JSON object's fields when declared JSON. */
export function formFields(ctx: Context, text: string): Record<string, unknown> | string {
  if (text.trim() === '') return {};
  if (isJsonType(ctx)) return jsonObject(text);
  const out: Record<string, unknown> = Object.create(null);
  for (const [k, v] of new URLSearchParams(text)) out[k] = v;
  return out;
}

/** A JSON object's fields, whatever the Content-Type (seed 003's clients may send none); '' is no fields. */
export function jsonFields(text: string): Record<string, unknown> | string {
  if (text.trim() === '') return {};
  return jsonObject(text);
}

function jsonObject(text: string): Record<string, unknown> | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return 'the body is not valid JSON';
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return 'the body must be a JSON object';
  return parsed as Record<string, unknown>;
}

/** The key of a route, percent-decoded by the router; a bad escape is a 400. */
export function keyParam(ctx: Context): string {
  const key = (ctx.params as Record<string, string | undefined>).key;
  if (key === undefined) throw new HttpError(400, 'the URL names no key');
  return key;
}
