/**
 * The fault-tolerance pieces, without sockets: queue leases, the gossip
 * timer, and anti-entropy between in-memory DBs.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { BUCKETS, bucketOf, differingBuckets, digestDelta, entryDigest, normalize } from '../../lib/core/antiEntropy';
import { makeClock } from '../../lib/core/clock';
import { EMPTY, TeaState, canonicalVersions, deleteAll, mergeVersion } from '../../lib/core/versions';
import { AntiEntropy } from '../../lib/db/antiEntropy';
import { Replica } from '../../lib/db/replica';
import { MemoryTeaStore } from '../../lib/db/store';
import { silentLogger } from '../../lib/log';
import { HttpClient } from '../../lib/net/httpClient';
import { MemoryChannelStore } from '../../lib/queue/channelStore';
import { LocalQueue } from '../../lib/queue/transport';

const v = (choice: number, id: string, n: number) => ({ choice, clock: makeClock([[id, n]]) });

describe('queue leases (MemoryChannelStore)', () => {
  const texts = (chunks: { messages: string[] }[]) => chunks.map((c) => c.messages);

  it('a leased chunk is not handed out again while its lease runs, and is gone once acknowledged', async () => {
    let now = 0;
    const store = new MemoryChannelStore(() => now);
    await store.put('db0', ['{"a":1}']);
    await store.put('db0', ['{"b":2}']);
    const first = await store.lease('db0', 1, 1000);
    expect(texts(first)).to.deep.equal([['{"a":1}']]);
    const second = await store.lease('db0', 10, 1000);
    expect(texts(second)).to.deep.equal([['{"b":2}']]);
    await store.ack('db0', [first[0].id, second[0].id]);
    now = 5000;
    expect(await store.lease('db0', 10, 1000)).to.deep.equal([]);
  });

  it('an expired lease puts its chunk back at the head of the channel', async () => {
    let now = 0;
    const store = new MemoryChannelStore(() => now);
    await store.put('db0', ['{"n":1}', '{"n":2}']);
    const leased = await store.lease('db0', 1, 1000);
    await store.put('db0', ['{"n":3}']);
    now = 1000;
    expect(await store.waiting('db0')).to.equal(3);
    const again = await store.lease('db0', 10, 1000);
    expect(texts(again)).to.deep.equal([['{"n":1}', '{"n":2}'], ['{"n":3}']]);
    expect(await store.ack('db0', [leased[0].id])).to.equal(0, 'the old lease id is void once requeued');
  });

  it('take splits a chunk and keeps the order', async () => {
    const store = new MemoryChannelStore(() => 0);
    expect(await store.put('db0', ['{"n":1}', '{"n":2}', '{"n":3}'])).to.equal(3);
    expect(await store.take('db0')).to.equal('{"n":1}');
    expect(await store.waiting('db0')).to.equal(2);
    expect(texts(await store.lease('db0', 1, 1000))).to.deep.equal([['{"n":2}', '{"n":3}']]);
    expect(await store.take('db0')).to.equal(null);
  });

  it('an ack for another channel forgets nothing', async () => {
    const store = new MemoryChannelStore(() => 0);
    await store.put('db0', ['{"n":1}']);
    const [m] = await store.lease('db0', 1, 1000);
    expect(await store.ack('db1', [m.id])).to.equal(0);
    expect(await store.ack('db0', [m.id])).to.equal(1);
  });

  it('clear counts leased messages with the waiting ones', async () => {
    const store = new MemoryChannelStore(() => 0);
    await store.put('db0', ['{"n":1}', '{"n":2}']);
    await store.put('db0', ['{"n":3}']);
    await store.lease('db0', 1, 1000);
    expect({ ...(await store.clear()) }).to.deep.equal({ db0: 3 });
    expect(await store.waiting('db0')).to.equal(0);
  });
});

describe('a DB that dies between taking and applying gossip loses nothing', () => {
  it('messages leased by a replica that never acknowledges come back to the next one', async () => {
    let now = 0;
    const channels = new MemoryChannelStore(() => now);
    const queue = new LocalQueue(channels);
    const sender = new Replica({ id: 0, ndb: 2, digestLength: 1, store: new MemoryTeaStore(), queue, log: silentLogger });
    await sender.write('assam', v(4, 'c0', 1));
    // A consumer leases the message and dies before acknowledging.
    const lost = await channels.lease('db0', 10, 2000);
    expect(lost).to.have.length(1);
    const store = new MemoryTeaStore();
    const receiver = new Replica({ id: 1, ndb: 2, digestLength: 1, store, queue, log: silentLogger });
    await receiver.read('x');
    expect((await store.load('assam')).versions).to.have.length(0, 'still leased');
    now = 2000;
    await receiver.read('x');
    expect((await store.load('assam')).versions.map((x) => x.choice)).to.deep.equal([4]);
  });
});

describe('the gossip timer', () => {
  function ring(flushAfterMs: number) {
    let now = 0;
    const queue = new LocalQueue(new MemoryChannelStore(() => now));
    const stores = [new MemoryTeaStore(), new MemoryTeaStore(), new MemoryTeaStore()];
    const replicas = stores.map(
      (store, id) => new Replica({ id, ndb: 3, digestLength: 10, store, queue, log: silentLogger, flushAfterMs, now: () => now }),
    );
    return { replicas, stores, advance: (ms: number) => (now += ms) };
  }

  it('holds a DB’s own write until flush-after-ms, then sends the digest though it is not full', async () => {
    const { replicas, stores, advance } = ring(1500);
    await replicas[0].write('assam', v(4, 'c0', 1));
    advance(1499);
    await replicas[0].tick();
    await replicas[1].tick();
    expect(await stores[1].load('assam')).to.equal(EMPTY);
    advance(1);
    await replicas[0].tick();
    await replicas[1].tick();
    expect((await stores[1].load('assam')).versions).to.have.length(1);
  });

  it('passes forwarded tuples on at the next tick, without waiting again', async () => {
    const { replicas, stores, advance } = ring(1500);
    await replicas[0].write('assam', v(4, 'c0', 1));
    advance(1500);
    await replicas[0].tick();
    await replicas[1].tick(); // receives, and holds a forwarded tuple
    await replicas[1].tick(); // sends it at once
    await replicas[2].tick();
    expect((await stores[2].load('assam')).versions).to.have.length(1);
  });

  describe('with the timer running', () => {
    // An interval far longer than a test: the timer itself never fires; tick() stands in for it.
    const NEVER_MS = 3_600_000;
    const started: Replica[] = [];
    afterEach(async () => {
      await Promise.all(started.splice(0).map((r) => r.stop()));
    });
    function replica(id: number, queue: LocalQueue, store = new MemoryTeaStore(), running = true): Replica {
      const r = new Replica({ id, ndb: 3, digestLength: 2, store, queue, log: silentLogger, gossipIntervalMs: NEVER_MS, flushAfterMs: 1500 });
      if (running) {
        r.start();
        started.push(r);
      }
      return r;
    }

    it('sends a full digest at the next tick, not with the write that filled it', async () => {
      const channels = new MemoryChannelStore();
      const r = replica(0, new LocalQueue(channels));
      await r.write('assam', v(4, 'c0', 1));
      await r.write('oolong', v(2, 'c0', 1));
      expect(await channels.waiting('db0')).to.equal(0, 'the writes sent nothing');
      expect(r.pending).to.equal(2);
      await r.tick();
      expect(await channels.waiting('db0')).to.equal(2);
      expect(r.pending).to.equal(0);
    });

    it('passes a drained batch on at once, without waiting for a tick', async () => {
      const channels = new MemoryChannelStore();
      const queue = new LocalQueue(channels);
      const sender = replica(0, queue, new MemoryTeaStore(), false); // no timer: sends when full
      await sender.write('assam', v(4, 'c0', 1));
      await sender.write('oolong', v(2, 'c0', 1));
      const store = new MemoryTeaStore();
      const relay = replica(1, queue, store);
      await relay.read('x'); // drains db0
      expect((await store.load('assam')).versions).to.have.length(1);
      expect(await channels.waiting('db1')).to.equal(2, 'forwarded with no tick');
    });

    it('while gossip flows, each round’s acknowledgement rides on the next lease, and stop() sends the last one', async () => {
      /** Records what the replica asks of the queue. */
      class RecordingQueue extends LocalQueue {
        leaseAcks: string[][] = [];
        acks: string[][] = [];
        leased: string[][] = [];
        override async lease(channel: string, max: number, leaseMs: number, ack: readonly string[] = []) {
          const out = await super.lease(channel, max, leaseMs, ack);
          if (channel === 'db0') {
            this.leaseAcks.push([...ack]);
            if (out.length > 0) this.leased.push(out.map((l) => l.id));
          }
          return out;
        }
        override async ack(channel: string, ids: readonly string[]) {
          this.acks.push([...ids]);
          await super.ack(channel, ids);
        }
      }
      const channels = new MemoryChannelStore();
      const queue = new RecordingQueue(channels);
      const store = new MemoryTeaStore();
      // A real, short interval: the watcher drains, and drains again a tick later while gossip flows.
      const relay = new Replica({ id: 1, ndb: 3, digestLength: 1, store, queue, log: silentLogger, gossipIntervalMs: 5, flushAfterMs: 0 });
      relay.start();
      started.push(relay);
      const until = async (what: string, done: () => Promise<boolean>) => {
        for (let t = 0; t < 400 && !(await done()); t++) await new Promise((r) => setTimeout(r, 5));
        expect(await done(), what).to.equal(true);
      };
      const tuple = (tea: string) => JSON.stringify({ primary: 'db0', key: tea, rating: 1, choices: [1], clocks: [{ c0: 1 }] });
      await channels.put('db0', [tuple('assam')]);
      await until('the first message is applied', async () => (await store.load('assam')).versions.length === 1);
      await channels.put('db0', [tuple('oolong')]);
      await until('the second message is applied', async () => (await store.load('oolong')).versions.length === 1);
      await until('a later lease acknowledges the second round', async () => queue.leaseAcks.some((a) => a.includes(queue.leased[1][0])));
      expect(queue.leased).to.have.length(2);
      expect(queue.leaseAcks.some((a) => a.includes(queue.leased[0][0])), 'the first round is acknowledged by a lease').to.equal(true);
      expect(queue.acks.filter((a) => a.length > 0), 'no acknowledgement of its own while streaming').to.deep.equal([]);

      await channels.put('db0', [tuple('sencha')]);
      await until('the third message is applied', async () => (await store.load('sencha')).versions.length === 1);
      await relay.stop();
      started.splice(started.indexOf(relay), 1);
      const last = queue.leased[2][0];
      const ackedLast = queue.acks.some((a) => a.includes(last)) || queue.leaseAcks.some((a) => a.includes(last));
      expect(ackedLast, 'the last round is acknowledged, by a lease or by stop()').to.equal(true);
      expect({ ...(await channels.clear()) }, 'nothing left leased after stop()').to.deep.equal({ db1: 3 });
    });

    it('stop() sends what the digest still holds', async () => {
      const channels = new MemoryChannelStore();
      const r = replica(0, new LocalQueue(channels));
      await r.write('assam', v(4, 'c0', 1));
      await r.stop();
      expect(await channels.waiting('db0')).to.equal(1);
    });
  });
});

