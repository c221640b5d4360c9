/** The version store's partitions by shard (lib/kv/core/store.ts). */
import { expect } from 'chai';
import { makeClock } from '../../../lib/core/clock';
import { differingBuckets } from '../../../lib/core/antiEntropy';
import { shardOfKey } from '../../../lib/kv/core/shardMap';
import { VersionStore } from '../../../lib/kv/core/store';
import { KvVersion } from '../../../lib/kv/core/versions';

const version = (value: string, seq: number): KvVersion => ({ deleted: false, value, clock: makeClock([['10.0.0.2:8080', seq]]), timestamp: seq, origin: '10.0.0.2:8080' });

function fill(store: VersionStore, keys: string[]): void {
  keys.forEach((k, i) => store.merge(k, [version(`v${i}`, i + 1)]));
}

describe('kv version store, partitioned by shard', () => {
  const keys = Array.from({ length: 400 }, (_, i) => `p${i}`);

  it('one shard\'s sums equal those of a store holding only that shard\'s keys', () => {
    const all = new VersionStore((k) => shardOfKey(k, 3));
    fill(all, keys);
    for (let s = 0; s < 3; s++) {
      const only = new VersionStore((k) => shardOfKey(k, 3));
      keys.forEach((k, i) => shardOfKey(k, 3) === s && only.merge(k, [version(`v${i}`, i + 1)]));
      expect(differingBuckets(all.bucketSums(s), only.bucketSums(s)), `shard ${s}`).to.deep.equal([]);
      expect(all.liveCount(s)).to.equal(only.liveCount());
    }
    expect(all.heldPartitions().sort()).to.deep.equal([0, 1, 2]);
  });

  it('re-partitioning by another shard count gives the sums a store built with that count has', () => {
    const moved = new VersionStore((k) => shardOfKey(k, 2));
    fill(moved, keys);
    moved.repartition((k) => shardOfKey(k, 5));
    const fresh = new VersionStore((k) => shardOfKey(k, 5));
    fill(fresh, keys);
    for (let s = 0; s < 5; s++) expect(differingBuckets(moved.bucketSums(s), fresh.bucketSums(s)), `shard ${s}`).to.deep.equal([]);
  });

  it('dropping a partition forgets exactly its keys', () => {
    const store = new VersionStore((k) => shardOfKey(k, 2));
    fill(store, keys);
    const inOne = keys.filter((k) => shardOfKey(k, 2) === 1);
    expect(store.dropPartition(1)).to.equal(inOne.length);
    expect(store.size).to.equal(keys.length - inOne.length);
    expect(store.get(inOne[0])).to.deep.equal([]);
    expect(store.heldPartitions()).to.deep.equal([0]);
    expect(store.bucketSums(1).every(([x, y]) => x === 0 && y === 0)).to.equal(true);
  });
});
