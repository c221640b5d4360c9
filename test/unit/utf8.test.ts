import { expect } from 'chai';
import fc from 'fast-check';
import { fnv1aUtf8, utf8Length } from '../../lib/core/utf8';

const encoder = new TextEncoder();

/** The definition: FNV-1a over the bytes TextEncoder produces. */
function fnvOfBytes(bytes: Uint8Array, seed: number): number {
  let h = seed;
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193);
  return h >>> 0;
}

// Every kind of UTF-16 input: ASCII, 2- and 3-byte characters, surrogate pairs, and lone or
// reversed surrogates (which TextEncoder turns into U+FFFD).
const anyString = fc.oneof(
  fc.string({ unit: 'binary' }),
  fc.string({ unit: 'grapheme' }),
  fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 20 }).map((units) => String.fromCharCode(...units)),
  fc.array(fc.constantFrom(0xd800, 0xdbff, 0xdc00, 0xdfff, 0x41, 0x7ff, 0x800, 0xffff), { maxLength: 12 }).map((units) => String.fromCharCode(...units)),
);

describe('core/utf8', () => {
  it('utf8Length is the length of what TextEncoder produces, for any string', () => {
    fc.assert(fc.property(anyString, (s) => utf8Length(s) === encoder.encode(s).length), { numRuns: 2000 });
  });

  it('fnv1aUtf8 is FNV-1a over the bytes TextEncoder produces, for any string and seed', () => {
    fc.assert(
      fc.property(anyString, fc.integer({ min: 0, max: 0xffffffff }), (s, seed) => fnv1aUtf8(s, seed) === fnvOfBytes(encoder.encode(s), seed)),
      { numRuns: 2000 },
    );
  });

  it('counts each width at its boundaries', () => {
    expect(utf8Length('\u007f')).to.equal(1);
    expect(utf8Length('\u0080')).to.equal(2);
    expect(utf8Length('\u07ff')).to.equal(2);
    expect(utf8Length('\u0800')).to.equal(3);
    expect(utf8Length('\uffff')).to.equal(3);
    expect(utf8Length('\u{10000}')).to.equal(4);
    expect(utf8Length('\u{10ffff}')).to.equal(4);
    expect(utf8Length('\ud800')).to.equal(3); // lone: U+FFFD
    expect(utf8Length('\udc00\ud800')).to.equal(6); // reversed pair: two U+FFFD
  });
});
