/**
 * The gossip link working, end to end: SocketLinks (a DB's end, lib/queue/link.ts)
 * against a real queue process (dist/serverQ.js): puts answered once the
 * next DB holds them, order, done, and redelivery when a DB reconnects or restarts.
 * Two links play two DBs on a ring of two (test/support/link.ts).
 */
import { expect } from 'chai';
import { request } from '../support/http';
import { PORT_BLOCKS } from '../support/layout';
import { eventually, json, m, sleep, useQueue } from '../support/link';

describe('integration: the gossip link (SocketLink <-> serverQ)', function () {
  this.timeout(20_000);
  const fx = useQueue('linkDelivery', PORT_BLOCKS.link);
  const { stats, openDb, ring, openRaw } = fx;

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
      const take = async () => (await request(fx.qPort, { method: 'GET', path: '/q/lonely-out', headers: json })).json();
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
});
