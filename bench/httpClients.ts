/**
 * The HTTP client micro-benchmark: the clients the LB -> DB and DB -> Q hops
 * could use (the product's kinds and undici), side by side, against one
 * trivial koa server in a child process on this machine. Each client sends
 * alternately a PUT with a gossip-tuple-sized JSON body and a GET answered
 * with one: sequential latency, then throughput with N concurrent requests,
 * and this process's CPU time per request (the client's own cost, plus the
 * same small loop overhead for every kind).
 *
 * The server: node dist/bench/httpClients.js serve '{"host":"127.0.0.1","port":10360}'
 */
import { join } from 'node:path';
import Koa from 'koa';
import Router from '@koa/router';
import { assertPortFree, startProcess } from '../tools/cluster/processes';
import { portsFor } from '../tools/ports';
import { listen, main, onStop, parseArg, readBody } from './baseline/common';
import { benchHttpClient, clientKinds } from './httpClientKinds';
import { Op, PhaseResult, runPhase } from './load';
import { track } from './systems';

/** A port of its own (tools/ports.ts), apart from the store's and the baseline's. */
export const ECHO_PORT = portsFor('bench-clients').spare(0);

const TUPLE = JSON.stringify({
  primary: 'db1', key: 'tea-12345', rating: 7, choices: [7, 9, 5], clocks: [{ bench: 123456 }, { c4: 17, c5: 3 }, { c9: 2 }],
});

function serve(): void {
  main('httpClients serve', async () => {
    const o = parseArg('httpClients serve');
    const router = new Router();
    router.put('/q/:channel', async (ctx) => {
      JSON.parse(await readBody(ctx.req));
      ctx.type = 'application/json';
      ctx.body = `{"channel":${JSON.stringify(ctx.params.channel)},"length":1}`;
    });
    router.get('/q/:channel', (ctx) => {
      ctx.type = 'application/json';
      ctx.body = TUPLE;
    });
    const app = new Koa();
    app.use(router.routes());
    const server = await listen(app, String(o.host), Number(o.port));
    onStop(server, async () => undefined);
  });
}

export interface ClientResult {
  kind: string;
  sequential: PhaseResult;
  concurrent: PhaseResult;
}

export interface ClientBenchOptions {
  root: string;
  host: string;
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  /** Called before each phase with its label; returns the progress callback for it. */
  progress: (label: string) => ((fraction: number, ok: number, errors: number) => void) | undefined;
  done: (r: PhaseResult) => void;
}

export async function runClientBench(o: ClientBenchOptions): Promise<ClientResult[]> {
  await assertPortFree(o.host, ECHO_PORT, 'http client benchmark server');
  const logfile = join(o.root, 'var', 'bench', 'log', 'httpEcho.log');
  const server = await startProcess({
    role: 'http echo', host: o.host, port: ECHO_PORT, command: process.execPath,
    args: [join(o.root, 'dist', 'bench', 'httpClients.js'), 'serve', JSON.stringify({ host: o.host, port: ECHO_PORT })], logfile,
  });
  const stop = track(server);
  const base = `http://${o.host}:${ECHO_PORT}`;
  const next = (k: number): Op => (k % 2 === 0 ? { method: 'PUT', path: '/q/db1', body: TUPLE } : { method: 'GET', path: '/q/db0' });
  const results: ClientResult[] = [];
  try {
    for (const kind of clientKinds()) {
      const client = benchHttpClient(kind);
      const send = async (op: Op) => (await client.request(op.method, base + op.path, op.body)).status;
      try {
        const phase = async (label: string, concurrency: number) => {
          const r = await runPhase({ label, concurrency, warmupMs: o.warmupMs, durationMs: o.durationMs, next, send, onTick: o.progress(label) });
          o.done(r);
          return r;
        };
        const sequential = await phase(`client ${kind} sequential`, 1);
        const concurrent = await phase(`client ${kind} c=${o.concurrency}`, o.concurrency);
        results.push({ kind, sequential, concurrent });
      } finally {
        client.close();
      }
    }
  } finally {
    await stop.stop();
  }
  return results;
}

if (require.main === module && process.argv[2] === 'serve') {
  process.argv.splice(2, 1);
  serve();
}
