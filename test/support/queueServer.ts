/**
 * A serverQ of a test file's own, apart from any cluster (so that DELETE
 * /clear counts are exact): with channels in memory (the contract's Q arguments), or
 * in a Redis of its own (the "redis" key the cluster's queue is started
 * with); and the requests the queue tests send it.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { Managed } from '../../tools/cluster/processes';
import { NDJSON } from '../../lib/http/common';
import { startTracked, stopTracked } from './cluster';
import { expectNoInternalErrors } from './expect';
import { JSON_HEADERS, request } from './http';
import { PORT_BLOCKS, TestLayout, claimTestLayout } from './layout';

export const BACKINGS = ['memory', 'redis'] as const;
export type Backing = (typeof BACKINGS)[number];
/** ndb as the queue is told it: the size of the test clusters. */
const NDB = 3;

/** The layout of a queue test file, claimed before its tests: spare ports for its queues, and where they log. */
export function useQueueLayout(file: 'queue' | 'queueBatch'): { layout: TestLayout } {
  const fx = {} as { layout: TestLayout };
  before(async function () {
    fx.layout = await claimTestLayout(file, PORT_BLOCKS[file], NDB);
  });
  return fx;
}

export interface OwnQueue {
  port: number;
  process: Managed | null;
  redis: Managed | null;
}

/** A serverQ (and for the redis backing its Redis) on the file's spare ports, for the calling describe's tests. */
export function useOwnQueue(file: { layout: TestLayout }, backing: Backing): OwnQueue {
  const own: OwnQueue = { port: 0, process: null, redis: null };
  before(async function () {
    const { layout } = file;
    own.port = layout.spare(backing === 'memory' ? 0 : 1);
    const config: Record<string, unknown> = { id: 0, port: own.port, nq: 1, ndb: NDB, logfile: join(layout.logDir, `serverQ-own-${backing}.log`) };
    if (backing === 'redis') {
      const port = layout.spare(2);
      const dir = join(layout.dataDir, `redis-${port}`);
      mkdirSync(dir, { recursive: true });
      const logfile = join(layout.logDir, `redis-${port}.log`);
      own.redis = await startTracked({
        role: "test queue's redis", host: layout.host, port, command: 'redis-server',
        args: ['--port', String(port), '--bind', layout.host, '--dir', dir, '--logfile', logfile, '--save', '', '--appendonly', 'no'],
        logfile,
      });
      config.redis = { host: layout.host, port };
    }
    own.process = await startTracked({
      role: `test queue (${backing})`, host: layout.host, port: own.port, command: process.execPath,
      args: [join(layout.root, 'dist', 'serverQ.js'), JSON.stringify(config)],
      logfile: config.logfile as string,
    });
  });

  after(async function () {
    await stopTracked(own.process);
    await stopTracked(own.redis);
  });
  return own;
}

// The routes beside the contract's: a batch put as NDJSON (one chunk) and the channels' counts. Each test starts
// from an empty queue. (The DBs themselves use the gossip link: test/integration/linkDelivery.test.ts and linkFailures.test.ts.)
/** The describe of the routes beside the contract's, on `own`'s queue: `tests` adds its tests. */
export function describeInternalRoutes(own: OwnQueue, tests: (api: QueueApi) => void): void {
  describe('routes beside the contract\'s: POST batch, GET stats', function () {
    const api = new QueueApi(() => own.port);
    const { clear } = api;

    beforeEach(async function () {
      await clear();
      expect(await clear(), 'the queue is empty before each test').to.deep.equal({});
    });

    tests(api);
  });
}

/** The file's last test: neither of its queues logged an error. */
export function describeQueueLogs(file: { layout: TestLayout }): void {
  describe('after all that', function () {
    it('no server logged an internal error (no input reached a 500)', function () {
      expectNoInternalErrors(file.layout.logDir, BACKINGS.map((backing) => `serverQ-own-${backing}.log`));
    });
  });
}

/** The queue's routes, on the port `port()` gives once the queue runs. */
export class QueueApi {
  constructor(private readonly port: () => number) {}

  readonly qput = (channel: string, body: string, headers: Record<string, string> = JSON_HEADERS) =>
    request(this.port(), { method: 'PUT', path: `/q/${channel}`, headers, body });
  readonly qget = async (channel: string) => {
    const res = await request(this.port(), { method: 'GET', path: `/q/${channel}` });
    expect(res.status, res.text).to.equal(200);
    return res.json();
  };
  readonly NDJSON_HEADERS = { 'Content-Type': NDJSON, Accept: 'application/json' };
  readonly batch = (channel: string, body: string | Buffer, headers: Record<string, string> = this.NDJSON_HEADERS) =>
    request(this.port(), { method: 'POST', path: `/q/${channel}/batch`, headers, body });
  readonly batchOk = async (channel: string, body: string) => {
    const res = await this.batch(channel, body);
    expect(res.status, res.text).to.equal(200);
    return res.json();
  };
  /** GET /stats: per channel, the messages held. */
  readonly stats = async (): Promise<Record<string, { held: number; delivered: number; subscribed: boolean }>> => {
    const res = await request(this.port(), { method: 'GET', path: '/stats' });
    expect(res.status, res.text).to.equal(200);
    return res.json().channels;
  };
  /** GET /q/<ch>: the raw text, so byte-exactness can be checked. */
  readonly qgetText = async (channel: string) => {
    const res = await request(this.port(), { method: 'GET', path: `/q/${channel}` });
    expect(res.status, res.text).to.equal(200);
    expect(res.headers['content-type']).to.match(/^application\/json/);
    return res.text;
  };
  readonly clear = async () => {
    const res = await request(this.port(), { method: 'DELETE', path: '/clear' });
    expect(res.status, res.text).to.equal(200);
    return res.json();
  };
  readonly sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
}
