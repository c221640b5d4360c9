/**
 * The hub (lib/queue/hub.ts) delivering to subscribers: push delivery and when
 * a put is answered, done, subscribers coming and going, the window.
 */
import { expect } from 'chai';
import { DELIVERY_WAIT_MS, WINDOW } from '../../lib/queue/hub';
import { deferred, settle } from './helpers';
import { isSettled, m, ms, sleep, timed, useHub } from './support/hub';

describe('queue/hub', () => {
  const fx = useHub();
  const { subscriber } = fx;

  describe('push delivery and when a put is answered', () => {
    it('pushes chunks to the subscriber in put order, each as one chunk with a distinct, increasing id', async () => {
      const sub = subscriber();
      fx.hub.subscribe('c', sub);
      void fx.hub.put('c', ms(1));
      void fx.hub.put('c', ms(2, 3));
      void fx.hub.put('c', ms(4));
      expect(sub.delivered.map((d) => d.messages)).to.deep.equal([ms(1), ms(2, 3), ms(4)]);
      const ids = sub.ids().map(Number);
      expect(ids[0]).to.be.below(ids[1]);
      expect(ids[1]).to.be.below(ids[2]);
    });

    it('delivers what was put before the subscriber came, on subscribe, in order', async () => {
      await fx.hub.put('c', ms(1));
      await fx.hub.put('c', ms(2));
      const sub = subscriber();
      fx.hub.subscribe('c', sub);
      expect(sub.messages()).to.deep.equal(ms(1, 2));
    });

    it('does not deliver one channel to the subscriber of another', () => {
      const sub = subscriber();
      fx.hub.subscribe('mine', sub);
      void fx.hub.put('other', ms(1));
      expect(sub.delivered).to.deep.equal([]);
    });

    it('a put resolves only once the subscriber says got, and not before', async () => {
      const sub = subscriber();
      fx.hub.subscribe('c', sub);
      const put = fx.hub.put('c', ms(1, 2));
      await sleep(30);
      expect(await isSettled(put), 'before got').to.equal(false);
      fx.hub.got(sub, [sub.ids()[0]]);
      const { value, ms: waited } = await timed(put);
      expect(value, 'messages the channel holds').to.equal(2);
      expect(waited, 'released by the got, not by the timer').to.be.below(DELIVERY_WAIT_MS / 2);
      expect(fx.journal.calls, 'gossip that flows never reaches the journal').to.deep.equal([]);
    });

    it('a got for another chunk, or from a subscriber that does not hold it, releases nothing', async () => {
      const sub = subscriber();
      const stranger = subscriber();
      fx.hub.subscribe('c', sub);
      fx.hub.subscribe('elsewhere', stranger);
      const put = fx.hub.put('c', ms(1));
      fx.hub.got(sub, ['12345']);
      fx.hub.got(stranger, sub.ids());
      expect(await isSettled(put)).to.equal(false);
      fx.hub.got(sub, sub.ids());
      expect(await isSettled(put)).to.equal(true);
    });

    it('with no subscriber, a put is journaled and resolves once the journal has it', async () => {
      const gate = deferred();
      fx.journal.held.set('add', gate.promise);
      const put = fx.hub.put('c', ms(1));
      await sleep(20);
      expect(fx.journal.callsOf('add')).to.have.length(1);
      expect(await isSettled(put), 'before the journal answered').to.equal(false);
      gate.resolve();
      expect(await put).to.equal(1);
      expect(fx.journal.contents('c')).to.deep.equal([[fx.journal.calls[0].ids[0], ms(1)]]);
    });

    it('with a subscriber that never says got, the put resolves after about DELIVERY_WAIT_MS and the chunk is journaled', async () => {
      const sub = subscriber();
      fx.hub.subscribe('c', sub);
      const { value, ms: waited } = await timed(fx.hub.put('c', ms(7)));
      expect(value).to.equal(1);
      expect(waited).to.be.within(DELIVERY_WAIT_MS - 20, DELIVERY_WAIT_MS + 150);
      expect(fx.journal.contents('c')).to.deep.equal([[Number(sub.ids()[0]), ms(7)]]);
      expect(fx.hub.stats().c, 'still delivered, still held').to.deep.equal({ held: 1, delivered: 1, subscribed: true });
    });

    it('a put of no messages resolves at once with the count and adds no chunk', async () => {
      const sub = subscriber();
      fx.hub.subscribe('c', sub);
      void fx.hub.put('c', ms(1));
      expect(await fx.hub.put('c', [])).to.equal(1);
      expect(sub.delivered).to.have.length(1);
    });

    it('a subscriber that says got while the chunk is being delivered releases the put at once, as LocalLink does', async () => {
      // LocalLink (lib/queue/link.ts) calls hub.got inside deliver, before put() has registered its waiter.
      fx.hub.subscribe('c', subscriber('got'));
      const { ms: waited } = await timed(fx.hub.put('c', ms(1)));
      expect(waited, 'ms the put waited').to.be.below(DELIVERY_WAIT_MS / 2);
    });

    it('a subscriber that says done while the chunk is being delivered releases the put at once', async () => {
      fx.hub.subscribe('c', subscriber('done'));
      const { ms: waited } = await timed(fx.hub.put('c', ms(1)));
      expect(waited, 'ms the put waited').to.be.below(DELIVERY_WAIT_MS / 2);
      expect(fx.hub.length('c')).to.equal(0);
    });
  });

  describe('done', () => {
    it('forgets the chunks named, releases their puts, and keeps the rest in order', async () => {
      const sub = subscriber();
      fx.hub.subscribe('c', sub);
      const puts = [fx.hub.put('c', ms(1)), fx.hub.put('c', ms(2)), fx.hub.put('c', ms(3))];
      const [a, b, c] = sub.ids();
      fx.hub.done(sub, [b]);
      expect(await isSettled(puts[1])).to.equal(true);
      expect(await isSettled(puts[0])).to.equal(false);
      expect(fx.hub.stats().c).to.deep.equal({ held: 2, delivered: 2, subscribed: true });
      fx.hub.done(sub, [a, c]);
      expect(fx.hub.length('c')).to.equal(0);
      expect(fx.hub.stats().c).to.deep.equal({ held: 0, delivered: 0, subscribed: true });
    });

    it('removes from the journal only the chunks that were journaled', async () => {
      const sub = subscriber();
      const early = fx.hub.put('c', ms(1)); // no subscriber yet: journaled on put
      await early;
      fx.hub.subscribe('c', sub);
      void fx.hub.put('c', ms(2));
      fx.hub.got(sub, [sub.ids()[1]]);
      expect(fx.journal.contents('c').map(([, msgs]) => msgs)).to.deep.equal([ms(1)]);
      fx.hub.done(sub, sub.ids());
      await settle();
      expect(fx.journal.callsOf('remove').map((c) => c.ids)).to.deep.equal([[Number(sub.ids()[0])]]);
      expect(fx.journal.contents('c')).to.deep.equal([]);
    });

    it('ignores ids it does not hold, and a done from a subscriber that no longer holds the channel', async () => {
      const first = subscriber();
      fx.hub.subscribe('c', first);
      void fx.hub.put('c', ms(1));
      fx.hub.done(first, ['42']);
      expect(fx.hub.length('c')).to.equal(1);
      fx.hub.subscribe('c', subscriber());
      fx.hub.done(first, first.ids());
      expect(fx.hub.length('c'), 'the old subscriber cannot make the new one lose the chunk').to.equal(1);
    });
  });

  describe('subscribers coming and going', () => {
    it('unsubscribe: what the subscriber held and did not apply goes to the next one, in order, with the same ids', async () => {
      const a = subscriber();
      fx.hub.subscribe('c', a);
      for (let n = 1; n <= 4; n++) void fx.hub.put('c', ms(n));
      fx.hub.got(a, a.ids());
      fx.hub.done(a, [a.ids()[1]]);
      fx.hub.unsubscribe(a);
      expect(fx.hub.stats().c).to.deep.equal({ held: 3, delivered: 0, subscribed: false });
      const b = subscriber();
      fx.hub.subscribe('c', b);
      expect(b.messages()).to.deep.equal(ms(1, 3, 4));
      expect(b.ids()).to.deep.equal([a.ids()[0], a.ids()[2], a.ids()[3]]);
      expect(a.closed, 'unsubscribe does not close').to.deep.equal([]);
    });

    it('a second subscribe closes the first, with a reason, and delivers what it held to the second', async () => {
      const a = subscriber();
      fx.hub.subscribe('c', a);
      void fx.hub.put('c', ms(1));
      void fx.hub.put('c', ms(2));
      fx.hub.done(a, [a.ids()[0]]);
      const b = subscriber();
      fx.hub.subscribe('c', b);
      expect(a.closed).to.have.length(1);
      expect(a.closed[0]).to.match(/another subscriber/);
      expect(b.messages()).to.deep.equal(ms(2));
      void fx.hub.put('c', ms(3));
      expect(a.messages(), 'nothing more for the first').to.deep.equal(ms(1, 2));
      expect(b.messages()).to.deep.equal(ms(2, 3));
    });

    it('the replaced subscriber going away later leaves the new one subscribed', () => {
      const a = subscriber();
      const b = subscriber();
      fx.hub.subscribe('c', a);
      void fx.hub.put('c', ms(1));
      fx.hub.subscribe('c', b);
      fx.hub.unsubscribe(a);
      expect(fx.hub.stats().c).to.deep.equal({ held: 1, delivered: 1, subscribed: true });
      fx.hub.got(a, b.ids());
      fx.hub.done(a, b.ids());
      expect(fx.hub.length('c')).to.equal(1);
    });

    it('a put waiting on a subscriber that leaves is journaled and answered after DELIVERY_WAIT_MS', async () => {
      const a = subscriber();
      fx.hub.subscribe('c', a);
      const put = fx.hub.put('c', ms(1));
      fx.hub.unsubscribe(a);
      const { ms: waited } = await timed(put);
      expect(waited).to.be.below(DELIVERY_WAIT_MS + 150);
      expect(fx.journal.contents('c').map(([, msgs]) => msgs)).to.deep.equal([ms(1)]);
    });
  });

  describe('the window', () => {
    it('stops delivering at WINDOW.messages and resumes when the subscriber says done', async () => {
      const big = Math.floor(WINDOW.messages * 0.6);
      const chunk = (tag: number) => Array.from({ length: big }, () => m(tag));
      const sub = subscriber();
      fx.hub.subscribe('c', sub);
      void fx.hub.put('c', chunk(1));
      const second = fx.hub.put('c', chunk(2));
      expect(sub.delivered, 'the second would pass the window').to.have.length(1);
      expect(fx.hub.stats().c).to.deep.equal({ held: 2 * big, delivered: big, subscribed: true });
      // Not held by anyone: journaled at once, so its put is answered without waiting for the window.
      await second;
      expect(fx.journal.contents('c')).to.have.length(1);
      fx.hub.done(sub, [sub.ids()[0]]);
      expect(sub.delivered).to.have.length(2);
      expect(sub.delivered[1].messages[0]).to.equal(m(2));
    });

    it('stops delivering at WINDOW.bytes', () => {
      const half = `{"x":"${'x'.repeat(Math.floor(WINDOW.bytes * 0.6))}"}`;
      const sub = subscriber();
      fx.hub.subscribe('c', sub);
      void fx.hub.put('c', [half]);
      void fx.hub.put('c', [half]);
      void fx.hub.put('c', ms(1));
      expect(sub.delivered).to.have.length(1);
      fx.hub.done(sub, sub.ids());
      expect(sub.delivered.map((d) => d.messages[0].length)).to.deep.equal([half.length, half.length, m(1).length]);
    });

    it('always delivers a first chunk larger than the whole window', () => {
      const sub = subscriber();
      fx.hub.subscribe('c', sub);
      void fx.hub.put('c', Array.from({ length: WINDOW.messages + 1 }, (_, k) => m(k)));
      void fx.hub.put('c', ms(1));
      expect(sub.delivered.map((d) => d.messages.length)).to.deep.equal([WINDOW.messages + 1]);
    });

    it('with many small chunks, holds delivery at exactly WINDOW.messages', () => {
      const sub = subscriber();
      fx.hub.subscribe('c', sub);
      for (let k = 0; k < WINDOW.messages + 10; k++) void fx.hub.put('c', ['{}']);
      expect(sub.delivered).to.have.length(WINDOW.messages);
      fx.hub.done(sub, sub.ids().slice(0, 4));
      expect(sub.delivered).to.have.length(WINDOW.messages + 4);
      expect(fx.hub.stats().c).to.deep.equal({ held: WINDOW.messages + 6, delivered: WINDOW.messages, subscribed: true });
      // Forget everything in one done: cheap, unlike releasing 100,000 waiting puts one by one.
      fx.hub.done(sub, sub.ids());
      fx.hub.done(sub, sub.ids());
      expect(fx.hub.length('c')).to.equal(0);
    });
  });
});
