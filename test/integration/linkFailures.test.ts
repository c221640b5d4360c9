/**
 * The gossip link failing, end to end (SocketLink against dist/serverQ.js,
 * test/support/link.ts): clear, frames and requests the queue refuses, a queue
 * killed and restarted, a frozen queue, a silent DB, and a fake queue that
 * sends frames in its 101 packet.
 */
import net, { Socket } from 'node:net';
import { expect } from 'chai';
import { GOSSIP_UPGRADE, encodeFrame } from '../../lib/queue/frames';
import { LINK_IDLE_MS } from '../../lib/queue/peer';
import { Cluster } from '../../tools/cluster/cluster';
import { Managed, killProcess } from '../../tools/cluster/processes';
import { stopTracked, track } from '../support/cluster';
import { request } from '../support/http';
import { PORT_BLOCKS } from '../support/layout';
import { TestDb, eventually, json, m, sleep, useQueue } from '../support/link';

describe('integration: the gossip link (SocketLink <-> serverQ)', function () {
  this.timeout(20_000);
  const fx = useQueue('linkFailures', PORT_BLOCKS.linkFailures);
  const { stats, startQueue, openDb, ring, openRaw } = fx;

  describe('clear, and what the queue refuses', function () {
    it('DELETE /clear answers the counts and sends the cleared frame to a subscriber, whose link then reconnects', async function () {
      const [db0, db1] = await ring();
      await db0.link.put([m(1), m(2)]);
      const res = await request(fx.qPort, { method: 'DELETE', path: '/clear', headers: json });
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
      const res = await request(fx.qPort, { method: 'GET', path: '/q/x/subscribe', headers: json });
      expect(res.status).to.be.within(400, 499);
      expect(res.json()).to.have.property('error').that.is.a('string');
    });

    it('an upgrade to another protocol, or of another path, is a 400 JSON error', async function () {
      for (const [path, upgrade] of [['/q/x/subscribe', 'websocket'], ['/rating/x', GOSSIP_UPGRADE]]) {
        const res = await request(fx.qPort, { method: 'GET', path, headers: { ...json, Connection: 'Upgrade', Upgrade: upgrade } });
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
      port = fx.layout.spare(0);
      redis = track(await new Cluster(fx.layout).startQueueRedis());
      journaled = await startQueue(port, 'serverQ-redis', fx.layout.qRedisPort);
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
      journaled = await startQueue(port, 'serverQ-redis', fx.layout.qRedisPort);
      const consumer = await openDb('kill-out', 'kill-next', port);
      expect(await consumer.received(3)).to.deep.equal([m(1), '{"tea":"ü"}', m(2)]);
      expect(consumer.chunks).to.have.length(2);
    });
  });

  describe('failures the DB must notice', function () {
    it('a queue that stops answering (SIGSTOP) is noticed: the link goes down within SILENT_MS and a ping or two', async function () {
      const port = fx.layout.spare(1);
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
        fake.listen(fx.layout.spare(2), fx.layout.host, done);
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
        const db = await openDb('fake-in', 'fake-out', fx.layout.spare(2));
        expect(await db.received(1)).to.deep.equal(['{"tea":"茶"}']);
      });

      it('a malformed frame in the 101 packet closes the link instead of throwing out of the DB process', async function () {
        script = { first: Buffer.from('Z not a frame\n'), rest: Buffer.alloc(0) };
        let db: TestDb | null = null;
        const thrown = await uncaughtDuring(300, () => {
          db = new TestDb(fx.layout.spare(2), 'fake2-in', 'fake2-out');
          fx.dbs.push(db);
        });
        expect(thrown.map((e) => e.message)).to.deep.equal([]);
      });
    });
  });
});
