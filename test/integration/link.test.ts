/**
 * The gossip link end to end: SocketLinks (a DB's end, lib/queue/link.ts)
 * against a real queue process (dist/serverQ.js: peer.ts, hub.ts, app.ts).
 * Two links play two DBs on a ring of two: db0 publishes on its channel and
 * consumes db1's, db1 the opposite. A raw socket speaks the frames where a
 * test needs to misbehave, and a fake queue in this process where the
 * queue's side must.
 */
import net, { Socket } from 'node:net';
import { join } from 'node:path';
import { expect } from 'chai';
import type { Chunk } from '../../lib/core/gossip';
import { Frame, FrameDecoder, GOSSIP_UPGRADE, encodeFrame } from '../../lib/queue/frames';
import { SocketLink } from '../../lib/queue/link';
import { LINK_IDLE_MS } from '../../lib/queue/peer';
import { Cluster } from '../../tools/cluster/cluster';
import { Managed, killProcess } from '../../tools/cluster/processes';
import { requireBuilt, startTracked, stopTracked, track } from '../support/cluster';
import { request } from '../support/http';
import { PORT_BLOCKS, TestLayout, claimTestLayout } from '../support/layout';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const m = (n: number) => JSON.stringify({ n });

/** Poll `check` until it returns something other than undefined, or fail after `ms`. */
async function eventually<T>(what: string, check: () => T | undefined | Promise<T | undefined>, ms = 3000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(10);
  }
}

