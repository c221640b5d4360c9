/**
 * What the gossip link's integration tests (test/integration/link*.test.ts)
 * share: TestDb (a DB's end of the link: a SocketLink, lib/queue/link.ts,
 * recording what it is told), RawLink (a raw socket that speaks the frames
 * where a test must misbehave), and useQueue, a queue process of the file's
 * own (dist/serverQ.js) with the DBs and raw links a test opens to it.
 */
import net, { Socket } from 'node:net';
import { join } from 'node:path';
import type { Chunk } from '../../lib/core/gossip';
import { Frame, FrameDecoder, GOSSIP_UPGRADE, encodeFrame } from '../../lib/queue/frames';
import { SocketLink } from '../../lib/queue/link';
import { Managed } from '../../tools/cluster/processes';
import { requireBuilt, startTracked, stopTracked } from './cluster';
import { request } from './http';
import { TestLayout, claimTestLayout } from './layout';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** A message a link can carry (a JSON object). */
export const m = (n: number) => JSON.stringify({ n });

/** Poll `check` until it returns something other than undefined, or fail after `ms`. */
export async function eventually<T>(what: string, check: () => T | undefined | Promise<T | undefined>, ms = 3000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(10);
  }
}

/** One DB's end of the link, recording what it is told. */
export class TestDb {
  readonly link: SocketLink;
  readonly chunks: Chunk[] = [];
  readonly warnings: string[] = [];
  readonly downs: string[] = [];
  ups = 0;
  cleared = 0;
  /** Runs inside the chunk handler, before the link says got. */
  onChunk: (chunk: Chunk) => void = () => undefined;

  constructor(port: number, readonly inbox: string, readonly outbox: string) {
    this.link = new SocketLink('127.0.0.1', port, inbox, outbox, (w) => this.warnings.push(w));
    this.link.open({
      chunk: (c) => {
        this.chunks.push(c);
        this.onChunk(c);
      },
      cleared: () => this.cleared++,
      up: () => this.ups++,
      down: (reason) => this.downs.push(reason),
    });
  }

  messages(): string[] {
    return this.chunks.flatMap((c) => c.messages);
  }

  /** Wait until `n` messages have arrived in total. */
  received(n: number, ms = 3000): Promise<string[]> {
    return eventually(`${this.inbox} to receive ${n} messages (has ${this.messages().length})`, () => (this.messages().length >= n ? this.messages() : undefined), ms);
  }

  /** Cut the connection under the link, as a network failure would: the link reconnects by itself. */
  dropConnection(): void {
    (this.link as unknown as { socket: Socket | null }).socket?.destroy();
  }
}

/** A raw connection upgraded to the gossip protocol: it sends whatever a test writes, and collects frames. */
export class RawLink {
  readonly frames: Frame[] = [];
  private readonly decoder = new FrameDecoder();
  closed = false;

  private constructor(readonly socket: Socket) {}

