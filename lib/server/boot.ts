/**
 * What the three server shells share: reading config.json, listening with a
 * clear error for a busy port, and stopping cleanly on SIGTERM or Ctrl-C.
 */
import { existsSync, readFileSync } from 'node:fs';
import { Server, ServerResponse } from 'node:http';
import { dirname, join } from 'node:path';
import dns from 'node:dns';
import type Koa from 'koa';
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

export function listen(app: Koa, host: string, port: number, what: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host);
    server.keepAliveTimeout = 65_000; // longer than clients' idle sockets live, so a reused socket is never half-closed
    server.once('listening', () => resolve(server));
    server.once('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EADDRINUSE') reject(new Error(`${what}: port ${port} on ${host} is already in use`));
      else reject(e);
    });
  });
}

/** Run `stop` once on SIGTERM or SIGINT, then exit. */
export function onShutdown(log: Logger, stop: () => Promise<void>): void {
  let stopping = false;
  const handler = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info(`${signal}: stopping`);
    stop()
      .catch((e) => log.error(`while stopping: ${(e as Error).message}`))
      .finally(() => log.close().finally(() => process.exit(0)));
  };
  process.on('SIGTERM', () => handler('SIGTERM'));
  process.on('SIGINT', () => handler('SIGINT'));
}

/** Start a server's main, printing a start-up error clearly instead of a stack. */
export function runMain(what: string, main: () => Promise<void>): void {
  main().catch((e: Error) => {
    process.stderr.write(`${what}: ${e.message}\n`);
    process.exit(1);
  });
}

/**
 * Stop accepting connections and resolve once the open ones are done. A
 * client under steady load (the LB, a DB's queue client) reuses its keep-alive
 * connections back to back, so they are never idle and server.close() alone
 * waited for ever (a DB under load never finished a SIGTERM, so its digest was
 * never sent). So every request answered from now on closes its connection
 * (`Connection: close`), and after `graceMs` whatever is still open is closed.
 */
export function closeServer(server: Server, graceMs = 5000): Promise<void> {
  return new Promise((resolve) => {
    server.on('request', (_req, res: ServerResponse) => {
      if (!res.headersSent) res.setHeader('Connection', 'close');
    });
    const timer = setTimeout(() => server.closeAllConnections(), graceMs);
    timer.unref();
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections();
  });
}
