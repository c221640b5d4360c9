/** Who belongs to the store, and how memberships converge (lib/kv/core/membership.ts). */
import { expect } from 'chai';
import { Membership } from '../../../lib/kv/core/membership';

const [A, B, C, D, E] = ['10.0.0.2:8080', '10.0.0.3:8080', '10.0.0.4:8080', '10.0.0.5:8080', '10.0.0.6:8080'];

describe('kv membership', () => {
  it('lists the start-up VIEW in its order, then added nodes in order of addition', () => {
    const m = new Membership([C, A, B]);
    m.add(E, A);
    m.add(D, A);
    expect(m.members()).to.deep.equal([C, A, B, E, D]);
  });

  it('a change made on one node reaches another through merge, and merging twice changes nothing', () => {
    const a = new Membership([A, B, C]);
    const b = new Membership([A, B, C]);
    a.add(D, A);
    a.remove(C, A);
    expect(b.merge(a.toJson())).to.have.deep.members([{ address: D, member: true }, { address: C, member: false }]);
    expect(b.members()).to.deep.equal([A, B, D]);
    expect(b.merge(a.toJson())).to.deep.equal([]);
    expect(b.fingerprint()).to.equal(a.fingerprint());
  });

  it('a later change wins over an earlier one whatever order they arrive in', () => {
    const a = new Membership([A, B]);
    a.add(C, A);
    const early = a.toJson();
    a.remove(C, A);
    const late = a.toJson();
    const x = new Membership([A, B]);
    x.merge(late);
    x.merge(early);
    expect(x.members()).to.deep.equal([A, B]);
  });

  it('concurrent changes with equal epochs settle the same way everywhere', () => {
    const a = new Membership([A, B]);
    const b = new Membership([A, B]);
    a.add(C, A);
    b.remove(C, B);
    const aJson = a.toJson();
    a.merge(b.toJson());
    b.merge(aJson);
    expect(a.members()).to.deep.equal(b.members());
  });

  it("a node's own VIEW is a belief, not taught: a node started with the new view is not a member until added", () => {
    const newcomer = new Membership([A, B, D]);
    const old = new Membership([A, B]);
    expect(old.merge(newcomer.toJson())).to.deep.equal([]);
    expect(old.members()).to.deep.equal([A, B]);
    old.add(D, A);
    newcomer.merge(old.toJson());
    expect(newcomer.members()).to.deep.equal([A, B, D]);
    expect(newcomer.epochOf(D)).to.equal(old.epochOf(D));
  });

  it('a change after merging takes an epoch above everything seen (a Lamport clock)', () => {
    const a = new Membership([A, B]);
    a.add(C, A);
    a.add(D, A);
    const b = new Membership([A, B]);
    b.merge(a.toJson());
    b.remove(D, B);
    expect(b.epochOf(D)).to.be.above(a.epochOf(D));
    a.merge(b.toJson());
    expect(a.members()).to.deep.equal([A, B, C]);
  });
});