  static open(port: number, inbox: string, publish?: string): Promise<RawLink> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: '127.0.0.1', port });
      const raw = new RawLink(socket);
      let head = '';
      let upgraded = false;
      socket.setEncoding('utf8');
      socket.on('error', () => undefined);
      socket.on('close', () => {
        raw.closed = true;
        if (!upgraded) reject(new Error(`no upgrade: ${head}`));
      });
      socket.on('data', (text: string) => {
        if (upgraded) return raw.frames.push(...raw.decoder.feed(text));
        head += text;
        const end = head.indexOf('\r\n\r\n');
        if (end === -1) return;
        if (!head.startsWith('HTTP/1.1 101')) return socket.destroy();
        upgraded = true;
        raw.frames.push(...raw.decoder.feed(head.slice(end + 4)));
        resolve(raw);
      });
      const query = publish === undefined ? '' : `?publish=${encodeURIComponent(publish)}`;
      socket.write(`GET /q/${encodeURIComponent(inbox)}/subscribe${query} HTTP/1.1\r\nHost: queue\r\nConnection: Upgrade\r\nUpgrade: ${GOSSIP_UPGRADE}\r\n\r\n`);
    });
  }

  send(frame: Frame | string): void {
    this.socket.write(typeof frame === 'string' ? frame : encodeFrame(frame));
  }

  frame<T extends Frame['type']>(type: T, ms = 3000): Promise<Extract<Frame, { type: T }>> {
    return eventually(`a ${type} frame`, () => this.frames.find((f) => f.type === type) as Extract<Frame, { type: T }> | undefined, ms);
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Headers asking the queue for JSON. */
export const json = { Accept: 'application/json' };

type ChannelStats = Record<string, { held: number; delivered: number; subscribed: boolean }>;

/** A file's queue process (in memory, stopped after its tests), and the DBs and raw links a test opens to it (closed after each test). */
export interface QueueFixture {
  layout: TestLayout;
  /** The queue's port. */
  qPort: number;
  /** The DBs the tests opened, closed after each test. */
  dbs: TestDb[];
  /** The queue's GET /stats channels (of the queue on `port`, the file's by default). */
  stats(port?: number): Promise<ChannelStats>;
  /** Start a queue process on `port`, journaling to the Redis on `redisPort` when given, in memory otherwise. */
  startQueue(port: number, name: string, redisPort?: number): Promise<Managed>;
  /** A DB linked to the queue on `port`, once its link is up. */
  openDb(inbox: string, outbox: string, port?: number): Promise<TestDb>;
  /** Two DBs on a ring of two, with channels of their own: db0 consumes db1's channel, db1 db0's. */
  ring(): Promise<[TestDb, TestDb]>;
  /** A raw link subscribed to `inbox` (publishing on `publish` when given), once upgraded. */
  openRaw(inbox: string, publish?: string, port?: number): Promise<RawLink>;
}

/** Hooks for the describe block that calls it: a queue process on the file's port block (`file`, `block`: test/support/layout.ts). */
export function useQueue(file: string, block: number): QueueFixture {
  let queue: Managed | null = null;
  const raws: RawLink[] = [];
  let ringCount = 0;

  const fx: QueueFixture = {
    layout: undefined as unknown as TestLayout,
    qPort: 0,
    dbs: [],
    stats: async (port = fx.qPort) => (await request(port, { method: 'GET', path: '/stats', headers: json })).json().channels as ChannelStats,

    startQueue(port, name, redisPort) {
      const { layout } = fx;
      const logfile = join(layout.logDir, `${name}.log`);
      const config = { id: 0, host: layout.host, port, nq: 1, ndb: 2, logfile, ...(redisPort ? { redis: { host: layout.host, port: redisPort } } : {}) };
      return startTracked({ role: name, host: layout.host, port, command: process.execPath, args: [join(layout.root, 'dist', 'serverQ.js'), JSON.stringify(config)], logfile });
    },

    async openDb(inbox, outbox, port = fx.qPort) {
      const db = new TestDb(port, inbox, outbox);
      fx.dbs.push(db);
      await eventually(`the link of ${outbox} to come up`, () => (db.ups > 0 ? true : undefined));
      return db;
    },

    async ring() {
      const name = `ring${++ringCount}`;
      return [await fx.openDb(`${name}-db1`, `${name}-db0`), await fx.openDb(`${name}-db0`, `${name}-db1`)];
    },

    async openRaw(inbox, publish, port = fx.qPort) {
      const raw = await RawLink.open(port, inbox, publish);
      raws.push(raw);
      return raw;
    },
  };

  before(async function () {
    fx.layout = await claimTestLayout(file, block, 1);
    requireBuilt(fx.layout.root);
    fx.qPort = fx.layout.qPort;
    queue = await fx.startQueue(fx.qPort, 'serverQ-memory');
  });

  afterEach(function () {
    for (const db of fx.dbs.splice(0)) db.link.close();
    for (const raw of raws.splice(0)) raw.close();
  });

  after(async function () {
    await stopTracked(queue);
  });

  return fx;
}
