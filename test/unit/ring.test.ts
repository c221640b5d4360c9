import { expect } from 'chai';
import fc from 'fast-check';
import { Ring, dbName, stableHash } from '../../lib/core/ring';
import { prng } from './helpers';

/** Pearson's chi-square statistic of the primaries of `names` over `size` buckets. */
function chiSquare(names: readonly string[], size: number): { counts: number[]; chi2: number } {
  const ring = new Ring(size);
  const counts = new Array<number>(size).fill(0);
  for (const name of names) counts[ring.primaryOf(name)]++;
  const expected = names.length / size;
  return { counts, chi2: counts.reduce((s, c) => s + (c - expected) ** 2 / expected, 0) };
}

function randomNames(n: number, seed: number): string[] {
  const random = prng(seed);
  const alphabet = 'abcdefghijklmnopqrstuvwxyz -ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789éü茶';
  return Array.from({ length: n }, () =>
    Array.from({ length: 1 + Math.floor(random() * 16) }, () => alphabet[Math.floor(random() * alphabet.length)]).join(''),
  );
}

describe('core/ring', () => {
  describe('stableHash', () => {
    it('is 32-bit FNV-1a: the published test vectors', () => {
      expect(stableHash('')).to.equal(0x811c9dc5);
      expect(stableHash('a')).to.equal(0xe40c292c);
      expect(stableHash('foobar')).to.equal(0xbf9cf968);
    });

    it('never changes for these tea names (a change would move every tea to another primary)', () => {
      const pinned: Record<string, number> = {
        zoo: 2457615403,
        green: 18738364,
        oolong: 1355702525,
        'earl grey': 2076361504,
        'thé': 714208685,
        '緑茶': 2323715868,
      };
      for (const [name, hash] of Object.entries(pinned)) expect(stableHash(name), name).to.equal(hash);
      expect(new Ring(4).primaryOf('zoo')).to.equal(2457615403 % 4);
      expect(new Ring(4).primaryOf('earl grey')).to.equal(0);
    });

    it('hashes the UTF-8 bytes, so composed and decomposed é differ but equal strings agree', () => {
      expect(stableHash('th\u00e9')).to.not.equal(stableHash('the\u0301'));
      expect(stableHash('th' + 'é')).to.equal(stableHash('thé'));
    });

    it('is an unsigned 32-bit integer and deterministic (property)', () => {
      fc.assert(
        fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), (s) => {
          const h = stableHash(s);
          expect(Number.isInteger(h) && h >= 0 && h <= 0xffffffff).to.equal(true);
          expect(stableHash(s)).to.equal(h);
          expect(stableHash(String(s))).to.equal(h);
        }),
        { numRuns: 300 },
      );
    });

    it('the default seed is the FNV offset basis, and another seed gives another hash', () => {
      for (const name of ['', 'zoo', '緑茶']) expect(stableHash(name, 0x811c9dc5)).to.equal(stableHash(name));
      expect(stableHash('zoo', 0x2c1b3c6d)).to.not.equal(stableHash('zoo'));
    });

    it('is case-sensitive, as tea names are', () => {
      expect(stableHash('Zoo')).to.not.equal(stableHash('zoo'));
    });
  });

  describe('Ring', () => {
    it('rejects a size that is not a positive integer', () => {
      for (const bad of [0, -1, 1.5, Number.NaN, Infinity]) expect(() => new Ring(bad), String(bad)).to.throw(RangeError);
    });

    it('primaryOf is in 0..size-1 for any name and size (property)', () => {
      fc.assert(
        fc.property(fc.string({ maxLength: 30 }), fc.integer({ min: 1, max: 64 }), (name, size) => {
          const p = new Ring(size).primaryOf(name);
          expect(Number.isInteger(p) && p >= 0 && p < size).to.equal(true);
        }),
        { numRuns: 300 },
      );
    });

    it('with one DB every tea is on DB 0', () => {
      for (const name of ['a', 'zoo', '緑茶']) expect(new Ring(1).primaryOf(name)).to.equal(0);
    });

    for (const size of [4, 7]) {
      it(`spreads 20000 names about uniformly over ${size} DBs (chi-square, loose bound)`, () => {
        const sequential = Array.from({ length: 20000 }, (_, i) => `tea-${i}`);
        for (const names of [sequential, randomNames(20000, 42)]) {
          const { counts, chi2 } = chiSquare(names, size);
          // df = size-1; the 0.1% critical values are 16.3 (df 3) and 22.5 (df 6). 40 only fails on real skew.
          expect(chi2, `counts ${counts.join(',')}`).to.be.below(40);
          for (const c of counts) expect(c).to.be.within(0.85 * (20000 / size), 1.15 * (20000 / size));
        }
      });
    }

    it('neighbourOf and predecessorOf are inverse and step round the ring', () => {
      for (const size of [1, 2, 3, 4, 7]) {
        const ring = new Ring(size);
        for (let id = 0; id < size; id++) {
          expect(ring.predecessorOf(ring.neighbourOf(id))).to.equal(id);
          expect(ring.neighbourOf(ring.predecessorOf(id))).to.equal(id);
          expect(ring.neighbourOf(id)).to.equal((id + 1) % size);
        }
      }
      expect(new Ring(4).neighbourOf(3)).to.equal(0);
      expect(new Ring(4).predecessorOf(0)).to.equal(3);
      expect(new Ring(1).neighbourOf(0)).to.equal(0);
    });

    it('following neighbourOf size times visits every DB once and returns to the start', () => {
      const ring = new Ring(5);
      const seen: number[] = [];
      let id = 3;
      for (let k = 0; k < 5; k++) {
        seen.push(id);
        id = ring.neighbourOf(id);
      }
      expect(id).to.equal(3);
      expect([...seen].sort()).to.deep.equal([0, 1, 2, 3, 4]);
    });

    it('walkFrom lists every DB once in ring order from the given one', () => {
      expect(new Ring(4).walkFrom(2)).to.deep.equal([2, 3, 0, 1]);
      expect(new Ring(4).walkFrom(0)).to.deep.equal([0, 1, 2, 3]);
      expect(new Ring(1).walkFrom(0)).to.deep.equal([0]);
      const ring = new Ring(7);
      for (let id = 0; id < 7; id++) {
        const walk = ring.walkFrom(id);
        expect(walk[0]).to.equal(id);
        for (let k = 1; k < walk.length; k++) expect(walk[k]).to.equal(ring.neighbourOf(walk[k - 1]));
      }
    });
  });

  it('dbName is db<i>', () => {
    expect(dbName(0)).to.equal('db0');
    expect(dbName(12)).to.equal('db12');
  });
});