/** One DB's end of the link, recording what it is told. */
class TestDb {
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
class RawLink {
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

describe('integration: the gossip link (SocketLink <-> serverQ)', function () {
  this.timeout(20_000);
  let layout: TestLayout;
  let queue: Managed | null = null;
  let qPort: number;
  const dbs: TestDb[] = [];
  const raws: RawLink[] = [];
  let ringCount = 0;

  const json = { Accept: 'application/json' };
  const stats = async (port = qPort) => (await request(port, { method: 'GET', path: '/stats', headers: json })).json().channels as Record<string, { held: number; delivered: number; subscribed: boolean }>;

  /** Start a queue process on `port`, journaling to the Redis on `redisPort` when given, in memory otherwise. */
  function startQueue(port: number, name: string, redisPort?: number): Promise<Managed> {
    const logfile = join(layout.logDir, `${name}.log`);
    const config = { id: 0, host: layout.host, port, nq: 1, ndb: 2, logfile, ...(redisPort ? { redis: { host: layout.host, port: redisPort } } : {}) };
    return startTracked({ role: name, host: layout.host, port, command: process.execPath, args: [join(layout.root, 'dist', 'serverQ.js'), JSON.stringify(config)], logfile });
  }

  /** A DB linked to the queue on `port`, once its link is up. */
  async function openDb(inbox: string, outbox: string, port = qPort): Promise<TestDb> {
    const db = new TestDb(port, inbox, outbox);
    dbs.push(db);
    await eventually(`the link of ${outbox} to come up`, () => (db.ups > 0 ? true : undefined));
    return db;
  }

  /** Two DBs on a ring of two, with channels of their own: db0 consumes db1's channel, db1 db0's. */
  async function ring(): Promise<[TestDb, TestDb]> {
    const name = `ring${++ringCount}`;
    return [await openDb(`${name}-db1`, `${name}-db0`), await openDb(`${name}-db0`, `${name}-db1`)];
  }

  async function openRaw(inbox: string, publish?: string, port = qPort): Promise<RawLink> {
    const raw = await RawLink.open(port, inbox, publish);
    raws.push(raw);
    return raw;
  }

  before(async function () {
    layout = await claimTestLayout('link', PORT_BLOCKS.link, 1);
    requireBuilt(layout.root);
    qPort = layout.qPort;
    queue = await startQueue(qPort, 'serverQ-memory');
  });

  afterEach(function () {
    for (const db of dbs.splice(0)) db.link.close();
    for (const raw of raws.splice(0)) raw.close();
  });

  after(async function () {
    await stopTracked(queue);
  });

  describe('puts and deliveries', function () {
    it("a put resolves only after the other DB's handler has run", async function () {
      const [db0, db1] = await ring();
      const events: string[] = [];
      db1.onChunk = () => events.push('db1 handled the chunk');
      await db0.link.put([m(1)]);
      events.push("db0's put resolved");
      expect(events).to.deep.equal(['db1 handled the chunk', "db0's put resolved"]);
    });

    it('a put waits for the consumer to say got: answered after a got that comes 100 ms late, not before', async function () {
      const db = await openDb('late-from', 'late-to');
      const consumer = await openRaw('late-to'); // a consumer that takes its time
      const start = Date.now();
      const put = db.link.put([m(1)]);
      const chunk = await consumer.frame('chunk');
      await sleep(100);
      consumer.send({ type: 'got', ids: [chunk.id] });
      await put;
      expect(Date.now() - start).to.be.within(95, 195);
    });

    it('keeps the order of many puts, each delivered as one chunk', async function () {
      const [db0, db1] = await ring();
      const n = 300;
      await Promise.all(Array.from({ length: n }, (_, k) => db0.link.put(k % 3 === 0 ? [m(k), m(k)] : [m(k)])));
      const expected = Array.from({ length: n }, (_, k) => (k % 3 === 0 ? [m(k), m(k)] : [m(k)])).flat();
      expect(db1.messages()).to.deep.equal(expected);
      expect(db1.chunks).to.have.length(n);
      // And the other way round at the same time.
      await Promise.all([db1.link.put([m(-1)]), db0.link.put([m(n)])]);
      expect(db0.messages()).to.deep.equal([m(-1)]);
    });

    it('done makes the queue forget: /stats shows the chunks delivered and held until then, 0 after', async function () {
      const [db0, db1] = await ring();
      await db0.link.put([m(1), m(2)]);
      await db0.link.put([m(3)]);
      expect((await stats())[db0.outbox]).to.deep.equal({ held: 3, delivered: 3, subscribed: true });
      db1.link.done(db1.chunks.map((c) => c.id));
      const after = await eventually('the queue to forget', async () => {
        const s = (await stats())[db0.outbox];
        return s.held === 0 ? s : undefined;
      });
      expect(after).to.deep.equal({ held: 0, delivered: 0, subscribed: true });
    });

    it("a put to a channel nobody consumes resolves within 100 ms, and the contract's GET /q/<channel> then serves it", async function () {
      const db = await openDb('lonely-in', 'lonely-out');
      const start = Date.now();
      await db.link.put(['{"tea":"茶","rating":5}', m(2)]);
      expect(Date.now() - start).to.be.below(100);
      const take = async () => (await request(qPort, { method: 'GET', path: '/q/lonely-out', headers: json })).json();
      expect(await take()).to.deep.equal({ tea: '茶', rating: 5 });
      expect(await take()).to.deep.equal({ n: 2 });
      expect(await take()).to.deep.equal({});
    });

    it('a DB that closes its link is unsubscribed at once, so a put to its channel resolves within 100 ms', async function () {
      const [db0, db1] = await ring();
      db1.link.close();
      await sleep(50);
      // The queue's end of the link is half-open: it sees the DB's FIN but keeps the link until LINK_IDLE_MS.
      expect((await stats())[db0.outbox]?.subscribed ?? false, 'subscribed 50 ms after the DB closed its link').to.equal(false);
      const start = Date.now();
      await db0.link.put([m(1)]);
      expect(Date.now() - start).to.be.below(100);
    });
  });

  describe('subscribers coming back', function () {
    it('a DB whose connection drops gets the chunks it had not applied again when its link reconnects, same ids, in order', async function () {
      const [db0, db1] = await ring();
      await db0.link.put([m(1)]);
      await db0.link.put([m(2)]);
      db1.link.done([db1.chunks[0].id]);
      await eventually('the done to land', async () => ((await stats())[db0.outbox].held === 1 ? true : undefined));
      const ids = db1.chunks.map((c) => c.id);
      db1.dropConnection();
      await eventually('the link to come back', () => (db1.ups >= 2 ? true : undefined));
      const again = await eventually('the redelivery', () => (db1.chunks.length >= 3 ? db1.chunks.slice(2) : undefined));
      expect(db1.downs).to.have.length(1);
      expect(again.map((c) => [c.id, [...c.messages]])).to.deep.equal([[ids[1], [m(2)]]]);
    });

    it('a DB restarted (a new link on the same channels) gets what the old one held, and the old link is closed', async function () {
      const [db0, db1] = await ring();
      await db0.link.put([m(1)]);
      const restarted = await openDb(db1.inbox, db1.outbox);
      const [chunk] = await eventually('the redelivery', () => (restarted.chunks.length > 0 ? restarted.chunks : undefined));
      expect(chunk.id).to.equal(db1.chunks[0].id);
      await eventually('the old link to be told', () => (db1.warnings.some((w) => /another subscriber/.test(w)) ? true : undefined));
    });
  });

  describe('clear, and what the queue refuses', function () {
    it('DELETE /clear answers the counts and sends the cleared frame to a subscriber, whose link then reconnects', async function () {
      const [db0, db1] = await ring();
      await db0.link.put([m(1), m(2)]);
      const res = await request(qPort, { method: 'DELETE', path: '/clear', headers: json });
      expect(res.status).to.equal(200);
      expect(res.json()[db0.outbox]).to.equal(2);
      await eventually('the cleared frame', () => (db1.cleared === 1 ? true : undefined));
      await eventually('the link to come back', () => (db1.ups >= 2 ? true : undefined));
      expect((await stats())[db0.outbox]).to.deep.equal({ held: 0, delivered: 0, subscribed: true });
    });

    it('a malformed frame gets that link an error frame and closed, and the queue keeps serving the others', async function () {
      const [db0, db1] = await ring();
      const bad = await openRaw('bad-in', 'bad-out');
      bad.send('Z this is no frame\n');
      const error = await bad.frame('error');
      expect(error.message).to.match(/malformed/);
      await eventually('the queue to close the bad link', () => (bad.closed ? true : undefined));
      await db0.link.put([m(1)]);
      expect(db1.messages()).to.deep.equal([m(1)]);
    });

    it('a frame a DB never sends (a chunk) is refused the same way', async function () {
      const bad = await openRaw('bad2-in', 'bad2-out');
      bad.send({ type: 'chunk', id: '1', messages: ['{}'] });
      expect((await bad.frame('error')).message).to.match(/chunk/);
      await eventually('the queue to close the bad link', () => (bad.closed ? true : undefined));
    });

    it('a put on a link opened without ?publish= is refused with an error frame', async function () {
      const bad = await openRaw('nopublish-in');
      bad.send({ type: 'put', seq: 1, messages: ['{}'] });
      expect((await bad.frame('error')).message).to.match(/publish/);
    });

    it('a GET /q/<channel>/subscribe without the upgrade is a 4xx JSON error', async function () {
      const res = await request(qPort, { method: 'GET', path: '/q/x/subscribe', headers: json });
      expect(res.status).to.be.within(400, 499);
      expect(res.json()).to.have.property('error').that.is.a('string');
    });

    it('an upgrade to another protocol, or of another path, is a 400 JSON error', async function () {
      for (const [path, upgrade] of [['/q/x/subscribe', 'websocket'], ['/rating/x', GOSSIP_UPGRADE]]) {
        const res = await request(qPort, { method: 'GET', path, headers: { ...json, Connection: 'Upgrade', Upgrade: upgrade } });
        expect(res.status, `${path} upgrading to ${upgrade}`).to.equal(400);
        expect(res.json().error).to.match(/subscribe/);
      }
    });
  });

  describe('a queue that journals to Redis', function () {
    let redis: Managed | null = null;
    let journaled: Managed | null = null;
    let port: number;

    before(async function () {
      port = layout.spare(0);
      redis = track(await new Cluster(layout).startQueueRedis());
      journaled = await startQueue(port, 'serverQ-redis', layout.qRedisPort);
    });

    after(async function () {
      await stopTracked(journaled);
      await stopTracked(redis);
    });

    it('killed with SIGKILL and restarted, delivers what was put while nobody consumed', async function () {
      const db = await openDb('kill-in', 'kill-out', port);
      await db.link.put([m(1), '{"tea":"ü"}']);
      await db.link.put([m(2)]);
      db.link.close();
      await killProcess(journaled!);
      journaled = await startQueue(port, 'serverQ-redis', layout.qRedisPort);
      const consumer = await openDb('kill-out', 'kill-next', port);
      expect(await consumer.received(3)).to.deep.equal([m(1), '{"tea":"ü"}', m(2)]);
      expect(consumer.chunks).to.have.length(2);
    });
  });

  describe('failures the DB must notice', function () {
    it('a queue that stops answering (SIGSTOP) is noticed: the link goes down within SILENT_MS and a ping or two', async function () {
      const port = layout.spare(1);
      const frozen = await startQueue(port, 'serverQ-frozen');
      try {
        const db = await openDb('frozen-in', 'frozen-out', port);
        frozen.child.kill('SIGSTOP');
        // SILENT_MS is 3 s; the link's own pings (every second) must not count as the queue being alive.
        await eventually('the link to notice', () => (db.downs.length > 0 ? true : undefined), 5000);
      } finally {
        frozen.child.kill('SIGCONT');
        await stopTracked(frozen);
      }
    });

    it('a DB that goes silent (no ping, no got) is dropped after LINK_IDLE_MS, even while chunks are delivered to it', async function () {
      const silent = await openRaw('silent-in'); // subscribes, then never sends a frame: a frozen DB
      const db = await openDb('silent-from', 'silent-in');
      const start = Date.now();
      // The queue's own writes (deliveries) must not count as the link being alive.
      for (let k = 0; Date.now() - start < LINK_IDLE_MS + 800; k++) {
        await db.link.put([m(k)]);
        await sleep(300);
      }
      expect(silent.frames.filter((f) => f.type === 'chunk').length, 'chunks delivered to the silent link').to.be.above(3);
      expect((await stats())['silent-in'].subscribed, `subscribed ${Date.now() - start} ms after its last frame`).to.equal(false);
    });

    describe('against a fake queue that sends frames together with its 101 answer', function () {
      let fake: net.Server;
      const sockets: Socket[] = [];
      /** What the fake queue writes: the 101 answer and `first` in one write, then `rest` 50 ms later. */
      let script: { first: Buffer; rest: Buffer } = { first: Buffer.alloc(0), rest: Buffer.alloc(0) };
      const upgraded = `HTTP/1.1 101 Switching Protocols\r\nUpgrade: ${GOSSIP_UPGRADE}\r\nConnection: Upgrade\r\n\r\n`;

      before(function (done) {
        fake = net.createServer((socket) => {
          sockets.push(socket);
          socket.on('error', () => undefined);
          socket.once('data', () => {
            socket.write(Buffer.concat([Buffer.from(upgraded), script.first]));
            setTimeout(() => socket.write(script.rest), 50);
          });
        });
        fake.listen(layout.spare(2), layout.host, done);
      });

      after(function (done) {
        for (const s of sockets) s.destroy();
        fake.close(() => done());
      });

      /** Errors thrown out of every handler while `action` runs and `ms` pass (mocha's own handler set aside). */
      async function uncaughtDuring(ms: number, action: () => void): Promise<Error[]> {
        const saved = process.listeners('uncaughtException');
        const caught: Error[] = [];
        const catcher = (e: Error) => caught.push(e);
        process.removeAllListeners('uncaughtException');
        process.on('uncaughtException', catcher);
        try {
          action();
          await sleep(ms);
        } finally {
          process.removeListener('uncaughtException', catcher);
          for (const l of saved) process.on('uncaughtException', l);
        }
        return caught;
      }

      it('a character cut between the 101 packet and the next one arrives whole', async function () {
        const frame = Buffer.from(encodeFrame({ type: 'chunk', id: '1', messages: ['{"tea":"茶"}'] }));
        const cut = frame.indexOf(Buffer.from('茶')) + 1;
        script = { first: frame.subarray(0, cut), rest: frame.subarray(cut) };
        const db = await openDb('fake-in', 'fake-out', layout.spare(2));
        expect(await db.received(1)).to.deep.equal(['{"tea":"茶"}']);
      });

      it('a malformed frame in the 101 packet closes the link instead of throwing out of the DB process', async function () {
        script = { first: Buffer.from('Z not a frame\n'), rest: Buffer.alloc(0) };
        let db: TestDb | null = null;
        const thrown = await uncaughtDuring(300, () => {
          db = new TestDb(layout.spare(2), 'fake2-in', 'fake2-out');
          dbs.push(db);
        });
        expect(thrown.map((e) => e.message)).to.deep.equal([]);
      });
    });
  });
});
