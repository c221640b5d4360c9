/**
 * Starting and stopping the cluster's processes on this machine: Redis
 * servers, the queue, DBs and the LB. Used by run.ts (npm start), the
 * scenario runner, the integration tests and the benchmark.
 */
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { closeSync, createWriteStream, mkdirSync, openSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';

export const REDIS_MISSING =
  'redis-server is not installed (or not on PATH). On Debian or Ubuntu, as root: ' +
  'apt-get update && apt-get install -y redis-server';

/**
 * V8 flags every node server runs with (the benchmark's baseline too, so the two differ only in
 * their work): a 32 MB young generation halves a DB's scavenges (docs/performance.md, "Tuning").
 */
export const NODE_SERVER_FLAGS: readonly string[] = ['--max-semi-space-size=32'];

/** Fail with a clear message when redis-server is not there. */
export function requireRedisServer(): void {
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) throw new Error(REDIS_MISSING);
}

/** Resolve when something accepts TCP connections on host:port. */
function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.setTimeout(500);
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
}

/** Fail, naming the port and its role, when a port is already taken. */
export async function assertPortFree(host: string, port: number, role: string): Promise<void> {
  const free = await new Promise<boolean>((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
  if (!free) throw new Error(`port ${port} (${role}) is already in use: stop whatever holds it, or choose other ports`);
}

export interface Managed {
  role: string;
  port: number;
  child: ChildProcess;
  /** Whatever the process wrote to stderr, for start-up errors. */
  stderr(): string;
}

export interface StartOptions {
  role: string;
  host: string;
  port: number;
  command: string;
  args: string[];
  /** Where stdout goes; stderr goes there too, and its last 4000 characters are also kept for error messages. */
  logfile: string;
  timeoutMs?: number;
  /**
   * Whether the process is ready; by default, that something accepts
   * connections on its port (which an old process on that port, on its way
   * out, would also do: a caller that starts a server over a dying one says
   * how to tell them apart, e.g. by the pid its /health reports).
   */
  ready?: (child: ChildProcess) => Promise<boolean>;
}

/**
 * Start a process and wait until it accepts connections on its port. Each
 * child gets its own process group, so a Ctrl-C in the terminal reaches only
 * the orchestrator, which stops the children in order (and can leave Redis
 * running for --leavedb).
 */
export async function startProcess(options: StartOptions): Promise<Managed> {
  mkdirSync(join(options.logfile, '..'), { recursive: true });
  const out = openSync(options.logfile, 'a');
  const child = spawn(options.command, options.args, { stdio: ['ignore', out, 'pipe'], detached: true });
  closeSync(out);
  let stderr = '';
  // Why a process died (an out-of-memory abort, an uncaught exception) is on its stderr: keep it in its log too.
  const errLog = createWriteStream(options.logfile, { flags: 'a' });
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000);
    errLog.write(chunk);
  });
  child.stderr?.once('close', () => errLog.end());
  let exited: string | null = null;
  child.once('exit', (code, signal) => {
    exited = `exited with ${signal ?? `code ${code}`}`;
  });
  child.once('error', (e) => {
    exited = e.message;
  });
  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  for (;;) {
    if (exited !== null) {
      throw new Error(`${options.role} ${exited} before listening on ${options.port}: ${stderr.trim() || `see ${options.logfile}`}`);
    }
    if (await (options.ready ? options.ready(child).catch(() => false) : canConnect(options.host, options.port))) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${options.role} did not listen on ${options.port} within ${options.timeoutMs ?? 15_000} ms; see ${options.logfile}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { role: options.role, port: options.port, child, stderr: () => stderr };
}

/** Resolves once the process has exited (at once if it has). */
export function exited(p: Managed): Promise<void> {
  const { child } = p;
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise<void>((resolve) => child.once('exit', () => resolve()));
}

/** A readiness check: GET /health on host:port answers with this child's pid. */
export function answersWithPid(host: string, port: number): (child: ChildProcess) => Promise<boolean> {
  return async (child) => {
    const res = await fetch(`http://${host}:${port}/health`, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(500) });
    return res.ok && ((await res.json()) as { pid?: number }).pid === child.pid;
  };
}

/** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
export async function stopProcess(p: Managed, graceMs = 3000): Promise<void> {
  const { child } = p;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** SIGKILL and wait for the exit: for fault tests. */
export async function killProcess(p: Managed): Promise<void> {
  const { child } = p;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGKILL');
  await exited;
}
