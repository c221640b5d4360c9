/** One peer's replication queue (lib/kv/core/outbox.ts). */
import { expect } from 'chai';
import { makeClock } from '../../../lib/core/clock';
import { KV_LIMITS } from '../../../lib/kv/core/limits';
import { Outbox } from '../../../lib/kv/core/outbox';
import { KvVersion } from '../../../lib/kv/core/versions';

const O = '10.0.0.2:8080';
const version = (n: number, value: string = 'v'): KvVersion => ({ deleted: false, value, clock: makeClock([[O, n]]), timestamp: n, origin: O });

describe('kv outbox', () => {
  it('chains each write to the one sent before it, the first to what the peer already holds', () => {
    const box = new Outbox();
    box.enqueue(11, 'a', version(11), 10);
    box.enqueue(12, 'b', version(12), 11);
    const batch = box.take();
    expect(batch?.map((w) => [w.prev, w.seq])).to.deep.equal([[10, 11], [11, 12]]);
  });

  it('keeps one batch in flight; a failed batch goes back in front, in order', () => {
    const box = new Outbox();
    box.enqueue(1, 'a', version(1), 0);
    const first = box.take();
    box.enqueue(2, 'b', version(2), 1);
    expect(box.take(), 'nothing while a batch is in flight').to.equal(null);
    box.failed();
    expect(box.take()?.map((w) => w.seq)).to.deep.equal([1, 2]);
    expect(box.acked()).to.deep.equal([1, 2]);
    expect(first).to.have.length(1);
    expect(box.waiting).to.equal(0);
  });

  it('cuts batches at the byte bound', () => {
    const box = new Outbox();
    const big = 'x'.repeat(1000);
    for (let i = 1; i <= 10; i++) box.enqueue(i, `k${i}`, version(i, big), i - 1);
    expect(box.take(3000)?.length).to.be.within(1, 3);
  });

  it('past its bound it is cut: the chain breaks (prev null) until the peer pulls by anti-entropy', () => {
    const box = new Outbox();
    for (let i = 1; i <= KV_LIMITS.outboxWrites + 1; i++) box.enqueue(i, 'k', version(i), i - 1);
    expect(box.cuts).to.equal(1);
    expect(box.waiting).to.equal(0);
    box.enqueue(50_000, 'k', version(50_000), 49_999);
    expect(box.take()?.[0].prev).to.equal(null);
    box.acked();
    box.resumeFrom(50_000);
    box.enqueue(50_001, 'k', version(50_001), 50_000);
    expect(box.take()?.[0].prev).to.equal(50_000);
  });
});
