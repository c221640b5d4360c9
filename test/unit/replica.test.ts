/**
 * The gossip algorithm of SPEC.md, on rings of in-memory replicas sharing one
 * in-memory queue. Every step is awaited, so each test is deterministic.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { Clock, canonicalKey } from '../../lib/core/clock';
import { EMPTY, TeaState, Version, holds, mergeState, mergeTombstone, mergeVersion, rating } from '../../lib/core/versions';
import { GossipTuple } from '../../lib/core/wire';
import { Replica } from '../../lib/db/replica';
import { MemoryTeaStore, SkippedTea, TeaChange } from '../../lib/db/store';
import { silentLogger } from '../../lib/log';
import { Leased, LocalQueue } from '../../lib/queue/transport';
import { canonical, clockArb, fromJson, smallChoiceArb } from './helpers';

const v = (choice: number, clock: string): Version => ({ choice, clock: fromJson(clock) });
const choices = (s: TeaState) => s.versions.map((x) => x.choice);

/** A queue whose put or lease can be made to fail, and that counts calls. */
class FlakyQueue extends LocalQueue {
  failPuts = false;
  failLeases = false;
  failAcks = false;
  calls = 0;

  override async put(channel: string, messages: string[]): Promise<void> {
    this.calls++;
    if (this.failPuts) throw new Error('queue down (put)');
    await super.put(channel, messages);
  }

  override async lease(channel: string, max: number, leaseMs: number): Promise<Leased[]> {
    this.calls++;
    if (this.failLeases) throw new Error('queue down (lease)');
    return super.lease(channel, max, leaseMs);
  }

  override async ack(channel: string, ids: string[]): Promise<void> {
    this.calls++;
    if (this.failAcks) throw new Error('queue down (ack)');
    await super.ack(channel, ids);
  }
}

interface TestRing {
  queue: FlakyQueue;
  stores: MemoryTeaStore[];
  replicas: Replica[];
}

function makeRing(ndb: number, digestLength: number): TestRing {
  const queue = new FlakyQueue();
  const stores = Array.from({ length: ndb }, () => new MemoryTeaStore());
  const replicas = stores.map((store, id) => new Replica({ id, ndb, digestLength, store, queue, log: silentLogger }));
  return { queue, stores, replicas };
}

/** Remove and return the text of every message waiting on a channel, oldest first. */
async function takeAllTexts(queue: LocalQueue, channel: string): Promise<string[]> {
  const out: string[] = [];
  for (let m = await queue.store.take(channel); m !== null; m = await queue.store.take(channel)) out.push(m);
  return out;
}

/** Remove and return every message waiting on a channel, oldest first, parsed. */
async function takeAll(queue: LocalQueue, channel: string): Promise<unknown[]> {
  return (await takeAllTexts(queue, channel)).map((text) => JSON.parse(text) as unknown);
}

/** The messages waiting on a channel, left in place. */
async function peek(queue: LocalQueue, channel: string): Promise<unknown[]> {
  const texts = await takeAllTexts(queue, channel);
  if (texts.length > 0) await queue.store.put(channel, texts);
  return texts.map((text) => JSON.parse(text) as unknown);
}

/** Put messages on a channel as their JSON text, as the queue's API would. */
async function enqueue(queue: LocalQueue, channel: string, messages: unknown[]): Promise<void> {
  await queue.store.put(channel, messages.map((m) => JSON.stringify(m)));
}

/** Assert that no channel holds a message (this empties the queue). */
async function expectQueueEmpty(queue: LocalQueue): Promise<void> {
  const counts = await queue.store.clear();
  for (const [channel, n] of Object.entries(counts)) expect(n, `messages left on ${channel}`).to.equal(0);
}

function tupleMessage(primary: string, key: string, state: TeaState): GossipTuple {
  return JSON.parse(
    JSON.stringify({
      primary,
      key,
      rating: rating(state),
      choices: state.versions.map((x) => x.choice),
      clocks: state.versions.map((x) => x.clock),
      ...(state.tombstone ? { tombstone: state.tombstone } : {}),
    }),
  );
}