describe('anti-entropy (pure part)', () => {
  it('buckets are in range and stable', () => {
    fc.assert(fc.property(fc.string(), (tea) => bucketOf(tea) >= 0 && bucketOf(tea) < BUCKETS && bucketOf(tea) === bucketOf(tea)));
  });

  it('a tea never written adds nothing; any written or deleted one does', () => {
    expect(entryDigest('a', EMPTY)).to.deep.equal([0, 0]);
    const written = mergeVersion(EMPTY, v(1, 'c0', 1));
    expect(entryDigest('a', written)).to.not.deep.equal([0, 0]);
    expect(entryDigest('a', deleteAll(written))).to.not.deep.equal(entryDigest('a', written));
  });

  it('the digest depends on the set of versions, not their order', () => {
    const a = mergeVersion(mergeVersion(EMPTY, v(1, 'c0', 1)), v(2, 'c1', 1));
    const b = mergeVersion(mergeVersion(EMPTY, v(2, 'c1', 1)), v(1, 'c0', 1));
    expect(entryDigest('t', a)).to.deep.equal(entryDigest('t', b));
  });

  it('a digest remembered for a state is the one a fresh copy of it gets, and only for the same tea', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.constantFrom('c0', 'c1'), fc.integer({ min: 1, max: 4 })), { minLength: 1 }), fc.boolean(), (writes, deleted) => {
        let state: TeaState = writes.reduce((s: TeaState, [choice, id, n]) => mergeVersion(s, v(choice, id, n)), EMPTY);
        if (deleted) state = deleteAll(state);
        const copy: TeaState = JSON.parse(JSON.stringify(state));
        const first = entryDigest('t', state);
        expect(entryDigest('t', state)).to.deep.equal(first);
        expect(entryDigest('t', copy), 'computed afresh for another object').to.deep.equal(first);
        expect(entryDigest('u', state), 'another tea with the same state').to.deep.equal(entryDigest('u', copy));
        expect(entryDigest('u', state)).to.not.deep.equal(first);
      }),
    );
  });

  it('summing deltas over any history gives the digest of the final state', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.constantFrom('c0', 'c1'), fc.integer({ min: 1, max: 4 }))), (writes) => {
        let state: TeaState = EMPTY;
        const sum = [0, 0];
        for (const [choice, id, n] of writes) {
          const next = mergeVersion(state, v(choice, id, n));
          const [d0, d1] = digestDelta('t', state, next);
          sum[0] += d0;
          sum[1] += d1;
          state = next;
        }
        const final = entryDigest('t', state);
        return normalize(sum[0]) === final[0] && normalize(sum[1]) === final[1];
      }),
    );
  });

  it('differingBuckets finds exactly the buckets whose sums differ mod 2^32', () => {
    const mine = Array.from({ length: BUCKETS }, (_, b) => [b, 0] as const);
    const theirs = mine.map(([a, b], i) => (i === 7 ? ([a + 1, b] as const) : i === 9 ? ([a + 2 ** 32, b] as const) : ([a, b] as const)));
    expect(differingBuckets(mine, theirs)).to.deep.equal([7]);
  });
});

