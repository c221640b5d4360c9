/**
 * A door: one seed's client API over the shared node. It is a thin adapter:
 * routes, body parsing, the status and message tables, and how the causal
 * context travels. It also tells the core the one behaviour that differs
 * between seeds at start: whether a starting node adds itself to the view.
 */
import type Router from '@koa/router';
import type { KvNode } from '../node/node';

export const API_NAMES = ['keyValue-store', 'key-value-store'] as const;
export type ApiName = (typeof API_NAMES)[number];

export interface Door {
  readonly api: ApiName;
  /** Seed 003: a start announces the node with a view PUT. Seed 000: a node joins only when a client adds it. */
  readonly announceAdds: boolean;
  routes(node: KvNode): Router;
}

/** The byte length of a value as stored (strings as UTF-8, anything else as its JSON). */
export function valueBytes(value: unknown): number {
  return Buffer.byteLength(typeof value === 'string' ? value : JSON.stringify(value) ?? '', 'utf8');
}
