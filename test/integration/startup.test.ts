/**
 * Starting the three servers as the original harness did: `node
 * dist/serverX.js '<json>'` with the contract's keys; clear, quick failures for a
 * wrong-typed key, a busy port and a missing Redis; and single-instance mode
 * (no argument) on the contract's default ports.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { expect } from 'chai';
import Redis from 'ioredis';
import { Cluster } from '../../tools/cluster/cluster';
import { Managed } from '../../tools/cluster/processes';
import { loadDefaults, projectRoot } from '../../lib/server/boot';
import { isAlive, requireBuilt, startTracked, stopTracked, track } from '../support/cluster';
import { deleteRating, getOk, putOk, request } from '../support/http';
import { PORT_BLOCKS, TestLayout, claimTestLayout } from '../support/layout';

type Script = 'serverDB' | 'serverLB' | 'serverQ';

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  ms: number;
}

describe('integration: starting the servers from the command line', function () {
  this.timeout(30_000);
  let layout: TestLayout; // claimed in before: the first free slot of this file's port block
  let redisPort = 0;
  const script = (name: Script) => join(projectRoot(), 'dist', `${name}.js`);
  const started: Managed[] = [];
  let redis: Managed | null = null;

  /** Run a server that is expected to fail; kill it if it is still running after `timeoutMs`. */
  function runToExit(name: Script, args: string[], timeoutMs = 15_000): Promise<Exit> {
    return new Promise((resolve, reject) => {
      const t0 = Date.now();
      const child = spawn(process.execPath, [script(name), ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (d: string) => (stderr += d));
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.on('error', reject);
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        resolve({ code, signal, stderr, ms: Date.now() - t0 });
      });
    });
  }

  /** Exited by itself, quickly, non-zero, with a one-line message (no stack trace) matching `mentions`. */
  function expectCleanFailure(exit: Exit, ...mentions: (string | RegExp)[]) {
    expect(exit.signal, `killed after hanging; stderr: ${exit.stderr}`).to.equal(null);
    expect(exit.code, `exit code; stderr: ${exit.stderr}`).to.be.a('number').and.not.equal(0);
    expect(exit.ms, 'time to exit (it must exit by itself, not hang)').to.be.below(10_000);
    for (const m of mentions) {
      if (typeof m === 'string') expect(exit.stderr).to.include(m);
      else expect(exit.stderr).to.match(m);
    }
    expect(exit.stderr, 'a message, not a stack trace').not.to.match(/\n\s+at /);
  }

  async function start(name: Script, role: string, port: number, config: object | null): Promise<Managed> {
    const logfile = join(layout.logDir, `${role.replace(/\W+/g, '-')}.stdout.log`);
    const p = await startTracked({
      role, host: layout.host, port, command: process.execPath,
      args: config === null ? [script(name)] : [script(name), JSON.stringify(config)], logfile,
    });
    started.push(p);
    return p;
  }

  function hold(port: number): Promise<net.Server> {
    return new Promise((resolve, reject) => {
      const server = net.createServer((s) => s.destroy());
      server.once('error', reject);
      server.listen(port, layout.host, () => resolve(server));
    });
  }

  before(async function () {
    requireBuilt(projectRoot());
    layout = await claimTestLayout('startup', PORT_BLOCKS.startup, 1);
    const cluster = new Cluster(layout);
    redisPort = cluster.redisPort(0);
    await cluster.checkPrerequisites();
    redis = track(await cluster.startRedis(0));
  });

  after(async function () {
    for (const p of started) await stopTracked(p);
    await stopTracked(redis);
  });

  describe("with the original harness's JSON argument", function () {
    it('Q, DB and LB start with exactly the keys the original harness passed, and serve a write end to end', async function () {
      const { qPort, dbBasePort: dbPort, lbPort } = layout;
      const dbLog = join(layout.logDir, 'serverDB0.log');
      const lbLog = join(layout.logDir, 'serverLB0.log');
      await start('serverQ', 'queue', qPort, { id: 0, port: qPort, nq: 1, ndb: 1 });
      await start('serverDB', 'db 0', dbPort, {
        id: 0, servers: [{ host: 'localhost', port: redisPort }], hostport: dbPort, qport: qPort,
        ndb: 1, baseDBport: dbPort, 'digest-length': 2, logfile: dbLog,
      });
      await start('serverLB', 'lb', lbPort, { id: 0, port: lbPort, ndb: 1, 'db-base-port': dbPort, logfile: lbLog });

      expect(await putOk(lbPort, 'genmaicha', 4, { a: 1 })).to.deep.equal({ rating: 4 });
      expect(await putOk(lbPort, 'genmaicha', 8, { b: 1 })).to.deep.equal({ rating: 6 });
      expect(await getOk(lbPort, 'genmaicha')).to.deep.equal({ rating: 6, choices: [4, 8], clocks: [{ a: 1 }, { b: 1 }] });
      expect(await getOk(dbPort, 'genmaicha')).to.deep.equal({ rating: 6, choices: [4, 8], clocks: [{ a: 1 }, { b: 1 }] });

      const client = new Redis({ host: layout.host, port: redisPort, maxRetriesPerRequest: 1 });
      try {
        const hash = await client.hgetall('/rating/genmaicha');
        expect(JSON.parse(hash.choices)).to.deep.equal([4, 8]);
      } finally {
        client.disconnect();
      }
      // The logfile keys were honoured.
      expect(readFileSync(dbLog, 'utf8')).to.include(`listening on ${layout.host}:${dbPort}`);
      expect(readFileSync(lbLog, 'utf8')).to.include(`listening on ${layout.host}:${lbPort}`);
      expect((await deleteRating(lbPort, 'genmaicha')).json()).to.deep.equal({ rating: null });
    });

    it('unknown keys are ignored', async function () {
      const dbPort = layout.dbBasePort;
      const q = await start('serverQ', 'queue with extra keys', layout.spare(1), { id: 0, port: layout.spare(1), nq: 1, ndb: 1, colour: 'green', extra: { x: [1] } });
      const res = await request(layout.spare(1), { method: 'PUT', path: '/q/x', headers: { 'Content-Type': 'application/json' }, body: '{"a": 1}' });
      expect(res.json()).to.deep.equal({ channel: 'x', length: 1 });
      await start('serverLB', 'lb with extra keys', layout.spare(2), { id: 0, port: layout.spare(2), ndb: 1, 'db-base-port': dbPort, unknown: true });
      expect((await getOk(layout.spare(2), 'anything')).choices).to.deep.equal([]);
      expect(isAlive(q)).to.equal(true);
    });
  });

  describe('a wrong-typed key exits non-zero at once, naming the key', function () {
    // Every config also names spare ports, so a check that failed to fire could never start a server on the contract's defaults.
    const safe = () => ({
      db: { id: 0, ndb: 1, hostport: layout.spare(10), servers: [{ host: 'localhost', port: redisPort }], qport: layout.spare(11), baseDBport: layout.spare(10) },
      lb: { id: 0, ndb: 1, port: layout.spare(12), 'db-base-port': layout.spare(10) },
      q: { id: 0, port: layout.spare(13), nq: 1, ndb: 1 },
    });
    const cases: [Script, keyof ReturnType<typeof safe>, Record<string, unknown>, string][] = [
      ['serverDB', 'db', { hostport: 'x' }, 'hostport'],
      ['serverDB', 'db', { servers: 'localhost:5555' }, 'servers'],
      ['serverDB', 'db', { servers: [] }, 'servers'],
      ['serverDB', 'db', { servers: [{ host: 'localhost', port: '5555' }] }, 'port'],
      ['serverDB', 'db', { servers: [{ host: 7, port: 5555 }] }, 'host'],
      ['serverDB', 'db', { qport: 70000 }, 'qport'],
      ['serverDB', 'db', { ndb: 0 }, 'ndb'],
      ['serverDB', 'db', { id: -1 }, 'id'],
      ['serverDB', 'db', { 'digest-length': '2' }, 'digest-length'],
      ['serverDB', 'db', { baseDBport: 3000.5 }, 'baseDBport'],
      ['serverDB', 'db', { logfile: 42 }, 'logfile'],
      ['serverLB', 'lb', { port: 'x' }, 'port'],
      ['serverLB', 'lb', { ndb: 1.5 }, 'ndb'],
      ['serverLB', 'lb', { 'db-base-port': null }, 'db-base-port'],
      ['serverLB', 'lb', { id: 'zero' }, 'id'],
      ['serverQ', 'q', { port: true }, 'port'],
      ['serverQ', 'q', { nq: 0 }, 'nq'],
      ['serverQ', 'q', { ndb: [4] }, 'ndb'],
      ['serverQ', 'q', { redis: 'localhost:6001' }, 'redis'],
    ];
    const notObjects = ['{"port": 1', '[1, 2]', '"text"'];
    const runs: { title: string; run: () => Promise<Exit>; mentions: (string | RegExp)[] }[] = [
      ...cases.map(([name, base, override, key]) => ({
        title: `${name} ${JSON.stringify(override)} names "${key}"`,
        run: () => runToExit(name, [JSON.stringify({ ...safe()[base], ...override })]),
        mentions: [`"${key}"`, name] as (string | RegExp)[],
      })),
      ...(['serverDB', 'serverLB', 'serverQ'] as Script[]).flatMap((name) =>
        notObjects.map((arg) => ({
          title: `${name} '${arg}' (not a JSON object) says so`,
          run: () => runToExit(name, [arg]),
          mentions: [/JSON object/, name] as (string | RegExp)[],
        })),
      ),
    ];
    const exits = new Map<string, Exit>();

    // The processes are independent: run them a few at a time, then check each in its own test.
    before(async function () {
      this.timeout(60_000);
      const queue = [...runs];
      await Promise.all(
        Array.from({ length: 3 }, async () => {
          for (let r = queue.shift(); r; r = queue.shift()) exits.set(r.title, await r.run());
        }),
      );
    });

    for (const { title, mentions } of runs) {
      it(title, function () {
        expectCleanFailure(exits.get(title)!, ...mentions);
      });
    }
  });

  describe('a busy port exits non-zero at once, naming the port', function () {
    let busy = 0;
    let holder: net.Server | null = null;

    before(async function () {
      busy = layout.spare(5);
      holder = await hold(busy);
    });

    after(async function () {
      await new Promise<void>((resolve) => (holder ? holder.close(() => resolve()) : resolve()));
    });

    it('serverQ', async function () {
      expectCleanFailure(await runToExit('serverQ', [JSON.stringify({ id: 0, port: busy, nq: 1, ndb: 1 })]), String(busy), /in use/);
    });

    it('serverLB', async function () {
      expectCleanFailure(await runToExit('serverLB', [JSON.stringify({ id: 0, port: busy, ndb: 1, 'db-base-port': layout.spare(6) })]), String(busy), /in use/);
    });

    it('serverDB (its Redis is up, the HTTP port is taken)', async function () {
      const config = { id: 0, ndb: 1, hostport: busy, servers: [{ host: 'localhost', port: redisPort }], qport: layout.spare(6), baseDBport: busy };
      expectCleanFailure(await runToExit('serverDB', [JSON.stringify(config)]), String(busy), /in use/);
    });
  });

  it('a DB whose Redis is not running exits non-zero at once, saying it cannot reach Redis at that port', async function () {
    const noRedis = layout.spare(7);
    const config = { id: 0, ndb: 1, hostport: layout.spare(8), servers: [{ host: 'localhost', port: noRedis }], qport: layout.spare(9), baseDBport: layout.spare(8) };
    const exit = await runToExit('serverDB', [JSON.stringify(config)]);
    expectCleanFailure(exit, /redis/i, String(noRedis));
  });

  describe('single-instance mode', function () {
    const defaults = loadDefaults();
    const ports = {
      redis: defaults.redis['single-instance-port'],
      db: defaults.db['base-port'],
      lb: defaults.lb.port,
      q: defaults.q.port,
    };
    const mine: Managed[] = [];

    function isFree(port: number): Promise<boolean> {
      return new Promise((resolve) => {
        const server = net.createServer();
        server.once('error', () => resolve(false));
        server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
      });
    }

    after(async function () {
      for (const p of mine.reverse()) await stopTracked(p);
    });

    it(`with no argument: Q on ${ports.q}, DB 0 on ${ports.db} over Redis ${ports.redis}, LB (ndb 1) on ${ports.lb} (skipped, and says so, if one of those ports is taken)`, async function () {
      const taken: number[] = [];
      for (const port of Object.values(ports)) if (!(await isFree(port))) taken.push(port);
      if (taken.length > 0) {
        this.test!.title += ` [SKIPPED: port ${taken.join(', ')} in use]`;
        this.skip();
      }
      // Our own Redis on the single-instance port, with its data under var/test.
      const dir = join(layout.dataDir, `redis-${ports.redis}`);
      mkdirSync(dir, { recursive: true });
      const redisLog = join(layout.logDir, `redis-${ports.redis}.log`);
      mine.push(
        await startTracked({
          role: `redis ${ports.redis}`, host: '127.0.0.1', port: ports.redis, command: 'redis-server',
          args: ['--port', String(ports.redis), '--bind', '127.0.0.1', '--dir', dir, '--logfile', redisLog, '--save', '', '--appendonly', 'no'],
          logfile: redisLog,
        }),
      );
      const logOf = (what: string) => join(layout.logDir, `single-${what}.log`);
      for (const [name, port] of [['serverQ', ports.q], ['serverDB', ports.db], ['serverLB', ports.lb]] as [Script, number][]) {
        mine.push(await startTracked({ role: `${name} (no argument)`, host: '127.0.0.1', port, command: process.execPath, args: [script(name)], logfile: logOf(name) }));
      }

      const teas = ['single-a', 'single-b', 'single-c', 'single-d'];
      for (const [k, tea] of teas.entries()) expect(await putOk(ports.lb, tea, k, { c: 1 })).to.deep.equal({ rating: k });
      // With ndb 1 every tea lives on DB 0, in the Redis at 6379.
      const client = new Redis({ host: '127.0.0.1', port: ports.redis, maxRetriesPerRequest: 1 });
      try {
        for (const [k, tea] of teas.entries()) {
          expect(await getOk(ports.lb, tea)).to.deep.equal({ rating: k, choices: [k], clocks: [{ c: 1 }] });
          expect(await getOk(ports.db, tea)).to.deep.equal({ rating: k, choices: [k], clocks: [{ c: 1 }] });
          expect(JSON.parse((await client.hgetall(`/rating/${tea}`)).choices)).to.deep.equal([k]);
        }
      } finally {
        client.disconnect();
      }
      // And the queue answers on its default port.
      const q = await request(ports.q, { method: 'GET', path: '/q/nothing' });
      expect(q.json()).to.deep.equal({});
      for (const p of mine) expect(isAlive(p), p.role).to.equal(true);
      expect(existsSync(dir)).to.equal(true);
    });
  });
});
