/**
 * What the two baseline servers share. The baseline is NOT the product: it is
 * the least work the store's architecture can do (LB -> DB -> Redis, one hash
 * write or read, no validation, no merge, no queue, no gossip), so that the
 * benchmark can say how far the store is from it.
 */
import type { IncomingMessage, Server } from 'node:http';
import type Koa from 'koa';

/** 32-bit FNV-1a over UTF-8: the same tea -> DB mapping as the store's LB, written here so the baseline stands apart. */
export function fnv1a(key: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(key, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export function parseArg(where: string): Record<string, unknown> {
  const arg = process.argv[2];
  if (arg === undefined) throw new Error(`${where}: needs a JSON object as its first argument`);
  const parsed: unknown = JSON.parse(arg);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error(`${where}: the argument must be a JSON object`);
  return parsed as Record<string, unknown>;
}

export function listen(app: Koa, host: string, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host);
    server.keepAliveTimeout = 65_000;
    server.once('listening', () => resolve(server));
    server.once('error', reject);
  });
}

/** Stop on SIGTERM / SIGINT: close the server, run `also`, exit 0. */
export function onStop(server: Server, also: () => Promise<void>): void {
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    server.close();
    server.closeIdleConnections();
    also()
      .catch(() => undefined)
      .finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

export function main(where: string, run: () => Promise<void>): void {
  run().catch((e: Error) => {
    process.stderr.write(`${where}: ${e.message}\n`);
    process.exit(1);
  });
}