/** An HttpClient that answers anti-entropy calls from in-process AntiEntropy objects, by port. */
function inProcessPeers(peers: Map<number, AntiEntropy>, down = new Set<number>()): HttpClient {
  return {
    async request(method, url, body) {
      const { port, pathname } = new URL(url);
      const peer = peers.get(Number(port));
      if (!peer || down.has(Number(port))) throw new Error(`connect ECONNREFUSED ${port}`);
      const bucket = pathname.split('/')[3];
      let out: unknown;
      if (bucket === undefined) out = { sums: await peer.sums() };
      else if (method === 'GET') out = { entries: await peer.entries(Number(bucket)) };
      else out = { merged: await peer.merge(JSON.parse(body?.toString() ?? '{}').entries) };
      return { status: 200, body: JSON.stringify(out) };
    },
    close() {},
  };
}

describe('anti-entropy between DBs', () => {
  function cluster(n: number) {
    const stores = Array.from({ length: n }, () => new MemoryTeaStore());
    const peers = new Map<number, AntiEntropy>();
    const down = new Set<number>();
    const http = inProcessPeers(peers, down);
    const addresses = stores.map((_, i) => ({ host: 'mem', port: 1000 + i }));
    const aes = stores.map((store, id) => new AntiEntropy({ id, peers: addresses, store, http, log: silentLogger, intervalMs: 0 }));
    aes.forEach((ae, i) => peers.set(1000 + i, ae));
    return { stores, aes, down };
  }

  const canonicalOf = async (store: MemoryTeaStore) =>
    JSON.stringify([...store.teas.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([t, s]) => [t, canonicalVersions(s), s.tombstone]));

  it('repairs a DB that came back empty from one peer', async () => {
    const { stores, aes } = cluster(2);
    for (let k = 0; k < 300; k++) await stores[0].update(`tea-${k}`, (s) => mergeVersion(s, v(k % 5, 'c0', k + 1)));
    await stores[0].update('tea-0', deleteAll);
    const merged = await aes[1].syncWith(0, true);
    expect(merged).to.equal(300);
    expect(await canonicalOf(stores[1])).to.equal(await canonicalOf(stores[0]));
    expect(await aes[1].syncWith(0, true)).to.equal(0, 'nothing differs any more');
  });

  it('exchanges both ways: each side gets what only the other had, siblings merged', async () => {
    const { stores, aes } = cluster(2);
    await stores[0].update('a', (s) => mergeVersion(s, v(1, 'c0', 1)));
    await stores[1].update('a', (s) => mergeVersion(s, v(2, 'c1', 1)));
    await stores[1].update('b', (s) => mergeVersion(s, v(3, 'c1', 1)));
    await aes[0].syncWith(1, true);
    expect(await canonicalOf(stores[0])).to.equal(await canonicalOf(stores[1]));
    expect((await stores[0].load('a')).versions).to.have.length(2);
  });

  it('a round leaves alone a bucket that differs for the first time: gossip gets a round to deliver it', async () => {
    const { stores, aes } = cluster(2);
    await stores[0].update('fresh', (s) => mergeVersion(s, v(1, 'c0', 1)));
    expect(await aes[1].syncWith(0)).to.equal(0);
    expect(await aes[1].syncWith(0)).to.equal(1);
  });

  it('a round skips a peer that is down and syncs with one that is up', async () => {
    const { stores, aes, down } = cluster(3);
    await stores[2].update('x', (s) => mergeVersion(s, v(1, 'c0', 1)));
    down.add(1001);
    await aes[0].round();
    await aes[0].round();
    expect((await stores[0].load('x')).versions).to.have.length(1);
  });
});
