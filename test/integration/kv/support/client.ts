/**
 * A small HTTP client for the KV integration tests, on node:http with a fresh
 * connection per request, so every header and byte is what the test says:
 * form bodies on GET and DELETE (seed 000), GETs with no body and no
 * Content-Type (seed 003).
 */
import http from 'node:http';

export interface Reply {
  status: number;
  text: string;
  body: any;
}

export interface Send {
  method: string;
  path: string;
  /** A form body (seed 000): sent as application/x-www-form-urlencoded. */
  form?: Record<string, string>;
  /** A JSON body (seed 003). */
  json?: unknown;
  /** A raw body, sent with exactly `headers`. */
  raw?: string;
  headers?: Record<string, string>;
  timeoutMs?: number;
}

export function send(address: string, req: Send): Promise<Reply> {
  const [host, port] = address.split(':');
  const headers: Record<string, string> = { ...(req.headers ?? {}) };
  let body: string | undefined = req.raw;
  if (req.form) {
    body = new URLSearchParams(req.form).toString();
    headers['Content-Type'] ??= 'application/x-www-form-urlencoded';
  } else if (req.json !== undefined) {
    body = JSON.stringify(req.json);
    headers['Content-Type'] ??= 'application/json';
  }
  if (body !== undefined) headers['Content-Length'] ??= String(Buffer.byteLength(body));
  const timeoutMs = req.timeoutMs ?? 10_000;
  return new Promise((resolve, reject) => {
    let answered = false;
    const r = http.request({ host, port: Number(port), method: req.method, path: req.path, headers, agent: false, timeout: timeoutMs }, (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      const done = () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          parsed = undefined;
        }
        resolve({ status: res.statusCode ?? 0, text, body: parsed });
      };
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', done);
      // A server that answers an oversized body before reading it may cut the upload: the answer still counts.
      res.on('error', done);
    });
    r.on('timeout', () => r.destroy(new Error(`timed out after ${timeoutMs} ms: ${req.method} ${req.path} on ${address}`)));
    r.on('error', (e: NodeJS.ErrnoException) => {
      // The upload may fail (EPIPE) a moment before the answer to it is read: give the answer that moment.
      const grace = e.code === 'EPIPE' || e.code === 'ECONNRESET' ? 300 : 0;
      setTimeout(() => {
        if (!answered) reject(e);
      }, grace);
    });
    r.end(body);
  });
}

/** Seed 000's client: form fields, the payload passed on as received. */
export const door000 = {
  put: (node: string, key: string, val: string, payload = '') =>
    send(node, { method: 'PUT', path: `/keyValue-store/${encodeURIComponent(key)}`, form: { val, payload } }),
  get: (node: string, key: string, payload = '') => send(node, { method: 'GET', path: `/keyValue-store/${encodeURIComponent(key)}`, form: { payload } }),
  search: (node: string, key: string, payload = '') =>
    send(node, { method: 'GET', path: `/keyValue-store/search/${encodeURIComponent(key)}`, form: { payload } }),
  del: (node: string, key: string, payload = '') => send(node, { method: 'DELETE', path: `/keyValue-store/${encodeURIComponent(key)}`, form: { payload } }),
  view: (node: string) => send(node, { method: 'GET', path: '/view' }),
  addNode: (node: string, ipPort: string) => send(node, { method: 'PUT', path: '/view', form: { ip_port: ipPort } }),
  removeNode: (node: string, ipPort: string) => send(node, { method: 'DELETE', path: '/view', form: { ip_port: ipPort } }),
};

/** Seed 003's client: JSON bodies, GET with none. */
export const door003 = {
  put: (node: string, key: string, value: unknown, meta: unknown = '', timeoutMs?: number) =>
    send(node, { method: 'PUT', path: `/key-value-store/${encodeURIComponent(key)}`, json: { value, 'causal-metadata': meta }, timeoutMs }),
  get: (node: string, key: string, meta?: unknown) =>
    meta === undefined
      ? send(node, { method: 'GET', path: `/key-value-store/${encodeURIComponent(key)}` })
      : send(node, { method: 'GET', path: `/key-value-store/${encodeURIComponent(key)}`, json: { 'causal-metadata': meta } }),
  del: (node: string, key: string, meta: unknown = '') =>
    send(node, { method: 'DELETE', path: `/key-value-store/${encodeURIComponent(key)}`, json: { 'causal-metadata': meta } }),
  view: (node: string) => send(node, { method: 'GET', path: '/key-value-store-view' }),
  addNode: (node: string, address: string) => send(node, { method: 'PUT', path: '/key-value-store-view', json: { 'socket-address': address } }),
  removeNode: (node: string, address: string) => send(node, { method: 'DELETE', path: '/key-value-store-view', json: { 'socket-address': address } }),
};

/** Seed 003's shard routes. */
export const shards003 = {
  ids: (node: string) => send(node, { method: 'GET', path: '/key-value-store-shard/shard-ids' }),
  nodeShardId: (node: string) => send(node, { method: 'GET', path: '/key-value-store-shard/node-shard-id' }),
  members: (node: string, id: number | string) => send(node, { method: 'GET', path: `/key-value-store-shard/shard-id-members/${id}` }),
  keyCount: (node: string, id: number | string) => send(node, { method: 'GET', path: `/key-value-store-shard/shard-id-key-count/${id}` }),
  addMember: (node: string, id: number | string, address: string) =>
    send(node, { method: 'PUT', path: `/key-value-store-shard/add-member/${id}`, json: { 'socket-address': address } }),
  reshard: (node: string, count: unknown) => send(node, { method: 'PUT', path: '/key-value-store-shard/reshard', json: { 'shard-count': count }, timeoutMs: 60_000 }),
};

/** Run `fn` over `items`, at most `limit` at a time (a client's bounded concurrency). */
export async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** What a node holds of a key, without catching up or forwarding. */
export async function localWinner(node: string, key: string): Promise<{ value?: unknown; deleted?: boolean; origin?: string } | null> {
  const r = await send(node, { method: 'GET', path: `/kv-internal/keys/${encodeURIComponent(key)}` });
  if (r.status !== 200) throw new Error(`local read of ${key} on ${node}: ${r.status} ${r.text}`);
  return r.body.winner;
}

export async function status(node: string): Promise<any> {
  const r = await send(node, { method: 'GET', path: '/kv-internal/status', timeoutMs: 3000 });
  if (r.status !== 200) throw new Error(`status of ${node}: ${r.status} ${r.text}`);
  return r.body;
}

/** Poll `check` until it returns true or `withinMs` passes; returns the ms it took, or throws with the last state. */
export async function eventually(what: string, withinMs: number, check: () => Promise<boolean>, everyMs = 50): Promise<number> {
  const t0 = Date.now();
  let last: unknown = null;
  for (;;) {
    try {
      if (await check()) return Date.now() - t0;
    } catch (e) {
      last = e;
    }
    if (Date.now() - t0 > withinMs) throw new Error(`${what}: not within ${withinMs} ms${last ? ` (last error: ${(last as Error).message})` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
