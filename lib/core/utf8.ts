/**
 * UTF-8 facts about a string without building its bytes. Hashing and the
 * tea-name length check run on every write and every gossip tuple;
 * TextEncoder allocated a buffer each time, and that garbage was a visible
 * share of a replica's CPU (README "Performance"). Lone surrogates count as
 * U+FFFD, exactly as TextEncoder (and so the wire) encodes them.
 */

const FNV_PRIME = 0x01000193;

/** The code point at s[i] as UTF-8 would encode it (a lone surrogate is U+FFFD), and its width in code units. */
function codePointAt(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c < 0xd800 || c > 0xdfff) return c;
  if (c <= 0xdbff && i + 1 < s.length) {
    const next = s.charCodeAt(i + 1);
    if (next >= 0xdc00 && next <= 0xdfff) return 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
  }
  return 0xfffd;
}

/** The number of bytes of `s` in UTF-8. */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else {
      const cp = codePointAt(s, i);
      if (cp > 0xffff) {
        n += 4;
        i++;
      } else n += 3;
    }
  }
  return n;
}

/** 32-bit FNV-1a over the UTF-8 bytes of `s`, starting from `seed`. */
export function fnv1aUtf8(s: string, seed: number): number {
  let h = seed;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) {
      h = Math.imul(h ^ c, FNV_PRIME);
    } else if (c < 0x800) {
      h = Math.imul(h ^ (0xc0 | (c >> 6)), FNV_PRIME);
      h = Math.imul(h ^ (0x80 | (c & 0x3f)), FNV_PRIME);
    } else {
      const cp = codePointAt(s, i);
      if (cp > 0xffff) {
        i++;
        h = Math.imul(h ^ (0xf0 | (cp >> 18)), FNV_PRIME);
        h = Math.imul(h ^ (0x80 | ((cp >> 12) & 0x3f)), FNV_PRIME);
      } else {
        h = Math.imul(h ^ (0xe0 | (cp >> 12)), FNV_PRIME);
      }
      h = Math.imul(h ^ (0x80 | ((cp >> 6) & 0x3f)), FNV_PRIME);
      h = Math.imul(h ^ (0x80 | (cp & 0x3f)), FNV_PRIME);
    }
  }
  return h >>> 0;
}
