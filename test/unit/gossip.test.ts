/**
 * The gossip state machine (core/gossip.ts), stepped by hand: no sockets, no
 * timers, a clock that is just a number.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { Chunk, GossipState } from '../../lib/core/gossip';

const FLUSH = 1500;
const machine = (digestLength: number) => new GossipState({ digestLength, flushAfterMs: FLUSH, retryMs: 500, trimAfterMs: 100 });
const chunk = (id: number, ...messages: string[]): Chunk => ({ id: String(id), messages });

/** Start the due send and report it done: what went on the channel. */
function sendAll(g: GossipState, now: number): string[] {
  const out: string[] = [];
  for (let send = g.nextSend(now); send !== null; send = g.nextSend(now)) {
    out.push(...send.tuples);
    g.sendSucceeded(send.seq, now);
  }
  return out;
}

describe('core/GossipState', () => {
  it('rejects a digest-length that is not a positive integer', () => {
    for (const bad of [0, -1, 1.5, NaN]) expect(() => machine(bad)).to.throw(RangeError);
  });

  describe('the digest, step by step', () => {
    it('is due exactly when digest-length tuples wait, and sends them in order', () => {
      const g = machine(3);
      g.append(['a'], 0);
      g.append(['b'], 0);
      expect(g.nextSend(0), 'two of three: nothing due').to.equal(null);
      g.append(['c'], 0);
      expect(sendAll(g, 0)).to.deep.equal(['a', 'b', 'c']);
      expect(g.pending).to.equal(0);
    });

    it('appends a batch one tuple at a time: the last partial remainder waits', () => {
      const g = machine(2);
      g.append(['own'], 0);
      g.append(['f1', 'f2', 'f3', 'f4'], 0);
      expect(sendAll(g, 0), 'own+f1 fill, f2+f3 fill; f4 waits').to.deep.equal(['own', 'f1', 'f2', 'f3']);
      expect(g.pending).to.equal(1);
    });

    it('append returns the position the sends must reach for what it made due; sentThrough reaches it after the send', () => {
      const g = machine(2);
      expect(g.append(['a'], 0), 'nothing due').to.equal(0);
      const through = g.append(['b'], 0);
      expect(through).to.equal(2);
      expect(g.sentThrough()).to.equal(0);
      sendAll(g, 0);
      expect(g.sentThrough()).to.equal(2);
      expect(g.append(['c', 'd', 'e'], 0)).to.equal(4);
    });

    it('one send at a time: tuples made due meanwhile go together in the next', () => {
      const g = machine(1);
      g.append(['a'], 0);
      const first = g.nextSend(0)!;
      g.append(['b'], 0);
      g.append(['c'], 0);
      expect(g.nextSend(0), 'one in flight').to.equal(null);
      g.sendSucceeded(first.seq, 0);
      expect(g.nextSend(0)!.tuples).to.deep.equal(['b', 'c']);
    });

    it('a failed send keeps its tuples first and tries again after retryMs, with what was added since', () => {
      const g = machine(1);
      g.append(['a'], 0);
      const send = g.nextSend(0)!;
      g.append(['b'], 10);
      g.sendFailed(send.seq, 10);
      expect(g.nextSend(100), 'before retryMs').to.equal(null);
      expect(g.nextDeadline()).to.equal(510);
      expect(g.nextSend(510)!.tuples).to.deep.equal(['a', 'b']);
    });

    it('a start-up digest of digest-length or more is due at once; a shorter one waits for the timer', () => {
      const full = machine(2);
      full.restore(['a', 'b', 'c'], 0);
      expect(sendAll(full, 0)).to.deep.equal(['a', 'b', 'c']);
      const partial = machine(2);
      partial.restore(['a'], 0);
      expect(partial.nextSend(0)).to.equal(null);
      expect(partial.nextDeadline()).to.equal(FLUSH);
    });

    it('what was sent is trimmed from the stored digest once, by the next commit or after trimAfterMs', () => {
      const g = machine(2);
      g.append(['a', 'b'], 0);
      sendAll(g, 5);
      expect(g.nextDeadline()).to.equal(105);
      expect(g.tick(104).trim).to.equal(false);
      expect(g.tick(105).trim).to.equal(true);
      expect(g.takeTrim()).to.equal(2);
      expect(g.takeTrim(), 'only once').to.equal(0);
      g.returnTrim(2, 200);
      expect(g.takeTrim(), 'a failed commit owes it again').to.equal(2);
    });

    it('a send that answers after reset() changes nothing, and whoever waited for reset tuples is released', () => {
      const g = machine(1);
      g.append(['a'], 0);
      const send = g.nextSend(0)!;
      const through = g.dueThrough();
      g.reset();
      expect(g.sentThrough()).to.be.at.least(through);
      g.sendSucceeded(send.seq, 1);
      expect(g.pending).to.equal(0);
      expect(g.takeTrim(), 'nothing to trim from a wiped digest').to.equal(0);
    });
  });

  describe('timers move only what has waited flushAfterMs', () => {
    it('a partial digest is due once its oldest tuple has waited flushAfterMs, not before', () => {
      const g = machine(2);
      g.append(['a'], 100);
      expect(g.nextDeadline()).to.equal(100 + FLUSH);
      g.tick(100 + FLUSH - 1);
      expect(g.nextSend(100 + FLUSH - 1)).to.equal(null);
      g.tick(100 + FLUSH);
      expect(sendAll(g, 100 + FLUSH)).to.deep.equal(['a']);
      expect(g.nextDeadline(), 'nothing left but the trim').to.equal(100 + FLUSH + 100);
    });

    it('the partial digest ages from its own oldest tuple, not from tuples already due', () => {
      const g = machine(2);
      g.append(['a', 'b'], 0); // due at once
      g.append(['c'], 1000);
      expect(g.nextDeadline(), 'the due send is possible now').to.equal(-Infinity);
      sendAll(g, 1000);
      expect(g.nextDeadline()).to.equal(1100); // the trim
      g.takeTrim();
      expect(g.nextDeadline()).to.equal(1000 + FLUSH);
    });

    it('an inbox unread for flushAfterMs is for the timer to apply; flushAll then makes the whole digest due', () => {
      const g = machine(3);
      g.append(['own'], 0);
      g.receive(chunk(1, 'm1'), 200);
      expect(g.tick(200 + FLUSH - 1).applyInbox).to.equal(false);
      expect(g.tick(200 + FLUSH).applyInbox).to.equal(true);
      const taken = g.takeInbox();
      g.append(taken.flatMap((c) => c.messages), 200 + FLUSH);
      g.applied(taken);
      g.flushAll();
      expect(sendAll(g, 200 + FLUSH)).to.deep.equal(['own', 'm1']);
    });

    it('with nothing waiting there is no deadline', () => {
      expect(machine(2).nextDeadline()).to.equal(null);
    });

    it('a client whose requests are less than flushAfterMs apart never sees the timer act (property)', () => {
      fc.assert(
        fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: FLUSH - 1 }), fc.boolean()), { maxLength: 40 }), (steps) => {
          // Each request appends (a write) or takes the inbox (a read), then the timer ticks at the next request's time.
          const g = machine(2);
          let now = 0;
          let id = 0;
          for (const [gap, write] of steps) {
            g.receive(chunk(++id, `m${id}`), now);
            const taken = g.takeInbox();
            if (write) g.append([`w${id}`], now);
            g.append(taken.flatMap((c) => c.messages), now);
            g.applied(taken);
            sendAll(g, now);
            g.takeTrim();
            now += gap;
            const due = g.tick(now);
            if (due.applyInbox || g.nextSend(now) !== null) return false;
          }
          return true;
        }),
      );
    });
  });

  describe('the inbox', () => {
    it('takes every chunk received so far, in order, once', () => {
      const g = machine(2);
      g.receive(chunk(1, 'a'), 0);
      g.receive(chunk(2, 'b', 'c'), 0);
      expect(g.inboxSize).to.equal(2);
      expect(g.takeInbox().map((c) => c.id)).to.deep.equal(['1', '2']);
      expect(g.takeInbox()).to.deep.equal([]);
    });

    it('a chunk delivered again (a reconnect) is ignored while held, and taken again once applied and forgotten', () => {
      const g = machine(2);
      g.receive(chunk(1, 'a'), 0);
      const taken = g.takeInbox();
      g.receive(chunk(1, 'a'), 1);
      expect(g.inboxSize, 'still being applied').to.equal(0);
      g.applied(taken);
      g.receive(chunk(1, 'a'), 2);
      expect(g.inboxSize).to.equal(1);
    });

    it('chunks whose commit failed go back in front, and the timer retries them after retryMs, not at once', () => {
      const g = machine(2);
      g.receive(chunk(1, 'a'), 0);
      const taken = g.takeInbox();
      g.receive(chunk(2, 'b'), 10);
      g.unapplied(taken, 20);
      expect(g.takeInbox().map((c) => c.id)).to.deep.equal(['1', '2']);
      g.unapplied([chunk(1, 'a')], 20);
      expect(g.nextDeadline()).to.equal(520);
    });

    it('clearInbox drops what is held (the queue was cleared)', () => {
      const g = machine(2);
      g.receive(chunk(1, 'a'), 0);
      g.clearInbox();
      expect(g.inboxSize).to.equal(0);
      g.receive(chunk(1, 'a'), 1);
      expect(g.inboxSize, 'the same id may come again').to.equal(1);
    });
  });
});
