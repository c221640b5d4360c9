import { expect } from 'chai';
import fc from 'fast-check';
import { append, emptyDigest, isFull, putBack, take } from '../../lib/core/digest';

describe('core/digest', () => {
  it('emptyDigest rejects a length that is not a positive integer', () => {
    for (const bad of [0, -1, 2.5, Number.NaN]) expect(() => emptyDigest(bad), String(bad)).to.throw(RangeError);
    expect(emptyDigest(3)).to.deep.equal({ tuples: [], length: 3 });
  });

  it('is full exactly when length or more tuples wait', () => {
    let d = emptyDigest<string>(3);
    expect(isFull(d)).to.equal(false);
    d = append(d, 'a');
    d = append(d, 'b');
    expect(isFull(d)).to.equal(false);
    d = append(d, 'c');
    expect(isFull(d)).to.equal(true);
    expect(isFull(append(d, 'd'))).to.equal(true);
    expect(isFull(append(emptyDigest<string>(1), 'x'))).to.equal(true);
  });

  it('append keeps arrival order', () => {
    const d = ['a', 'b', 'c'].reduce((acc, t) => append(acc, t), emptyDigest<string>(10));
    expect(d.tuples).to.deep.equal(['a', 'b', 'c']);
  });

  it('appending several at once is appending them one by one, and leaves the old digest as it was', () => {
    fc.assert(
      fc.property(fc.array(fc.string()), fc.array(fc.string()), fc.integer({ min: 1, max: 5 }), (before, added, length) => {
        const start = before.reduce((acc, t) => append(acc, t), emptyDigest<string>(length));
        const atOnce = append(start, ...added);
        const oneByOne = added.reduce((acc, t) => append(acc, t), start);
        expect(atOnce).to.deep.equal(oneByOne);
        expect(start.tuples).to.deep.equal(before);
      }),
    );
  });

  it('take returns every tuple oldest first and an empty digest of the same length', () => {
    const d = append(append(emptyDigest<string>(2), 'a'), 'b');
    const { tuples, digest } = take(d);
    expect(tuples).to.deep.equal(['a', 'b']);
    expect(digest.tuples).to.deep.equal([]);
    expect(digest.length).to.equal(2);
  });

  it('putBack puts the unsent tuples in front of the ones appended since', () => {
    const taken = take(append(append(emptyDigest<string>(2), 'a'), 'b'));
    const later = append(taken.digest, 'c');
    const back = putBack(later, ['b']);
    expect(back.tuples).to.deep.equal(['b', 'c']);
    expect(back.length).to.equal(2);
    expect(isFull(back)).to.equal(true);
  });

  it('no operation changes the digest it is given', () => {
    const d0 = emptyDigest<string>(2);
    const d1 = append(d0, 'a');
    const d2 = append(d1, 'b');
    const snapshot = JSON.stringify([d0, d1, d2]);
    take(d2);
    putBack(d2, ['x', 'y']);
    append(d2, 'c');
    expect(JSON.stringify([d0, d1, d2])).to.equal(snapshot);
    expect(d0.tuples).to.have.length(0);
    expect(d1.tuples).to.deep.equal(['a']);
    expect(append(d1, 'z')).to.not.equal(d1);
  });

  it('take does not share a mutable array with the next digest', () => {
    const { tuples, digest } = take(append(emptyDigest<string>(5), 'a'));
    const next = append(digest, 'b');
    expect(tuples).to.deep.equal(['a']);
    expect(next.tuples).to.deep.equal(['b']);
  });
});
