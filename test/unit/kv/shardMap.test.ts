/** The shard map: keys onto shards, and the layout every node converges on (lib/kv/core/shardMap.ts). */
import { expect } from 'chai';
import fc from 'fast-check';
import { isAddress } from '../../../lib/kv/core/address';
import { initialLayout, layoutJson, layoutNewer, ownersOf, parseLayout, shardOfKey, shardOfNode, withMember } from '../../../lib/kv/core/shardMap';

const nodes = (n: number) => Array.from({ length: n }, (_, i) => `10.0.0.${i + 2}:8080`);

function counts(keys: string[], shards: number): number[] {
  const out = Array<number>(shards).fill(0);
  for (const k of keys) out[shardOfKey(k, shards)]++;
  return out;
}

describe('kv shard map', () => {
  it('600 keys spread within ±25% of the mean over 2, 3 and 5 shards, for several kinds of key names', () => {
    for (const name of [(i: number) => `key${i}`, (i: number) => `x${i}`, (i: number) => `user:${i * 7919}`, (i: number) => `bal-${i}-k`]) {
      const keys = Array.from({ length: 600 }, (_, i) => name(i));
      for (const shards of [2, 3, 5]) {
        const mean = 600 / shards;
        for (const c of counts(keys, shards)) expect(Math.abs(c - mean) / mean, `${name(0)}.. over ${shards}: ${counts(keys, shards)}`).to.be.at.most(0.25);
      }
    }
  });

  it('every shard count gives shards 0..n-1, the same for the same key, one shard for n = 1', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 50 }), fc.integer({ min: 1, max: 512 }), (key, n) => {
        const s = shardOfKey(key, n);
        return Number.isInteger(s) && s >= 0 && s < n && s === shardOfKey(key, n) && shardOfKey(key, 1) === 0;
      }),
    );
  });

  it('going from n to n + 1 shards moves only keys to the new shard, about 1/(n + 1) of them (hash-mod would move n/(n + 1))', () => {
    const keys = Array.from({ length: 30_000 }, (_, i) => `k${i}`);
    for (const n of [1, 2, 3, 6]) {
      let moved = 0;
      for (const k of keys) {
        const before = shardOfKey(k, n);
        const after = shardOfKey(k, n + 1);
        if (before !== after) {
          moved++;
          expect(after, k).to.equal(n);
        }
      }
      expect(moved / keys.length, `${n} -> ${n + 1}`).to.be.closeTo(1 / (n + 1), 0.015);
    }
  });

  it('the start-up layout puts node i of VIEW in shard i mod count, the same on every node', () => {
    const view = nodes(6);
    const layout = initialLayout(view, 2);
    expect(layout.shards).to.deep.equal([[view[0], view[2], view[4]], [view[1], view[3], view[5]]]);
    expect(layoutJson(layout)).to.deep.equal(layoutJson(initialLayout([...view], 2)));
    expect(shardOfNode(layout, view[3])).to.equal(1);
    expect(shardOfNode(layout, '10.0.0.99:8080')).to.equal(null);
    expect(ownersOf(layout, 'k')).to.deep.equal(layout.shards[shardOfKey('k', 2)]);
  });

  it('a newer layout wins by epoch, then settled over unsettled, then by its maker', () => {
    const base = initialLayout(nodes(4), 2);
    const added = withMember(base, 1, '10.0.0.9:8080', 1, 'b:1');
    expect(added.shards[1]).to.include('10.0.0.9:8080');
    expect(added.from).to.deep.equal(base.shards);
    expect(layoutNewer(added, base)).to.equal(true);
    expect(layoutNewer(base, added)).to.equal(false);
    expect(layoutNewer(base, null), 'any layout beats none').to.equal(true);
    const moving = { ...added, epoch: 2, settled: false };
    expect(layoutNewer({ ...moving, settled: true }, moving)).to.equal(true);
    expect(layoutNewer(moving, { ...moving, settled: true })).to.equal(false);
    expect(layoutNewer({ ...moving, by: 'c:1' }, moving)).to.equal(true);
    expect(layoutNewer(moving, moving), 'not newer than itself').to.equal(false);
  });

  it('a peer\'s layout is parsed strictly: null is no shards, anything malformed is a message', () => {
    const layout = withMember(initialLayout(nodes(4), 2), 0, '10.0.0.9:8080', 1, 'x:1');
    expect(parseLayout(JSON.parse(JSON.stringify(layoutJson(layout))), isAddress)).to.deep.equal(layout);
    expect(parseLayout(null, isAddress)).to.equal(null);
    for (const bad of [{}, { ...layoutJson(layout), epoch: -1 }, { ...layoutJson(layout), shards: [] }, { ...layoutJson(layout), shards: [['nope']] }, { ...layoutJson(layout), from: 3 }, 'x']) {
      expect(parseLayout(bad, isAddress), JSON.stringify(bad)).to.be.a('string');
    }
  });
});
