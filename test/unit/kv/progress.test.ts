/** The applied clock and its three ways up (lib/kv/core/progress.ts). */
import { expect } from 'chai';
import { makeClock } from '../../../lib/core/clock';
import { Progress } from '../../../lib/kv/core/progress';
import { KV_LIMITS } from '../../../lib/kv/core/limits';

const SELF = '10.0.0.2:8080';
const A = '10.0.0.3:8080';

describe('kv progress: what a node has applied', () => {
  it('numbers own writes above the start time x 1000 and applies them at once', () => {
    const p = new Progress(SELF, 5000);
    expect(p.nextSeq()).to.equal(5_000_001);
    expect(p.nextSeq()).to.equal(5_000_002);
    expect(p.appliedOf(SELF)).to.equal(5_000_002);
  });

  it('follows a replication chain in order and out of order', () => {
    const p = new Progress(SELF, 1);
    p.link(A, 0, 10);
    expect(p.appliedOf(A)).to.equal(10);
    p.link(A, 20, 30);
    expect(p.appliedOf(A), 'a link whose predecessor has not arrived waits').to.equal(10);
    p.link(A, 10, 20);
    expect(p.appliedOf(A)).to.equal(30);
    expect(p.pendingLinks()).to.equal(0);
  });

  it('a write with no predecessor to vouch for (a cut outbox) advances nothing', () => {
    const p = new Progress(SELF, 1);
    p.link(A, null, 10);
    expect(p.appliedOf(A)).to.equal(0);
  });

  it('joining a peer clock after a full pull raises applied and unblocks waiting links', () => {
    const p = new Progress(SELF, 1);
    p.link(A, 50, 60);
    p.joinClock(makeClock([[A, 50]]));
    expect(p.appliedOf(A)).to.equal(60);
  });

  it('an entry for this node from a peer (an earlier life) moves its own numbering past it', () => {
    const p = new Progress(SELF, 1);
    p.joinClock(makeClock([[SELF, 9_000]]));
    expect(p.nextSeq()).to.equal(9_001);
  });

  it('tells listeners when the clock rises', () => {
    const p = new Progress(SELF, 1);
    let calls = 0;
    const off = p.onAdvance(() => calls++);
    p.link(A, 0, 1);
    off();
    p.link(A, 1, 2);
    expect(calls).to.equal(1);
  });

  it('bounds the links it keeps waiting', () => {
    const p = new Progress(SELF, 1);
    for (let i = 0; i < KV_LIMITS.pendingLinks + 5; i++) p.link(A, 100 + 2 * i, 101 + 2 * i);
    expect(p.pendingLinks()).to.be.at.most(KV_LIMITS.pendingLinks);
  });
});
