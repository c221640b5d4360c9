/**
 * Anti-entropy without sockets: the pure part (buckets, digests, sums, the
 * in-memory index) and rounds between in-memory DBs.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { BUCKETS, BucketIndex, bucketOf, differingBuckets, entryDigest } from '../../lib/core/antiEntropy';
import { makeClock } from '../../lib/core/clock';
import { EMPTY, TeaState, canonicalVersions, deleteAll, mergeState, mergeVersion } from '../../lib/core/versions';
import { LIMITS } from '../../lib/core/limits';
import { AntiEntropy } from '../../lib/db/antiEntropy';
import { MemoryTeaStore } from '../../lib/db/store';
import { silentLogger } from '../../lib/log';
import { HttpClient } from '../../lib/net/httpClient';

const v = (choice: number, id: string, n: number) => ({ choice, clock: makeClock([[id, n]]) });

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

  it('a digest depends on the tea and its state, not on the object holding it', () => {
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

  it('differingBuckets finds exactly the buckets whose sums differ mod 2^32', () => {
    const mine = Array.from({ length: BUCKETS }, (_, b) => [b, 0] as const);
    const theirs = mine.map(([a, b], i) => (i === 7 ? ([a + 1, b] as const) : i === 9 ? ([a + 2 ** 32, b] as const) : ([a, b] as const)));
    expect(differingBuckets(mine, theirs)).to.deep.equal([7]);
  });
});

describe('core/BucketIndex', () => {
  it('sums over commits equal the sums of the final states, whatever the history', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c'), fc.integer({ min: 0, max: 3 }), fc.constantFrom('c0', 'c1'), fc.integer({ min: 1, max: 4 }), fc.boolean())), (writes) => {
        const index = new BucketIndex(1000);
        const states = new Map<string, TeaState>();
        for (const [tea, choice, id, n, del] of writes) {
          const before = states.get(tea) ?? EMPTY;
          const after = del ? deleteAll(before) : mergeVersion(before, v(choice, id, n));
          if (after === before) continue;
          index.changed(tea, after, 0);
          states.set(tea, after);
          // Sums are brought up to date when asked for: asking in between changes nothing at the end.
          if (choice === 0) index.sums();
        }
        const fresh = new BucketIndex(1000);
        for (const [tea, state] of states) fresh.found(tea, state);
        expect(index.sums()).to.deep.equal(fresh.sums());
      }),
    );
  });

  it('a tea a commit indexed during the start-up scan is not counted twice when the scan finds it', () => {
    const index = new BucketIndex(1000);
    const before = mergeVersion(EMPTY, v(1, 'c0', 1));
    const after = mergeVersion(before, v(2, 'c0', 2));
    index.changed('t', after, 0);
    index.found('t', after);
    const fresh = new BucketIndex(1000);
    fresh.found('t', after);
    expect(index.sums()).to.deep.equal(fresh.sums());
    expect(index.teasOf(bucketOf('t'))).to.deep.equal(['t']);
  });

  it('a change is recent for recentMs, then not', () => {
    const index = new BucketIndex(1000);
    index.changed('t', mergeVersion(EMPTY, v(1, 'c0', 1)), 5000);
    expect(index.ageOf('t', 5600)).to.equal(600);
    expect(index.ageOf('t', 6000)).to.equal(null);
    expect(index.ageOf('never', 5000)).to.equal(null);
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
      if (bucket === undefined) out = { sums: peer.sums() };
      else if (method === 'GET') out = { entries: await peer.entries(Number(bucket)) };
      else out = { merged: await peer.merge(JSON.parse(body?.toString() ?? '{}').entries, Number(bucket)) };
      return { status: 200, body: JSON.stringify(out) };
    },
    close() {},
  };
}

/** Commit changes straight into a store, as a DB's writes would. */
async function put(store: MemoryTeaStore, tea: string, change: (s: TeaState) => TeaState): Promise<void> {
  await store.commit({ trim: 0, steps: [{ tea, change }] });
}

