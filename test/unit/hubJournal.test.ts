/**
 * What the hub (lib/queue/hub.ts) keeps in its journal: sweeping chunks held
 * unapplied, a failing journal, and start-up from the journal (load).
 */
import { expect } from 'chai';
import { JOURNAL_AFTER_MS } from '../../lib/queue/hub';
import { settle } from './helpers';
import { m, ms, useHub } from './support/hub';

describe('queue/hub', () => {
  const fx = useHub();
  const { subscriber } = fx;

  describe('sweep', () => {
    it('journals a chunk held unapplied for JOURNAL_AFTER_MS, not sooner, and only once', async () => {
      const sub = subscriber('got');
      fx.hub.subscribe('c', sub);
      void fx.hub.put('c', ms(1));
      fx.clock += JOURNAL_AFTER_MS - 1;
      await fx.hub.sweep();
      expect(fx.journal.calls).to.deep.equal([]);
      fx.clock += 1;
      await fx.hub.sweep();
      expect(fx.journal.callsOf('addMany').map((c) => c.ids)).to.deep.equal([[Number(sub.ids()[0])]]);
      expect(fx.journal.contents('c')).to.deep.equal([[Number(sub.ids()[0]), ms(1)]]);
      fx.clock += JOURNAL_AFTER_MS;
      await fx.hub.sweep();
      expect(fx.journal.calls).to.have.length(1);
    });

    it('counts from the delivery: a chunk redelivered to a new subscriber starts again', async () => {
      const a = subscriber('got');
      fx.hub.subscribe('c', a);
      void fx.hub.put('c', ms(1));
      fx.clock += JOURNAL_AFTER_MS - 10;
      fx.hub.subscribe('c', subscriber('got'));
      fx.clock += 20;
      await fx.hub.sweep();
      expect(fx.journal.calls).to.deep.equal([]);
    });

    it('sweep(0) journals everything not yet journaled, per channel in one call', async () => {
      const sub = subscriber('got');
      fx.hub.subscribe('a', sub);
      void fx.hub.put('a', ms(1));
      void fx.hub.put('a', ms(2));
      await fx.hub.put('b', ms(3)); // no subscriber: journaled on put already
      await fx.hub.sweep(0);
      expect(fx.journal.callsOf('addMany').map((c) => [c.channel, c.ids.length])).to.deep.equal([['a', 2]]);
      expect(fx.journal.contents('a').map(([, msgs]) => msgs)).to.deep.equal([ms(1), ms(2)]);
      expect(fx.journal.contents('b').map(([, msgs]) => msgs)).to.deep.equal([ms(3)]);
    });
  });

  describe('a failing journal is logged and crashes nothing', () => {
    beforeEach(() => {
      for (const method of ['add', 'addMany', 'remove', 'replace'] as const) fx.journal.failing.add(method);
    });

    it('a put with no subscriber still resolves, the chunk stays in memory and a later sweep tries again', async () => {
      expect(await fx.hub.put('c', ms(1))).to.equal(1);
      expect(fx.logged.some((l) => /in memory only/.test(l)), fx.logged.join('\n')).to.equal(true);
      fx.journal.failing.clear();
      await fx.hub.sweep(0);
      expect(fx.journal.contents('c').map(([, msgs]) => msgs)).to.deep.equal([ms(1)]);
      expect(await fx.hub.take('c')).to.equal(m(1));
    });

    it('a failing sweep logs, and leaves the chunks to the next sweep', async () => {
      const sub = subscriber('got');
      fx.hub.subscribe('c', sub);
      void fx.hub.put('c', ms(1));
      await fx.hub.sweep(0);
      expect(fx.logged.some((l) => /cannot keep 1 chunks of c/.test(l)), fx.logged.join('\n')).to.equal(true);
      fx.journal.failing.clear();
      await fx.hub.sweep(0);
      expect(fx.journal.contents('c')).to.have.length(1);
    });

    it('a failing remove on done logs, and the chunk is forgotten in memory all the same', async () => {
      await fx.hub.put('c', ms(1)); // add fails: keep a journaled chunk by letting the sweep succeed first
      fx.journal.failing.delete('addMany');
      await fx.hub.sweep(0);
      const sub = subscriber();
      fx.hub.subscribe('c', sub);
      fx.hub.done(sub, sub.ids());
      await settle();
      expect(fx.hub.length('c')).to.equal(0);
      expect(fx.logged.some((l) => /cannot forget 1 chunks of c/.test(l)), fx.logged.join('\n')).to.equal(true);
    });

    it('a failing clear empties memory and tells subscribers all the same', async () => {
      fx.journal.failing.add('clear');
      const sub = subscriber();
      fx.hub.subscribe('c', sub);
      void fx.hub.put('c', ms(1));
      await fx.hub.clear().catch(() => undefined);
      expect(fx.hub.length('c')).to.equal(0);
      expect(sub.clearedCount).to.equal(1);
      expect(sub.closed).to.have.length(1);
    });
  });

  describe('load (start-up from the journal)', () => {
    it('restores the journaled chunks in order, counts their messages, and ids of new chunks come after', async () => {
      const far = fx.clock * 1000 + 5_000_000; // ids from a queue whose clock ran ahead of this one's
      fx.journal.kept.set('c', [
        { id: far, messages: ms(1) },
        { id: far + 1, messages: ms(2, 3) },
      ]);
      fx.journal.kept.set('d', [{ id: far + 2, messages: ms(4) }]);
      expect(await fx.hub.load()).to.equal(4);
      expect(fx.hub.stats()).to.deep.equal({ c: { held: 3, delivered: 0, subscribed: false }, d: { held: 1, delivered: 0, subscribed: false } });
      const sub = subscriber();
      fx.hub.subscribe('c', sub);
      void fx.hub.put('c', ms(5));
      expect(sub.ids().map(Number)).to.deep.equal([far, far + 1, far + 3]);
      expect(sub.messages()).to.deep.equal(ms(1, 2, 3, 5));
    });

    it('loaded chunks count as journaled: done removes them from the journal, a sweep does not add them again', async () => {
      fx.journal.kept.set('c', [{ id: 7, messages: ms(1) }]);
      await fx.hub.load();
      await fx.hub.sweep(0);
      expect(fx.journal.callsOf('addMany')).to.deep.equal([]);
      const sub = subscriber();
      fx.hub.subscribe('c', sub);
      fx.hub.done(sub, ['7']);
      await settle();
      expect(fx.journal.contents('c')).to.deep.equal([]);
    });
  });
});
