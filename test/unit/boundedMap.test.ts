/** BoundedMap: a cache within a count and a total size, whatever its entries weigh (issue 16). */
import { expect } from 'chai';
import fc from 'fast-check';
import { BoundedMap } from '../../lib/core/boundedMap';

describe('core/boundedMap', () => {
  it('keeps the most recent entries within the count: exactly at it nothing goes, one more pushes out the oldest', () => {
    const m = new BoundedMap<string, number>(3, Infinity);
    expect([...'abc'].flatMap((k, i) => m.set(k, i, 1))).to.deep.equal([]);
    expect(m.set('a', 10, 1), 'setting again makes it the newest').to.deep.equal([]);
    expect(m.set('d', 3, 1)).to.deep.equal([['b', 1]]);
    expect([m.get('a'), m.get('b'), m.get('c'), m.get('d')]).to.deep.equal([10, undefined, 2, 3]);
  });

  it('keeps the entries within the total size: exactly at it nothing goes, one over pushes out as many oldest as it takes', () => {
    const m = new BoundedMap<string, string>(100, 10);
    m.set('a', 'A', 4);
    m.set('b', 'B', 3);
    expect(m.set('c', 'C', 3)).to.deep.equal([]);
    expect(m.weight).to.equal(10);
    expect(m.set('d', 'D', 8)).to.deep.equal([['a', 'A'], ['b', 'B'], ['c', 'C']]);
    expect([m.size, m.weight]).to.deep.equal([1, 8]);
    m.delete('d');
    expect([m.size, m.weight]).to.deep.equal([0, 0]);
  });

  it('never holds more than its bounds, whatever is set (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 30 }))), (sets) => {
        const m = new BoundedMap<number, number>(5, 50);
        for (const [key, size] of sets) {
          m.set(key, size, size);
          expect(m.size).to.be.at.most(5);
          expect(m.weight).to.be.at.most(50);
          expect(m.get(key), 'the newest entry is kept').to.equal(size);
        }
      }),
    );
  });
});
