/**
 * The contract's own API on the hub (lib/queue/hub.ts): take (GET /q/<channel>),
 * clear (DELETE /clear), a long backlog of puts nobody consumes, and stats.
 */
import { expect } from 'chai';
import { WINDOW } from '../../lib/queue/hub';
import { isSettled, m, ms, sleep, useHub } from './support/hub';

describe('queue/hub', () => {
  const fx = useHub();
  const { subscriber } = fx;

  describe("take (the contract's GET /q/<channel>)", () => {
    it('returns the oldest message, splitting a chunk, then null when empty', async () => {
      await fx.hub.put('c', ms(1, 2, 3));
      await fx.hub.put('c', ms(4));
      const taken: (string | null)[] = [];
      for (let k = 0; k < 5; k++) taken.push(await fx.hub.take('c'));
      expect(taken).to.deep.equal([...ms(1, 2, 3, 4), null]);
      expect(await fx.hub.take('never-used')).to.equal(null);
    });

    it('never returns a message a subscriber holds: only the undelivered ones', async () => {
      const sub = subscriber();
      fx.hub.subscribe('c', sub);
      void fx.hub.put('c', ms(1));
      expect(await fx.hub.take('c'), 'everything is delivered').to.equal(null);
      const big = Array.from({ length: WINDOW.messages }, () => m(2));
      void fx.hub.put('c', big); // past the window: stays here
      expect(await fx.hub.take('c')).to.equal(m(2));
      expect(fx.hub.stats().c).to.deep.equal({ held: WINDOW.messages, delivered: 1, subscribed: true });
    });

    it('keeps the journal in step: a split chunk is replaced, an emptied one removed', async () => {
      await fx.hub.put('c', ms(1, 2));
      const [[id]] = fx.journal.contents('c');
      expect(await fx.hub.take('c')).to.equal(m(1));
      expect(fx.journal.contents('c')).to.deep.equal([[id, ms(2)]]);
      expect(await fx.hub.take('c')).to.equal(m(2));
      expect(fx.journal.contents('c')).to.deep.equal([]);
      expect(fx.journal.callsOf('replace')).to.have.length(1);
      expect(fx.journal.callsOf('remove')).to.have.length(1);
    });

    it("answers a put whose chunk is taken before the journal has it", async () => {
      fx.journal.held.set('add', new Promise(() => undefined)); // the journal never answers
      const put = fx.hub.put('c', ms(1));
      await sleep(10);
      expect(await isSettled(put)).to.equal(false);
      expect(await fx.hub.take('c')).to.equal(m(1));
      expect(await isSettled(put)).to.equal(true);
    });

    it('returns the message even when the journal cannot forget it, and logs', async () => {
      await fx.hub.put('c', ms(1));
      fx.journal.failing.add('remove');
      // The message is already gone from the hub's memory: rejecting here loses it for this caller (GET answers 500).
      const taken = await fx.hub.take('c').catch((e: Error) => e);
      expect(taken).to.equal(m(1));
      expect(fx.logged.join('\n')).to.match(/journal/);
    });
  });

  describe("clear (the contract's DELETE /clear)", () => {
    it('counts what each channel held, empties them all and the journal, answers waiting puts', async () => {
      const sub = subscriber();
      fx.hub.subscribe('a', sub);
      const waiting = fx.hub.put('a', ms(1, 2));
      await fx.hub.put('b', ms(3));
      await fx.hub.put('empty', ms(4));
      await fx.hub.take('empty');
      expect(await isSettled(waiting)).to.equal(false);
      const counts = await fx.hub.clear();
      expect({ ...counts }).to.deep.equal({ a: 2, b: 1 });
      expect(await isSettled(waiting), 'the waiting put is answered').to.equal(true);
      expect(fx.hub.length('a') + fx.hub.length('b')).to.equal(0);
      expect(await fx.hub.take('b')).to.equal(null);
      expect(fx.journal.callsOf('clear')).to.have.length(1);
      expect(fx.journal.kept.size).to.equal(0);
    });

    it('tells each subscriber, then closes its link, so nothing it sends later lands after the clear', async () => {
      const sub = subscriber();
      fx.hub.subscribe('c', sub);
      void fx.hub.put('c', ms(1));
      await fx.hub.clear();
      expect(sub.clearedCount).to.equal(1);
      expect(sub.closed).to.have.length(1);
      expect(fx.hub.stats(), 'nobody subscribed any more').to.deep.equal({});
      void fx.hub.put('c', ms(2));
      fx.hub.got(sub, sub.ids());
      fx.hub.done(sub, sub.ids());
      expect(sub.messages(), 'nothing more for the closed subscriber').to.deep.equal(ms(1));
      expect(fx.hub.stats().c).to.deep.equal({ held: 1, delivered: 0, subscribed: false });
      const next = subscriber();
      fx.hub.subscribe('c', next);
      expect(next.messages()).to.deep.equal(ms(2));
    });
  });

  describe('a long backlog', () => {
    // A DB down for a few minutes leaves tens of thousands of chunks in its channel (WINDOW allows 100,000).
    // (How long this takes is the benchmark's business, not a unit test's: the counts are kept, not recounted.)
    const BACKLOG = 25_000;

    it(`answers ${BACKLOG} puts to a channel nobody consumes, each with the count it made`, async () => {
      const puts: Promise<number>[] = [];
      for (let k = 0; k < BACKLOG; k++) puts.push(fx.hub.put('c', ['{}', '{}']));
      const lengths = await Promise.all(puts);
      expect(lengths.at(-1)).to.equal(2 * BACKLOG);
      expect(lengths.every((n) => n >= 2 && n <= 2 * BACKLOG && n % 2 === 0)).to.equal(true);
      expect(fx.hub.length('c')).to.equal(2 * BACKLOG);
    });

    it(`clears ${BACKLOG} held chunks: every waiting put is answered and the count is exact`, async () => {
      const sub = subscriber();
      fx.hub.subscribe('c', sub);
      const puts: Promise<number>[] = [];
      for (let k = 0; k < BACKLOG; k++) puts.push(fx.hub.put('c', ['{}']));
      expect(await fx.hub.clear()).to.deep.equal({ c: BACKLOG });
      await Promise.all(puts);
      expect(fx.hub.length('c')).to.equal(0);
    });
  });

  it('stats: per channel held, delivered (messages) and subscribed; channels with nothing and nobody left out', async () => {
    const sub = subscriber();
    fx.hub.subscribe('watched', sub);
    fx.hub.subscribe('idle', subscriber());
    void fx.hub.put('watched', ms(1, 2));
    await fx.hub.put('unwatched', ms(3));
    await fx.hub.put('drained', ms(4));
    await fx.hub.take('drained');
    expect(fx.hub.stats()).to.deep.equal({
      watched: { held: 2, delivered: 2, subscribed: true },
      idle: { held: 0, delivered: 0, subscribed: true },
      unwatched: { held: 1, delivered: 0, subscribed: false },
    });
    expect(fx.hub.length('watched')).to.equal(2);
    expect(fx.hub.length('nowhere')).to.equal(0);
  });
});
