/**
 * What the three server shells share: reading config.json, listening with a
 * clear error for a busy port, and stopping cleanly on SIGTERM or Ctrl-C.
 */
import { existsSync, readFileSync } from 'node:fs';
import http, { Server } from 'node:http';
import { dirname, join } from 'node:path';
import dns from 'node:dns';
import type Koa from 'koa';
import Redis, { RedisOptions } from 'ioredis';
import { Defaults, checkDefaults } from '../config';
import { Logger } from '../log';

/** The project's root: the nearest folder above this file that holds config.json. */
export function projectRoot(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'config.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`config.json not found above ${__dirname}`);
    dir = up;
  }
  return dir;
}

export function loadDefaults(): Defaults {
  // "localhost" must mean 127.0.0.1, where everything here listens, not ::1.
  dns.setDefaultResultOrder('ipv4first');
  const file = join(projectRoot(), 'config.json');
  return checkDefaults(JSON.parse(readFileSync(file, 'utf8')));
}

/**
 * How long a server keeps trying a port that is in use: a harness may start a
 * new server the moment it has sent SIGTERM to the old one on that port.
 */
const PORT_BUSY_RETRY_MS = 3000;

export async function listen(app: Koa, host: string, port: number, what: string): Promise<Server> {
  const deadline = Date.now() + PORT_BUSY_RETRY_MS;
  for (;;) {
    try {
      return await listenOnce(app, host, port);
    } catch (e) {
      const busy = (e as NodeJS.ErrnoException).code === 'EADDRINUSE';
      if (!busy) throw e;
      if (Date.now() >= deadline) throw new Error(`${what}: port ${port} on ${host} is already in use`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/**
 * A request must arrive whole within seconds, not Node's default 5 minutes:
 * a client that never finishes its body (or its headers) loses the
 * connection. Checked every second, not every 30.
 */
export const REQUEST_TIMEOUTS = Object.freeze({ requestTimeout: 10_000, headersTimeout: 5_000, connectionsCheckingInterval: 1_000 });

function listenOnce(app: Koa, host: string, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = http.createServer({ ...REQUEST_TIMEOUTS }, app.callback());
    server.listen(port, host);
    server.keepAliveTimeout = 65_000; // longer than clients' idle sockets live, so a reused socket is never half-closed
    server.once('listening', () => resolve(server));
    server.once('error', reject);
  });
}

/**
 * On SIGTERM or SIGINT: run `stop` (which must stop every write at once and
 * may then finish what it must, briefly), then exit. A second signal exits
 * at once.
 */
export function onShutdown(log: Logger, stop: () => void | Promise<void>): void {
  let stopping = false;
  const handler = (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    log.info(`${signal}: stopping`);
    Promise.resolve()
      .then(stop)
      .catch((e) => log.error(`while stopping: ${(e as Error).message}`))
      .finally(() => log.close().finally(() => process.exit(0)));
  };
  process.on('SIGTERM', () => handler('SIGTERM'));
  process.on('SIGINT', () => handler('SIGINT'));
}

/**
 * The cluster secret from its file (npm start writes one into var/), or
 * null when none is configured: then the internal routes are open, as the
 * original harness runs them, and the log says so once.
 */
export function readSecret(file: string | null, log: Logger, what: string): string | null {
  if (file === null) {
    log.warn(`no secret-file configured: ${what} are open to anything that can reach this port`);
    return null;
  }
  let secret: string;
  try {
    secret = readFileSync(file, 'utf8').trim();
  } catch (e) {
    throw new Error(`cannot read the secret file ${file}: ${(e as Error).message}`);
  }
  if (secret.length < 16 || /\s/.test(secret)) throw new Error(`the secret file ${file} must hold one word of at least 16 characters`);
  return secret;
}

/** Start a server's main, printing a start-up error clearly instead of a stack. */
export function runMain(what: string, main: () => Promise<void>): void {
  main().catch((e: Error) => {
    process.stderr.write(`${what}: ${e.message}\n`);
    process.exit(1);
  });
}

/** Free the port and drop every connection now: requests in flight get no answer (their clients retry elsewhere). */
export function closeNow(server: Server): void {
  server.close();
  server.closeAllConnections();
}

/**
 * A connection to a server's own Redis, connected, or a clear error naming
 * it. No offline queue: while Redis is down a command fails at once (a DB
 * then answers 503, so the LB fails over) instead of waiting for a reconnect.
 */
export async function connectRedis(what: string, address: { host: string; port: number }, log: Logger, options: RedisOptions = {}): Promise<Redis> {
  const { host, port } = address;
  const redis = new Redis({ host, port, lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1, ...options });
  redis.on('error', (e) => log.warnEvery('redis', 5000, `redis ${host}:${port}: ${e.message}`));
  try {
    await redis.connect();
  } catch (e) {
    redis.disconnect();
    throw new Error(`cannot reach ${what} at ${host}:${port}: ${(e as Error).message}`);
  }
  return redis;
}

/**
 * A promise rejected with nobody to catch it is a bug, but not one worth a
 * server: Node 20 would exit on it. Log it (with its stack) and serve on.
 */
export function logStrayRejections(log: Logger): void {
  process.on('unhandledRejection', (e) => log.error(`a rejected promise nobody caught (a bug): ${(e as Error)?.stack ?? String(e)}`));
}