describe('anti-entropy between DBs', () => {
  const RECENT_MS = 10_000;
  async function cluster(n: number) {
    const clock = { now: 0 };
    const stores = Array.from({ length: n }, () => new MemoryTeaStore(undefined, RECENT_MS, () => clock.now));
    for (const store of stores) await store.claim('force');
    const peers = new Map<number, AntiEntropy>();
    const down = new Set<number>();
    const http = inProcessPeers(peers, down);
    const addresses = stores.map((_, i) => ({ host: 'mem', port: 1000 + i }));
    const aes = stores.map(
      (store, id) =>
        new AntiEntropy({
          id, peers: addresses, store, http, log: silentLogger, intervalMs: 0, now: () => clock.now,
          merge: async (entries) => {
            const { results } = await store.commit({ trim: 0, steps: entries.map(({ tea, state }) => ({ tea, change: (s: TeaState) => mergeState(s, state), repair: true })) });
            return results.filter((r) => !r.error && r.after !== r.before).length;
          },
        }),
    );
    aes.forEach((ae, i) => peers.set(1000 + i, ae));
    return { stores, aes, down, clock };
  }

  const canonicalOf = (store: MemoryTeaStore) =>
    JSON.stringify([...store.teas.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([t, s]) => [t, canonicalVersions(s), s.tombstone]));

  it('repairs a DB that came back empty from one peer, once the teas are no longer recent', async () => {
    const { stores, aes, clock } = await cluster(2);
    for (let k = 0; k < 300; k++) await put(stores[0], `tea-${k}`, (s) => mergeVersion(s, v(k % 5, 'c0', k + 1)));
    await put(stores[0], 'tea-0', deleteAll);
    expect(await aes[1].syncWith(0, true), 'recent changes are gossip\'s to deliver').to.equal(0);
    clock.now = RECENT_MS;
    expect(await aes[1].syncWith(0, true)).to.equal(300);
    expect(canonicalOf(stores[1])).to.equal(canonicalOf(stores[0]));
    expect(await aes[1].syncWith(0, true)).to.equal(0, 'nothing differs any more');
  });

  it('exchanges both ways: each side gets what only the other had, siblings merged', async () => {
    const { stores, aes, clock } = await cluster(2);
    await put(stores[0], 'a', (s) => mergeVersion(s, v(1, 'c0', 1)));
    await put(stores[1], 'a', (s) => mergeVersion(s, v(2, 'c1', 1)));
    await put(stores[1], 'b', (s) => mergeVersion(s, v(3, 'c1', 1)));
    clock.now = RECENT_MS;
    await aes[0].syncWith(1, true);
    expect(canonicalOf(stores[0])).to.equal(canonicalOf(stores[1]));
    expect((await stores[0].load('a')).versions).to.have.length(2);
  });

  it('a round leaves alone a bucket that differs for the first time', async () => {
    const { stores, aes, clock } = await cluster(2);
    await put(stores[0], 'old', (s) => mergeVersion(s, v(1, 'c0', 1)));
    clock.now = RECENT_MS;
    expect(await aes[1].syncWith(0)).to.equal(0);
    expect(await aes[1].syncWith(0)).to.equal(1);
  });

  it('a bucket larger than one exchange carries is repaired over a few rounds, each exchange within half the bulk limit', async () => {
    const { stores, aes, clock } = await cluster(2);
    // 80 teas of one bucket, each about 62 KB (240 clock entries of 256-character ids): 5 MB, over one exchange's 4 MiB.
    const teas: string[] = [];
    for (let n = 0; teas.length < 80; n++) if (bucketOf(`big-${n}`) === 7) teas.push(`big-${n}`);
    for (const [k, tea] of teas.entries()) {
      const clock = makeClock(Array.from({ length: 240 }, (_, e) => [`${String(e).padStart(4, '0')}${'x'.repeat(252)}`, k + 1] as const));
      await put(stores[0], tea, (s) => mergeVersion(s, { choice: k, clock }));
    }
    clock.now = RECENT_MS;
    const sizes: number[] = [];
    for (let round = 0; round < 10 && canonicalOf(stores[1]) !== canonicalOf(stores[0]); round++) {
      const entries = await aes[0].entries(7, true);
      sizes.push(JSON.stringify({ entries }).length);
      await aes[1].syncWith(0, true);
    }
    expect(canonicalOf(stores[1])).to.equal(canonicalOf(stores[0]));
    expect(sizes.length, 'more than one round').to.be.at.least(2);
    // About half what a peer's PUT takes (the estimate leaves out the few fields beside each state).
    for (const size of sizes) expect(size).to.be.at.most(LIMITS.bulkBytes / 2 + 128 * 1024);
  });

  it('a round skips a peer that is down and syncs with one that is up', async () => {
    const { stores, aes, down, clock } = await cluster(3);
    await put(stores[2], 'x', (s) => mergeVersion(s, v(1, 'c0', 1)));
    clock.now = RECENT_MS;
    down.add(1001);
    await aes[0].round();
    await aes[0].round();
    expect((await stores[0].load('x')).versions).to.have.length(1);
  });
});
