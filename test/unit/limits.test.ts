/**
 * The limits of issue 16 at their edges (exactly at, one over), that
 * weighing a state measures exactly what is stored, and that the limits of
 * each layer fit the next.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { Clock, makeClock } from '../../lib/core/clock';
import { GossipState } from '../../lib/core/gossip';
import { LIMITS, MAX_REPLICAS } from '../../lib/core/limits';
import { isDbName } from '../../lib/core/ring';
import { EMPTY, TeaState, Version, deleteAll, mergeState, mergeVersion } from '../../lib/core/versions';
import { LimitError, checkWrite, overLimit, weigh } from '../../lib/core/weight';
import { parseState, storedFormOf } from '../../lib/core/wire';
import { carriesSecret } from '../../lib/http/secret';
import { FRAME_LIMITS } from '../../lib/queue/frames';
import { WINDOW } from '../../lib/queue/hub';
import { BACKOFF, nextWait } from '../../tools/cluster/supervisor';
import { jsonClockArb, stateArb } from './helpers';

const clockOf = (prefix: string, n: number, counter = 1): Clock => makeClock(Array.from({ length: n }, (_, k) => [`${prefix}${k}`, counter] as const));
const stateOf = (versions: Version[], tombstone: Clock | null = null): TeaState => ({ versions, tombstone });
/** The characters storedFormOf writes for a state. */
const storedChars = (s: TeaState) => {
  const f = storedFormOf(s);
  return f.choices.length + f.clocks.length + f.tombstone.length;
};
/** `n` pairwise concurrent versions: each client's own counter. */
const siblings = (n: number, prefix = 's'): Version[] => Array.from({ length: n }, (_, k) => ({ choice: 1, clock: makeClock([[`${prefix}${k}`, 1]]) }));

