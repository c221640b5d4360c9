/**
 * Starting a node as a container would be started (docs/kv.md "One node,
 * several front doors"): a bare `VIEW=... IP_PORT=... node dist/serverKV.js`
 * binds its own address only, answers a client right after it listens even
 * when its peers are not up yet, ignores variables it does not know, and
 * stops cleanly; a wrong environment fails at once with a one-line message.
 * Nodes at 127.0.0.40-42:8080.
 */
import { spawn } from 'node:child_process';
import net from 'node:net';
import { expect } from 'chai';
import { door000, door003, send } from './support/client';
import { logDirFor, serverScript, startNode, stopNode } from './support/nodes';

const [A, B, C] = ['127.0.0.40:8080', '127.0.0.41:8080', '127.0.0.42:8080'];

function refused(address: string): Promise<boolean> {
  const [host, port] = address.split(':');
  return new Promise((resolve) => {
    const s = net.connect({ host, port: Number(port) });
    s.once('connect', () => (s.destroy(), resolve(false)));
    s.once('error', () => resolve(true));
  });
}

function runToExit(env: Record<string, string>): Promise<{ code: number | null; stderr: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const child = spawn(process.execPath, [serverScript()], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr, ms: Date.now() - t0 });
    });
  });
}

describe('integration kv: starting a node from its environment', function () {
  this.timeout(30_000);
  const logDir = logDirFor('startup');

  it('binds only its own address and answers a client at once, its peers not up yet, unknown variables ignored', async () => {
    const t0 = Date.now();
    const node = await startNode({ address: A, view: [A, B, C], api: 'keyValue-store', logDir, env: { HOSTNAME: 'container', S: '3', K: '2' } });
    const listenMs = Date.now() - t0;
    try {
      const put = await door000.put(A, 'first', 'right away');
      expect(put.status, put.text).to.equal(200);
      expect((await door000.view(A)).status).to.equal(200);
      expect(await refused('127.0.0.1:8080'), 'not bound to 127.0.0.1').to.equal(true);
      expect(await refused(B), 'nor to a peer\'s address').to.equal(true);
      console.log(`      listening ${listenMs} ms after spawn (node start-up included)`);
    } finally {
      await stopNode(node);
    }
    expect(node.child.exitCode ?? node.child.signalCode, 'stopped by SIGTERM, cleanly').to.equal(0);
  });

  it('SOCKET_ADDRESS selects the seed-003 door; --api overrides what the environment says', async () => {
    const node = await startNode({ address: B, view: [B], api: 'key-value-store', logDir });
    try {
      expect((await door003.put(B, 'k', 'v')).status).to.equal(201);
      expect((await send(B, { method: 'GET', path: '/view' })).status, 'no seed-000 routes').to.equal(404);
    } finally {
      await stopNode(node);
    }
    const overridden = await startNode({ address: C, view: [C], api: 'key-value-store', logDir, env: { KV_API: 'keyValue-store' } });
    try {
      expect((await door000.put(C, 'k', 'v')).status).to.equal(200);
    } finally {
      await stopNode(overridden);
    }
  });

  it('a wrong environment fails at once with a one-line message', async () => {
    for (const [env, mention] of [
      [{}, /IP_PORT/],
      [{ IP_PORT: 'nonsense' }, /IP_PORT/],
      [{ IP_PORT: A, VIEW: `${A},not an address` }, /VIEW/],
      [{ SOCKET_ADDRESS: A, VIEW: A, SHARD_COUNT: '2' }, /SHARD_COUNT/],
    ] as const) {
      const exit = await runToExit(env as Record<string, string>);
      expect(exit.code, JSON.stringify(env)).to.equal(1);
      expect(exit.stderr).to.match(mention);
      expect(exit.stderr, 'a message, not a stack').not.to.match(/\n\s+at /);
      expect(exit.ms).to.be.below(10_000);
    }
  });
});