const stateOf = (...versions: Version[]) => versions.reduce(mergeVersion, EMPTY);

describe('db/Replica gossip (in memory)', () => {
  it('names its channels: publishes on db<i>, consumes its predecessor db<i-1 mod ndb>', () => {
    const { replicas } = makeRing(4, 1);
    expect(replicas.map((r) => [r.outbox, r.inbox])).to.deep.equal([
      ['db0', 'db3'], ['db1', 'db0'], ['db2', 'db1'], ['db3', 'db2'],
    ]);
    expect(replicas[2].name).to.equal('db2');
  });

  it('the digest is flushed exactly when digest-length tuples wait, in order, with this DB as primary', async () => {
    const { queue, replicas } = makeRing(4, 3);
    const r0 = replicas[0];
    await r0.write('a', v(1, '{"c":1}'));
    expect(r0.pending).to.equal(1);
    expect(await peek(queue, 'db0')).to.deep.equal([]);
    await r0.write('b', v(2, '{"c":1}'));
    expect(r0.pending).to.equal(2);
    expect(await peek(queue, 'db0')).to.deep.equal([]);
    await r0.write('c', v(3, '{"c":1}'));
    expect(r0.pending).to.equal(0);
    const sent = (await takeAll(queue, 'db0')) as GossipTuple[];
    expect(sent.map((t) => [t.primary, t.key, t.rating, t.choices])).to.deep.equal([
      ['db0', 'a', 1, [1]], ['db0', 'b', 2, [2]], ['db0', 'c', 3, [3]],
    ]);
    expect(sent[0].clocks).to.deep.equal([{ c: 1 }]);
    expect(sent[0]).to.not.have.property('tombstone');
    await r0.write('d', v(4, '{"c":1}'));
    expect(r0.pending).to.equal(1);
    expect(await peek(queue, 'db0')).to.deep.equal([]);
  });

  it('a tuple carries the whole merged state of the tea, not just the write', async () => {
    const { queue, replicas } = makeRing(2, 1);
    await replicas[0].write('t', v(1, '{"a":1}'));
    await replicas[0].write('t', v(3, '{"b":1}'));
    const sent = (await takeAll(queue, 'db0')) as GossipTuple[];
    expect(sent.map((t) => t.choices)).to.deep.equal([[1], [1, 3]]);
    expect(sent[1].rating).to.equal(2);
  });

  it('gossip is not quiet while only this DB’s own tuples come back round the ring (so anti-entropy waits)', async () => {
    let t = 1000;
    const queue = new FlakyQueue();
    const replicas = [0, 1].map((id) => new Replica({ id, ndb: 2, digestLength: 1, store: new MemoryTeaStore(), queue, log: silentLogger, now: () => t }));
    expect(replicas[0].gossipQuietForMs()).to.equal(Infinity);
    await replicas[0].write('direct', v(1, '{"a":1}')); // every write goes to db0, as when clients bypass the LB
    t = 2000;
    await replicas[1].drain(); // applies db0's tuple and passes it on, back to db0
    expect(replicas[1].gossipQuietForMs()).to.equal(0);
    t = 5000;
    await replicas[0].drain(); // nothing but its own tuple: dropped, but gossip is flowing all the same
    expect(replicas[0].gossipQuietForMs()).to.equal(0);
    await replicas[0].drain(); // an empty inbox is quiet
    t = 5600;
    expect(replicas[0].gossipQuietForMs()).to.equal(600);
  });

  it('a write does the write first, then drains: its tuple goes out before the gossip it drained', async () => {
    const { queue, stores, replicas } = makeRing(4, 2);
    await enqueue(queue, 'db0', [tupleMessage('db0', 't', stateOf(v(1, '{"x":1}')))]);
    const after = await replicas[1].write('t', v(5, '{"y":1}'));
    // The write's own result is the merge before the drain...
    expect(choices(after)).to.deep.equal([5]);
    // ...and the drain the write started (in the background: the answer does not wait for it)
    // merges the gossip afterwards; a drain asked for now runs after it.
    await replicas[1].drain();
    expect(choices(await stores[1].load('t'))).to.deep.equal([5, 1]);
    const sent = (await takeAll(queue, 'db1')) as GossipTuple[];
    expect(sent.map((t) => [t.primary, t.choices])).to.deep.equal([['db1', [5]], ['db0', [1]]]);
    expect(await peek(queue, 'db0')).to.deep.equal([]);
  });

  it('a read drains first, then reads: it sees gossip that was waiting', async () => {
    const { queue, stores, replicas } = makeRing(3, 5);
    await enqueue(queue, 'db0', [tupleMessage('db0', 't', stateOf(v(4, '{"x":1}')))]);
    expect(holds(await stores[1].load('t'))).to.equal(false);
    const seen = await replicas[1].read('t');
    expect(choices(seen)).to.deep.equal([4]);
    expect(choices(await stores[1].load('t'))).to.deep.equal([4]);
    expect(replicas[1].pending, 'the received tuple waits in the digest to be forwarded').to.equal(1);
  });

  it('a read of a tea nobody holds is empty and puts nothing on the queue', async () => {
    const { queue, replicas } = makeRing(3, 1);
    const s = await replicas[2].read('nothing');
    expect(holds(s)).to.equal(false);
    expect(rating(s)).to.equal(0);
    await expectQueueEmpty(queue);
  });

  it('drains only its own inbox, not other channels', async () => {
    const { queue, replicas } = makeRing(4, 1);
    await enqueue(queue, 'db2', [tupleMessage('db2', 't', stateOf(v(4, '{"x":1}')))]);
    expect(holds(await replicas[1].read('t'))).to.equal(false);
    expect(await peek(queue, 'db2')).to.have.length(1);
  });

  it('a tuple that comes back to its primary is dropped: not merged, not forwarded', async () => {
    const { queue, stores, replicas } = makeRing(4, 1);
    await enqueue(queue, 'db0', [tupleMessage('db1', 't', stateOf(v(9, '{"x":1}')))]);
    expect(await replicas[1].drain()).to.equal(0);
    expect(holds(await stores[1].load('t'))).to.equal(false);
    expect(replicas[1].pending).to.equal(0);
    await expectQueueEmpty(queue);
  });

  it('forwards a tuple unchanged: primary, key, rating, choices, clocks and tombstone as received', async () => {
    const { queue, replicas } = makeRing(4, 1);
    const state = mergeTombstone(stateOf(v(2, '{"a":3,"__proto__":1}'), v(7, '{"b":2}')), fromJson('{"a":1}'));
    const message = tupleMessage('db3', 'earl grey', state);
    expect(message.tombstone).to.deep.equal({ a: 1 });
    // Spacing and key order no encoder of ours would produce: forwarded as the very text that came.
    const text = ` { "tombstone":${JSON.stringify(message.tombstone)},  "primary":"db3","key":"earl grey", "rating":${message.rating},"choices":${JSON.stringify(message.choices)},"clocks":${JSON.stringify(message.clocks)} }`;
    await queue.store.put('db0', [text]);
    await replicas[1].read('earl grey');
    expect(await takeAllTexts(queue, 'db1')).to.deep.equal([text]);
  });

  it('with digest-length 1 a write goes round the whole ring as each next DB is read, and the queue ends empty', async () => {
    const { queue, replicas } = makeRing(5, 1);
    await replicas[2].write('zoo', v(8, '{"c1":1}'));
    for (const id of [3, 4, 0, 1]) {
      const seen = await replicas[id].read('zoo');
      expect(choices(seen), `DB ${id}`).to.deep.equal([8]);
      const waiting = (await peek(queue, `db${id}`)) as GossipTuple[];
      expect(waiting.map((t) => t.primary), `channel db${id}`).to.deep.equal(['db2']);
    }
    // Back at its primary: dropped.
    expect(await replicas[2].drain()).to.equal(0);
    for (const r of replicas) expect(r.pending).to.equal(0);
    await expectQueueEmpty(queue);
  });

  it('with digest-length 1 a write does not reach a DB whose predecessor has not been read yet', async () => {
    const { replicas } = makeRing(4, 1);
    await replicas[0].write('t', v(1, '{"a":1}'));
    expect(holds(await replicas[2].read('t'))).to.equal(false);
    expect(holds(await replicas[1].read('t'))).to.equal(true);
    expect(holds(await replicas[2].read('t'))).to.equal(true);
  });

  it('with ndb 1 nothing is ever put on, or taken from, any queue', async () => {
    const { queue, replicas } = makeRing(1, 1);
    queue.failPuts = true;
    queue.failLeases = true;
    const r = replicas[0];
    expect(r.gossips).to.equal(false);
    expect(choices(await r.write('t', v(3, '{"a":1}')))).to.deep.equal([3]);
    expect(choices(await r.write('t', v(5, '{"b":1}')))).to.deep.equal([3, 5]);
    expect(rating(await r.read('t'))).to.equal(4);
    expect(await r.delete('t')).to.not.equal(null);
    expect(holds(await r.read('t'))).to.equal(false);
    expect(await r.drain()).to.equal(0);
    expect(r.pending).to.equal(0);
    expect(queue.calls).to.equal(0);
    expect({ ...(await queue.store.clear()) }).to.deep.equal({});
  });

  describe('deletes', () => {
    it('a delete of a tea this DB does not hold is null (404) and sends nothing', async () => {
      const { queue, replicas } = makeRing(3, 1);
      expect(await replicas[0].delete('none')).to.equal(null);
      await expectQueueEmpty(queue);
    });

    it('a delete propagates round the ring like a write', async () => {
      const { queue, replicas } = makeRing(3, 1);
      await replicas[0].write('t', v(1, '{"a":1}'));
      for (const id of [1, 2, 0]) await replicas[id].read('t');
      for (const r of replicas) expect(holds(await r.read('t'))).to.equal(true);
      const after = await replicas[0].delete('t');
      expect(after).to.not.equal(null);
      expect(holds(after!)).to.equal(false);
      expect(canonicalKey(after!.tombstone!)).to.equal('[["a",1]]');
      for (const id of [1, 2]) expect(holds(await replicas[id].read('t')), `DB ${id}`).to.equal(false);
      await replicas[0].drain();
      await expectQueueEmpty(queue);
    });

    it('an old gossiped value still on its way does not resurrect a deleted tea', async () => {
      const { queue, replicas } = makeRing(3, 1);
      await replicas[0].write('t', v(1, '{"a":1}'));
      // DB 1 gets it and forwards it on db1; DB 2 has not read it yet.
      await replicas[1].read('t');
      // DB 1 deletes: its tombstone follows the old value on db1.
      expect(await replicas[1].delete('t')).to.not.equal(null);
      expect(holds(await replicas[2].read('t')), 'DB 2 after old value then tombstone').to.equal(false);
      expect(holds(await replicas[0].read('t')), 'DB 0 after the tombstone').to.equal(false);
      await replicas[1].drain();
      await expectQueueEmpty(queue);
      for (const r of replicas) expect(holds(await r.read('t'))).to.equal(false);
    });

    it('an old value delivered again after the delete stays buried', async () => {
      const { queue, replicas } = makeRing(3, 1);
      await replicas[0].write('t', v(1, '{"a":1}'));
      const old = await peek(queue, 'db0');
      for (const id of [1, 2, 0]) await replicas[id].read('t');
      await replicas[0].delete('t');
      for (const id of [1, 2, 0]) await replicas[id].read('t');
      await expectQueueEmpty(queue);
      // A duplicate of the original write's tuple arrives late at every DB.
      for (const id of [0, 1, 2]) await enqueue(queue, `db${id}`, old);
      for (const r of replicas) expect(holds(await r.read('t')), r.name).to.equal(false);
    });

    it('a newer write after a delete comes back everywhere', async () => {
      const { replicas } = makeRing(3, 1);
      await replicas[0].write('t', v(1, '{"a":1}'));
      for (const id of [1, 2, 0]) await replicas[id].read('t');
      await replicas[0].delete('t');
      for (const id of [1, 2, 0]) await replicas[id].read('t');
      await replicas[2].write('t', v(6, '{"a":2}'));
      for (const id of [0, 1]) expect(choices(await replicas[id].read('t')), `DB ${id}`).to.deep.equal([6]);
    });
  });

  describe('queue failures', () => {
    it('a queue whose put throws keeps the tuples, and the next flush sends them first, in order', async () => {
      const { queue, replicas } = makeRing(2, 2);
      const r0 = replicas[0];
      queue.failPuts = true;
      await r0.write('a', v(1, '{"c":1}'));
      await r0.write('b', v(2, '{"c":1}'));
      expect(r0.pending, 'the failed batch is kept').to.equal(2);
      queue.failPuts = false;
      expect(await peek(queue, 'db0')).to.deep.equal([]);
      await r0.write('c', v(3, '{"c":1}'));
      expect(r0.pending).to.equal(0);
      const sent = (await takeAll(queue, 'db0')) as GossipTuple[];
      expect(sent.map((t) => t.key)).to.deep.equal(['a', 'b', 'c']);
    });

    it('tuples kept through several failed flushes still go out in the order they were made', async () => {
      const { queue, replicas } = makeRing(2, 1);
      const r0 = replicas[0];
      queue.failPuts = true;
      for (const key of ['a', 'b', 'c']) await r0.write(key, v(1, '{"c":1}'));
      expect(r0.pending).to.equal(3);
      queue.failPuts = false;
      await r0.write('d', v(1, '{"c":1}'));
      const sent = (await takeAll(queue, 'db0')) as GossipTuple[];
      expect(sent.map((t) => t.key)).to.deep.equal(['a', 'b', 'c', 'd']);
    });

    it('concurrent writes whose puts fail still send their tuples in write order', async () => {
      const { queue, replicas } = makeRing(2, 1);
      const r0 = replicas[0];
      queue.failPuts = true;
      await Promise.all(['a', 'b', 'c'].map((key) => r0.write(key, v(1, '{"c":1}'))));
      queue.failPuts = false;
      await r0.write('d', v(1, '{"c":1}'));
      const sent = (await takeAll(queue, 'db0')) as GossipTuple[];
      expect(sent.map((t) => t.key)).to.deep.equal(['a', 'b', 'c', 'd']);
      expect(r0.pending).to.equal(0);
    });

    it('a queue whose lease throws leaves reads and writes working on local data', async () => {
      const { queue, replicas } = makeRing(3, 1);
      const r1 = replicas[1];
      await r1.write('t', v(2, '{"a":1}'));
      await enqueue(queue, 'db0', [tupleMessage('db0', 't', stateOf(v(4, '{"b":1}')))]);
      queue.failLeases = true;
      expect(choices(await r1.read('t'))).to.deep.equal([2]);
      expect(choices(await r1.write('t', v(3, '{"a":2}')))).to.deep.equal([3]);
      expect(await r1.drain()).to.equal(0);
      // Once the queue is back, the waiting gossip arrives.
      queue.failLeases = false;
      expect(choices(await r1.read('t'))).to.deep.equal([3, 4]);
    });

    it('a queue whose ack throws still applies what it leased, and the read works', async () => {
      const { queue, replicas } = makeRing(3, 1);
      await enqueue(queue, 'db0', [tupleMessage('db0', 't', stateOf(v(4, '{"b":1}')))]);
      queue.failAcks = true;
      expect(choices(await replicas[1].read('t'))).to.deep.equal([4]);
    });
  });

  it('malformed messages on the inbox are dropped without throwing, and good ones around them applied', async () => {
    const { queue, stores, replicas } = makeRing(3, 1);
    const good = tupleMessage('db0', 't', stateOf(v(4, '{"b":1}')));
    const junk: unknown[] = [
      {},
      'junk',
      42,
      null,
      [1, 2],
      { primary: 'db0' },
      { primary: 'db0', key: 't', choices: [1], clocks: [{ a: -1 }] },
      { primary: 'db0', key: 't', choices: [1, 2], clocks: [{ a: 1 }] },
      { primary: 'db0', key: 't', choices: ['1'], clocks: [{ a: 1 }] },
      { primary: 'db0', key: 't', choices: [1], clocks: [{ a: 1 }], tombstone: 'x' },
      { primary: '', key: 't', choices: [1], clocks: [{ a: 1 }] },
      { primary: 'db0', key: '', choices: [1], clocks: [{ a: 1 }] },
      { primary: 'db0', key: 'x'.repeat(600), choices: [1], clocks: [{ a: 1 }] },
      { primary: 'db0', key: '..', choices: [1], clocks: [{ a: 1 }] },
    ];
    await enqueue(queue, 'db0', [...junk.slice(0, 6), good, ...junk.slice(6)]);
    await queue.store.put('db0', ['{"primary": "db0", not JSON', '']);
    const seen = await replicas[1].read('t');
    expect(choices(seen)).to.deep.equal([4]);
    expect([...stores[1].teas.keys()]).to.deep.equal(['t']);
    expect(await takeAll(queue, 'db1'), 'only the good tuple is forwarded').to.deep.equal([good]);
    await expectQueueEmpty(queue);
  });

  it('a tea its store cannot merge (a corrupt stored value) is logged and forwarded; the rest of the batch is applied and acknowledged', async () => {
    const queue = new FlakyQueue();
    const warnings: string[] = [];
    const log = { ...silentLogger, warn: (m: string) => warnings.push(m) };
    class CorruptOnBad extends MemoryTeaStore {
      override async updateMany(changes: Iterable<TeaChange>): Promise<SkippedTea[]> {
        const all = [...changes];
        await super.updateMany(all.filter(([tea]) => tea !== 'bad'));
        return all.some(([tea]) => tea === 'bad') ? [{ tea: 'bad', error: new Error('/rating/bad holds an invalid value') }] : [];
      }
    }
    const store = new CorruptOnBad();
    const replica = new Replica({ id: 1, ndb: 3, digestLength: 1, store, queue, log });
    const bad = tupleMessage('db0', 'bad', stateOf(v(1, '{"a":1}')));
    const good = tupleMessage('db0', 'good', stateOf(v(2, '{"a":1}')));
    await enqueue(queue, 'db0', [bad, good]);
    await replica.drain();
    expect([...store.teas.keys()]).to.deep.equal(['good']);
    expect(warnings.join('\n')).to.match(/could not merge gossip about "bad" on db0: \/rating\/bad holds an invalid value/);
    expect(await takeAll(queue, 'db1'), 'both travel on').to.deep.equal([bad, good]);
    await expectQueueEmpty(queue); // acknowledged: nothing comes back
  });

  it('a store that cannot be reached leaves the batch unacknowledged, to come back', async () => {
    const queue = new FlakyQueue();
    class Unreachable extends MemoryTeaStore {
      override async updateMany(): Promise<SkippedTea[]> {
        throw new Error('connect ECONNREFUSED');
      }
    }
    const replica = new Replica({ id: 1, ndb: 3, digestLength: 1, store: new Unreachable(), queue, log: silentLogger });
    await enqueue(queue, 'db0', [tupleMessage('db0', 't', stateOf(v(1, '{"a":1}')))]);
    expect(await replica.drain()).to.equal(0);
    expect(await takeAll(queue, 'db1'), 'nothing forwarded').to.deep.equal([]);
    expect(await queue.store.waiting('db0'), 'still leased, not acknowledged').to.equal(0);
    const counts = await queue.store.clear();
    expect(counts.db0, 'the leased message is still held by the queue').to.equal(1);
  });

  it('concurrent writes of concurrent clocks to one DB never lose a pair', async () => {
    const { replicas } = makeRing(3, 2);
    const writes = Array.from({ length: 20 }, (_, k) => replicas[0].write('t', v(k, `{"c${k}":1}`)));
    await Promise.all(writes);
    expect([...choices(await replicas[0].read('t'))].sort((a, b) => a - b)).to.deep.equal(Array.from({ length: 20 }, (_, k) => k));
  });

  describe('convergence (property)', () => {
    type Step =
      | { kind: 'write'; at: number; tea: string; version: Version }
      | { kind: 'delete'; at: number; tea: string }
      | { kind: 'read'; at: number; tea: string };

    const teaArb = fc.constantFrom('t0', 't1');
    const stepArb: fc.Arbitrary<Step> = fc.oneof(
      { weight: 5, arbitrary: fc.record({ kind: fc.constant('write' as const), at: fc.nat(), tea: teaArb, version: fc.record({ choice: smallChoiceArb, clock: clockArb() }) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), tea: teaArb }) },
      { weight: 3, arbitrary: fc.record({ kind: fc.constant('read' as const), at: fc.nat(), tea: teaArb }) },
    );

    it('random writes, deletes and draining reads at random DBs, then two rounds of reads round the ring: every DB holds the pure merge of everything', async () => {
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 1, max: 5 }), fc.array(stepArb, { maxLength: 30 }), async (ndb, steps) => {
          const { queue, replicas } = makeRing(ndb, 1);
          const versions = new Map<string, Version[]>();
          const tombstones = new Map<string, Clock[]>();
          for (const step of steps) {
            const r = replicas[step.at % ndb];
            if (step.kind === 'write') {
              await r.write(step.tea, step.version);
              versions.set(step.tea, [...(versions.get(step.tea) ?? []), step.version]);
            } else if (step.kind === 'delete') {
              const after = await r.delete(step.tea);
              if (after !== null) tombstones.set(step.tea, [...(tombstones.get(step.tea) ?? []), after.tombstone!]);
            } else {
              await r.read(step.tea);
            }
          }
          // Two rounds in ring order carry every tuple all the way round to its primary.
          for (let round = 0; round < 2; round++) for (const r of replicas) await r.read('t0');
          for (const r of replicas) expect(r.pending, `${r.name} pending`).to.equal(0);
          await expectQueueEmpty(queue);
          for (const tea of ['t0', 't1']) {
            let expected: TeaState = EMPTY;
            for (const t of tombstones.get(tea) ?? []) expected = mergeTombstone(expected, t);
            for (const x of versions.get(tea) ?? []) expected = mergeVersion(expected, x);
            for (const r of replicas) {
              const s = await r.read(tea);
              expect(canonical(s), `${r.name} ${tea}`).to.equal(canonical(expected));
              expect(Object.is(rating(s), rating(expected))).to.equal(true);
            }
          }
        }),
        { numRuns: 200 },
      );
    });

    it('delivering gossip in any order between replicas gives the same state as the pure merge', () => {
      // The replica merges tuples with mergeState: check the pure function on tuple-shaped states.
      fc.assert(
        fc.property(fc.array(fc.record({ choice: smallChoiceArb, clock: clockArb() }), { maxLength: 8 }), (vs) => {
          const states = vs.map((x) => stateOf(x));
          const forward = states.reduce(mergeState, EMPTY);
          const backward = [...states].reverse().reduce(mergeState, EMPTY);
          expect(canonical(forward)).to.equal(canonical(backward));
        }),
        { numRuns: 200 },
      );
    });
  });
});
