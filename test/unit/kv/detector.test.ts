/** Failure detection by probing, the pure part (lib/kv/core/detector.ts). */
import { expect } from 'chai';
import { makeClock } from '../../../lib/core/clock';
import { FailureDetector } from '../../../lib/kv/core/detector';

const P = '10.0.0.3:8080';
const facts = (incarnation: number, ready = true) => ({ ready, incarnation, applied: makeClock() });

describe('kv failure detector', () => {
  it('trusts a new peer, marks it down after downAfterMs without a successful probe, and back on the next success', () => {
    const d = new FailureDetector(2000);
    d.watch(P, 0);
    expect(d.isAlive(P)).to.equal(true);
    expect(d.failed(P, 1999)).to.deep.equal([]);
    expect(d.failed(P, 2000)).to.deep.equal([{ kind: 'down', peer: P }]);
    expect(d.tick(3000), 'down once, not on every probe').to.deep.equal([]);
    expect(d.succeeded(P, 3100, facts(1))).to.deep.equal([{ kind: 'back', peer: P }]);
    expect(d.isAlive(P)).to.equal(true);
  });

  it('probes that never return count too: tick expires a silent peer', () => {
    const d = new FailureDetector(2000);
    d.watch(P, 0);
    d.succeeded(P, 500, facts(1));
    expect(d.tick(2499)).to.deep.equal([]);
    expect(d.tick(2500)).to.deep.equal([{ kind: 'down', peer: P }]);
  });

  it('tells a restart (new incarnation) and a peer that has caught up', () => {
    const d = new FailureDetector(2000);
    d.watch(P, 0);
    d.succeeded(P, 10, facts(1));
    expect(d.succeeded(P, 20, facts(2, false))).to.deep.equal([{ kind: 'restarted', peer: P }]);
    expect(d.isServing(P)).to.equal(false);
    expect(d.succeeded(P, 30, facts(2, true))).to.deep.equal([{ kind: 'ready', peer: P }]);
    expect(d.isServing(P)).to.equal(true);
  });

  it('ignores peers it does not watch', () => {
    const d = new FailureDetector(2000);
    expect(d.succeeded(P, 10, facts(1))).to.deep.equal([]);
    expect(d.isAlive(P)).to.equal(false);
  });
});