describe('core/limits and core/weight (issue 16)', () => {
  describe('weigh', () => {
    it('counts exactly the characters storedFormOf stores, for any state (property)', () => {
      fc.assert(fc.property(stateArb(), (s) => {
        expect(weigh(s).chars).to.equal(storedChars(s));
      }), { numRuns: 500 });
    });

    it('counts ids that JSON escapes (quotes, backslashes, controls, lone surrogates) as escaped', () => {
      for (const id of ['a"b', 'back\\slash', 'tab\there', '\u0001', 'lone\ud800', 'pair\ud83c\udf75', '茶', '__proto__']) {
        const s = stateOf([{ choice: -0.5, clock: makeClock([[id, 12]]) }], makeClock([[id, 3], ['x', 0]]));
        expect(weigh(s).chars, JSON.stringify(id)).to.equal(storedChars(s));
      }
      fc.assert(fc.property(fc.array(fc.record({ choice: fc.double({ noNaN: true, noDefaultInfinity: true }), clock: jsonClockArb() }), { maxLength: 4 }), (versions) => {
        const s = stateOf(versions);
        expect(weigh(s).chars).to.equal(storedChars(s));
      }));
    });

    it('counts versions, and clock entries of versions and tombstone together', () => {
      expect(weigh(EMPTY)).to.deep.equal({ versions: 0, clockEntries: 0, chars: 0 });
      expect(weigh(stateOf(siblings(3), clockOf('t', 5)))).to.include({ versions: 3, clockEntries: 8 });
    });
  });

  describe('checkWrite: what a client write may leave a tea holding', () => {
    const limit = LIMITS.tea;
    const write = (state: TeaState, version: Version) => checkWrite(state, mergeVersion(state, version), limit);

    it(`${limit.versions} versions is fine, one more is refused, naming the limit`, () => {
      const full = stateOf(siblings(limit.versions - 1));
      expect(write(full, { choice: 1, clock: makeClock([['new', 1]]) })).to.equal(null);
      const at = mergeVersion(full, { choice: 1, clock: makeClock([['new', 1]]) });
      expect(write(at, { choice: 1, clock: makeClock([['newer', 1]]) })).to.match(/65 versions.*at most 64/);
    });

    it(`${limit.clockEntries} clock entries in all is fine, one more is refused; the tombstone's count`, () => {
      const half = stateOf([{ choice: 1, clock: clockOf('a', 512) }], clockOf('t', 256));
      expect(write(half, { choice: 2, clock: clockOf('b', 256) })).to.equal(null);
      expect(write(half, { choice: 2, clock: clockOf('b', 257) })).to.match(/1025 clock entries.*at most 1024/);
    });

    it(`${limit.chars} characters of stored JSON is fine, one more is refused`, () => {
      const base = stateOf([{ choice: 1, clock: makeClock([['x', 1]]) }]);
      // One version beside it whose id is padded so the total is exactly at the limit.
      const rest = limit.chars - weigh(stateOf([...base.versions, { choice: 2, clock: makeClock([['', 1]]) }])).chars;
      const exact = { choice: 2, clock: makeClock([['y'.repeat(rest), 1]]) };
      expect(weigh(mergeVersion(base, exact)).chars).to.equal(limit.chars);
      expect(write(base, exact)).to.equal(null);
      expect(write(base, { choice: 2, clock: makeClock([['y'.repeat(rest + 1), 1]]) })).to.match(/characters.*at most 65536/);
    });

    it('a write that shrinks a tea gossip merged beyond the limits is taken; one that grows it is not', () => {
      const over = stateOf(siblings(limit.versions + 10));
      const merged = makeClock(over.versions.flatMap((v) => Object.entries(v.clock)));
      expect(write(over, { choice: 5, clock: makeClock([...Object.entries(merged), ['me', 1]]) })).to.equal(null);
      expect(write(over, { choice: 5, clock: makeClock([['stranger', 1]]) })).to.match(/versions/);
    });

    it('a stale write changes nothing and is never refused', () => {
      const over = stateOf(siblings(limit.versions + 1));
      expect(write(over, { choice: 1, clock: makeClock([['s0', 1]]) })).to.equal(null);
    });

    it('a delete never makes a tea bigger, so its tombstone fits wherever its versions did (property)', () => {
      fc.assert(
        fc.property(stateArb(), (s) => {
          const [before, after] = [weigh(s), weigh(deleteAll(s))];
          expect(after.clockEntries).to.be.at.most(before.clockEntries);
          expect(after.chars).to.be.at.most(before.chars);
        }),
        { numRuns: 500 },
      );
      const big = stateOf([{ choice: 1, clock: clockOf('l', 512) }, { choice: 2, clock: clockOf('r', 512) }]);
      expect(weigh(deleteAll(big)).clockEntries).to.equal(LIMITS.clockEntries);
      expect(overLimit(weigh(deleteAll(big)), LIMITS.tea)).to.equal(null);
    });

    it('LimitError is a 409', () => {
      expect(new LimitError('x').status).to.equal(409);
    });
  });

  describe('parseState: what every reader (storage, gossip, anti-entropy) accepts', () => {
    const replica = LIMITS.replicaTea;
    const asJson = (s: TeaState) => JSON.parse(JSON.stringify({ choices: s.versions.map((v) => v.choice), clocks: s.versions.map((v) => v.clock), tombstone: s.tombstone }));
    const parse = (s: TeaState) => {
      const j = asJson(s);
      return parseState(j.choices, j.clocks, j.tombstone);
    };

    it(`${replica.versions} versions is read, one more is not`, () => {
      expect(parse(stateOf(siblings(replica.versions))).ok).to.equal(true);
      const over = parse(stateOf(siblings(replica.versions + 1)));
      expect(over.ok === false && over.error).to.match(/at most 1024 versions/);
    });

    it(`a tombstone of ${replica.clockEntries} entries is read, one more is not; a version's clock is a client's (${LIMITS.clockEntries})`, () => {
      expect(parse(stateOf([], clockOf('t', replica.clockEntries))).ok).to.equal(true);
      expect(parse(stateOf([], clockOf('t', replica.clockEntries + 1))).ok).to.equal(false);
      expect(parse(stateOf([{ choice: 1, clock: clockOf('c', LIMITS.clockEntries) }])).ok).to.equal(true);
      expect(parse(stateOf([{ choice: 1, clock: clockOf('c', LIMITS.clockEntries + 1) }])).ok).to.equal(false);
    });

    it(`clock entries in all: ${replica.clockEntries} is read, one more is not`, () => {
      const versions = Array.from({ length: 15 }, (_, k) => ({ choice: 1, clock: clockOf(`v${k}-`, 1024) }));
      expect(parse(stateOf(versions, clockOf('t', 1024))).ok).to.equal(true);
      const over = parse(stateOf(versions, clockOf('t', 1025)));
      expect(over.ok === false && over.error).to.match(/16385 clock entries/);
    });

    it('merges of what MAX_REPLICAS DBs each accepted within the write limits are always readable', () => {
      // Each DB took writes up to the limit from clients of its own; gossip merges them all.
      let merged: TeaState = EMPTY;
      for (let db = 0; db < MAX_REPLICAS; db++) {
        let local: TeaState = EMPTY;
        for (let k = 0; k < LIMITS.tea.versions; k++) {
          const next = mergeVersion(local, { choice: k, clock: makeClock([[`db${db}-c${k}`, 1], ...Object.entries(clockOf(`db${db}-pad${k}-`, 15))]) });
          if (checkWrite(local, next, LIMITS.tea) === null) local = next;
        }
        merged = mergeState(merged, local);
      }
      expect(overLimit(weigh(merged), LIMITS.replicaTea)).to.equal(null);
      expect(parse(merged).ok).to.equal(true);
      expect(parse(deleteAll(merged)).ok).to.equal(true);
    });
  });

  describe('the limits of each layer fit the next', () => {
    it('replica limits are MAX_REPLICAS times the write limits', () => {
      for (const k of ['versions', 'clockEntries', 'chars'] as const) expect(LIMITS.replicaTea[k]).to.equal(LIMITS.tea[k] * MAX_REPLICAS);
    });

    it('a tuple fits a chunk, a chunk fits a link line, a frame and the queue window, a batch body holds a chunk', () => {
      expect(LIMITS.tupleChars).to.be.above(LIMITS.replicaTea.chars).and.at.most(LIMITS.chunk.chars);
      expect(LIMITS.chunk.chars).to.be.at.most(FRAME_LIMITS.lineChars);
      expect(LIMITS.chunk.messages).to.be.at.most(FRAME_LIMITS.messagesPerFrame);
      expect(LIMITS.chunk.chars).to.be.at.most(WINDOW.bytes);
      expect(LIMITS.chunk.messages).to.be.at.most(WINDOW.messages);
      expect(LIMITS.bulkBytes).to.be.at.least(LIMITS.chunk.chars);
      expect(LIMITS.tea.chars).to.be.at.least(LIMITS.bodyBytes);
    });
  });

  describe('gossip budgets (core/gossip)', () => {
    const budget = { messages: 3, chars: 10 };

    it('a send carries at most the budget, oldest first, and always one tuple however large', () => {
      const g = new GossipState({ digestLength: 1, flushAfterMs: 1000, sendBudget: budget });
      g.append(['aaaa', 'bbbb', 'cc', 'd', 'e', 'f'], 0);
      const first = g.nextSend(0)!;
      expect(first.tuples).to.deep.equal(['aaaa', 'bbbb', 'cc']);
      g.sendSucceeded(first.seq, 0);
      expect(g.nextSend(0)!.tuples).to.deep.equal(['d', 'e', 'f']);
      const big = new GossipState({ digestLength: 1, flushAfterMs: 1000, sendBudget: budget });
      big.append(['x'.repeat(50), 'y'], 0);
      expect(big.nextSend(0)!.tuples).to.deep.equal(['x'.repeat(50)]);
    });

    it('a commit takes at most the budget of the inbox; mergedThrough says what every request before now may count on', () => {
      const g = new GossipState({ digestLength: 1, flushAfterMs: 1000 });
      for (let k = 1; k <= 4; k++) g.receive({ id: String(k), messages: ['ab', 'cd'] }, 0);
      const mark = g.received;
      const first = g.takeInbox(budget);
      expect(first.map((c) => c.id)).to.deep.equal(['1']);
      expect(g.mergedThrough()).to.equal(0);
      g.applied(first);
      expect(g.mergedThrough()).to.equal(1);
      const rest = g.takeInbox({ messages: 100, chars: 100 });
      g.unapplied(rest, 0);
      expect(g.mergedThrough()).to.equal(1);
      g.applied(g.takeInbox());
      expect(g.mergedThrough()).to.equal(mark);
    });
  });

  describe('names, secrets, restarts', () => {
    it('isDbName: db0..db<ndb-1>, nothing else', () => {
      expect(['db0', 'db3'].every((n) => isDbName(n, 4))).to.equal(true);
      expect(['db4', 'db01', 'db-1', 'DB0', 'db', 'nobody', 'db0 ', 'db1e0'].some((n) => isDbName(n, 4))).to.equal(false);
    });

    it('carriesSecret: only the Bearer of the exact secret; anyone when there is none', () => {
      const secret = 'a'.repeat(48);
      expect(carriesSecret(`Bearer ${secret}`, secret)).to.equal(true);
      for (const h of [undefined, '', secret, `Bearer ${secret}x`, `Bearer ${secret.slice(1)}`, `Basic ${secret}`]) expect(carriesSecret(h, secret), String(h)).to.equal(false);
      expect(carriesSecret(undefined, null)).to.equal(true);
    });

    it("the supervisor's wait doubles while a process keeps dying young, up to its cap, and starts over once it lived", () => {
      let wait: number | null = null;
      const waits: number[] = [];
      for (let k = 0; k < 10; k++) waits.push((wait = nextWait(wait, 100)));
      expect(waits.slice(0, 4)).to.deep.equal([500, 1000, 2000, 4000]);
      expect(waits.at(-1)).to.equal(BACKOFF.maxMs);
      expect(nextWait(BACKOFF.maxMs, BACKOFF.healthyAfterMs)).to.equal(BACKOFF.firstMs);
    });
  });
});
