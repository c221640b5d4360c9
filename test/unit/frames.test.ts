/**
 * The gossip link's line protocol (lib/queue/frames.ts): every frame type
 * survives encode -> decode, however the text arrives (byte by byte, in
 * random pieces, several frames at once), and every malformed input is a
 * FrameError rather than a frame.
 */
import { StringDecoder } from 'node:string_decoder';
import { expect } from 'chai';
import fc from 'fast-check';
import { FRAME_LIMITS, Frame, FrameDecoder, FrameError, encodeFrame } from '../../lib/queue/frames';

/** Messages as a DB sends them: JSON objects, some with multi-byte UTF-8 and escapes. */
const MESSAGES = [
  '{"primary":"db0","key":"zoo","rating":5}',
  '{"key":"茶","note":"🍵 sencha – ½ cup"}',
  '{"q":"say \\"hi\\"","path":"C:\\\\tea","nl":"a\\nb"}',
  '{}',
];

/** One of every frame type, with awkward but legal contents. */
const EVERY_FRAME: Frame[] = [
  { type: 'chunk', id: '1712345678901000', messages: MESSAGES },
  { type: 'chunk', id: '0', messages: ['{"one":1}'] },
  { type: 'put', seq: 1, messages: ['{"a":1}'] },
  { type: 'put', seq: 987654, messages: MESSAGES },
  { type: 'accepted', seq: 42 },
  { type: 'got', ids: ['1'] },
  { type: 'got', ids: ['1712345678901000', '1712345678901001', '99999999999999999999'] },
  { type: 'done', ids: ['7', '8', '9'] },
  { type: 'cleared' },
  { type: 'ping' },
  { type: 'pong' },
  { type: 'error', message: 'another subscriber took this channel' },
  { type: 'error', message: '' },
];

/** Plain objects, so deep equality does not trip over readonly arrays. */
const plain = (frames: readonly Frame[]) => JSON.parse(JSON.stringify(frames)) as Frame[];

function decodeAll(pieces: readonly string[]): Frame[] {
  const decoder = new FrameDecoder();
  return pieces.flatMap((piece) => decoder.feed(piece));
}

/** The encoded text as bytes, cut at `cuts` and decoded as a socket does (a character split between reads stays whole). */
function decodeBytes(text: string, cuts: readonly number[]): Frame[] {
  const bytes = Buffer.from(text, 'utf8');
  const utf8 = new StringDecoder('utf8');
  const decoder = new FrameDecoder();
  const frames: Frame[] = [];
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    frames.push(...decoder.feed(utf8.write(bytes.subarray(from, cut))));
    from = cut;
  }
  return frames;
}

function expectFrameError(feed: (decoder: FrameDecoder) => unknown, mentions?: RegExp): void {
  const decoder = new FrameDecoder();
  let thrown: unknown = null;
  try {
    feed(decoder);
  } catch (e) {
    thrown = e;
  }
  expect(thrown, 'expected a FrameError').to.be.instanceOf(FrameError);
  if (mentions) expect((thrown as Error).message).to.match(mentions);
}

const messageArb = fc
  .dictionary(fc.string({ unit: 'grapheme', maxLength: 6 }), fc.oneof(fc.string({ unit: 'grapheme', maxLength: 12 }), fc.integer()), { maxKeys: 3 })
  .map((o) => JSON.stringify(o));
const messagesArb = fc.array(messageArb, { minLength: 1, maxLength: 5 });
const idArb = fc.bigInt({ min: 0n, max: 10n ** 20n - 1n }).map(String);
const seqArb = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });

const frameArb: fc.Arbitrary<Frame> = fc.oneof(
  fc.record({ type: fc.constant('chunk' as const), id: idArb, messages: messagesArb }),
  fc.record({ type: fc.constant('put' as const), seq: seqArb, messages: messagesArb }),
  fc.record({ type: fc.constant('accepted' as const), seq: seqArb }),
  fc.record({ type: fc.constant('got' as const), ids: fc.array(idArb, { minLength: 1, maxLength: 4 }) }),
  fc.record({ type: fc.constant('done' as const), ids: fc.array(idArb, { minLength: 1, maxLength: 4 }) }),
  fc.constant({ type: 'cleared' as const }),
  fc.constant({ type: 'ping' as const }),
  fc.constant({ type: 'pong' as const }),
  fc.record({ type: fc.constant('error' as const), message: fc.string({ unit: 'grapheme', maxLength: 20 }).map((s) => s.replace(/\n/g, ' ')) }),
);

describe('queue/frames', () => {
  describe('encode then decode', () => {
    for (const frame of EVERY_FRAME) {
      it(`round-trips ${frame.type} ${JSON.stringify(frame).slice(0, 60)}`, () => {
        const text = encodeFrame(frame);
        expect(text.endsWith('\n')).to.equal(true);
        expect(plain(new FrameDecoder().feed(text))).to.deep.equal(plain([frame]));
      });
    }

    it('writes a chunk or a put as a header line and one line per message', () => {
      expect(encodeFrame({ type: 'chunk', id: '17', messages: ['{"a":1}', '{"b":2}'] })).to.equal('C 17 2\n{"a":1}\n{"b":2}\n');
      expect(encodeFrame({ type: 'put', seq: 3, messages: ['{"a":1}'] })).to.equal('P 3 1\n{"a":1}\n');
      expect(encodeFrame({ type: 'got', ids: ['1', '2'] })).to.equal('G 1,2\n');
    });

    it('keeps an error message on one line (its newlines become spaces)', () => {
      const text = encodeFrame({ type: 'error', message: 'first\nsecond\nthird' });
      expect(text.split('\n')).to.have.length(2);
      expect(plain(new FrameDecoder().feed(text))).to.deep.equal([{ type: 'error', message: 'first second third' }]);
    });

    it('decodes several frames fed at once, in order', () => {
      const text = EVERY_FRAME.map(encodeFrame).join('');
      expect(plain(new FrameDecoder().feed(text))).to.deep.equal(plain(EVERY_FRAME));
    });

    it('decodes the text fed one character at a time, each frame exactly when its last line ends', () => {
      const decoder = new FrameDecoder();
      for (const frame of EVERY_FRAME) {
        const text = encodeFrame(frame);
        for (let k = 0; k < text.length - 1; k++) expect(decoder.feed(text[k]), `${frame.type} before its end`).to.deep.equal([]);
        expect(plain(decoder.feed(text[text.length - 1]))).to.deep.equal(plain([frame]));
      }
    });

    it('decodes the bytes fed one at a time through a UTF-8 decoder, multi-byte characters included', () => {
      const text = EVERY_FRAME.map(encodeFrame).join('');
      const everyByte = Array.from({ length: Buffer.byteLength(text) - 1 }, (_, k) => k + 1);
      expect(plain(decodeBytes(text, everyByte))).to.deep.equal(plain(EVERY_FRAME));
    });

    it('keeps 4-byte characters whole when a read ends inside one', () => {
      const frame: Frame = { type: 'chunk', id: '5', messages: ['{"t":"🍵🍵"}'] };
      const text = encodeFrame(frame);
      const teaAt = Buffer.from(text).indexOf(Buffer.from('🍵'));
      for (let inside = 1; inside < 4; inside++) {
        expect(plain(decodeBytes(text, [teaAt + inside])), `cut ${inside} bytes into the character`).to.deep.equal(plain([frame]));
      }
    });

    it('any frames, cut anywhere, decode to the same frames (property)', () => {
      fc.assert(
        fc.property(fc.array(frameArb, { minLength: 1, maxLength: 8 }), fc.array(fc.nat(), { maxLength: 12 }), (frames, rawCuts) => {
          const text = frames.map(encodeFrame).join('');
          const bytes = Buffer.byteLength(text);
          const cuts = [...new Set(rawCuts.map((c) => c % (bytes + 1)))].sort((a, b) => a - b);
          expect(plain(decodeBytes(text, cuts))).to.deep.equal(plain(frames));
          const charCuts = cuts.map((c) => Math.min(c, text.length));
          const pieces = [0, ...charCuts].map((from, k) => text.slice(from, [...charCuts, text.length][k]));
          expect(plain(decodeAll(pieces))).to.deep.equal(plain(frames));
        }),
        { numRuns: 300 },
      );
    });

    it('holds an unfinished line until its newline arrives, however many pieces it takes', () => {
      const decoder = new FrameDecoder();
      expect(decoder.feed('C 9 2\n{"a"')).to.deep.equal([]);
      expect(decoder.feed(':1}\n{"b":')).to.deep.equal([]);
      expect(decoder.feed('')).to.deep.equal([]);
      expect(plain(decoder.feed('2}\nH\nA 4'))).to.deep.equal([{ type: 'chunk', id: '9', messages: ['{"a":1}', '{"b":2}'] }, { type: 'ping' }]);
      expect(plain(decoder.feed('\n'))).to.deep.equal([{ type: 'accepted', seq: 4 }]);
    });

    it('accepts a chunk of exactly the message limit, and a partial line of exactly the line limit', () => {
      const messages = Array.from({ length: FRAME_LIMITS.messagesPerFrame }, () => '{}');
      const [chunk] = new FrameDecoder().feed(encodeFrame({ type: 'chunk', id: '1', messages }));
      expect(chunk.type === 'chunk' && chunk.messages.length).to.equal(FRAME_LIMITS.messagesPerFrame);
      const decoder = new FrameDecoder();
      expect(decoder.feed(`C 1 1\n{${'x'.repeat(FRAME_LIMITS.lineChars - 1)}`)).to.deep.equal([]);
    });
  });

  describe('malformed input is a FrameError', () => {
    const cases: [string, string, RegExp?][] = [
      ['an unknown frame letter', 'Z 1\n', /unknown frame/],
      ['an empty line', '\n', /unknown frame/],
      ['a lower-case letter that is no frame', 'c 1 1\n{}\n', /unknown frame/],
      ['a chunk id that is not a number', 'C abc 1\n{}\n', /header/],
      ['a chunk id that is negative', 'C -1 1\n{}\n', /header/],
      ['a chunk id of 21 digits', `C ${'1'.repeat(21)} 1\n{}\n`, /header/],
      ['a chunk without a count', 'C 1\n', /header/],
      ['a chunk of n = 0 messages', 'C 1 0\n', /header/],
      ['a put of n = 0 messages', 'P 1 0\n', /header/],
      ['a chunk of a negative count', 'C 1 -2\n', /header/],
      ['a chunk of a fractional count', 'C 1 1.5\n{}\n', /header/],
      ['a chunk of more messages than the limit', `C 1 ${FRAME_LIMITS.messagesPerFrame + 1}\n`, /header/],
      ['a put of more messages than the limit', `P 1 ${FRAME_LIMITS.messagesPerFrame + 1}\n`, /header/],
      ['an accepted seq that is not a number', 'A x\n', /header/],
      ['an accepted without a seq', 'A\n', /header/],
      ['a got with an empty id list', 'G \n', /id list/],
      ['a got with an empty id in the list', 'G 1,,2\n', /id list/],
      ['a got with a non-numeric id', 'G 1,x\n', /id list/],
      ['a done with a negative id', 'D -4\n', /id list/],
      ['a done with a space after the comma', 'D 1, 2\n', /id list/],
      ['a message line that is not a JSON object', 'C 1 2\n{"a":1}\n["not","an","object"]\n', /not a JSON object/],
      ['a message line that is a frame header', 'P 1 1\nH\n', /not a JSON object/],
      ['an empty message line', 'C 1 1\n\n', /not a JSON object/],
    ];
    for (const [what, text, mentions] of cases) {
      it(what, () => expectFrameError((d) => d.feed(text), mentions));
    }

    it('a got or done of more ids than the limit', () => {
      const ids = Array.from({ length: FRAME_LIMITS.messagesPerFrame + 1 }, (_, k) => String(k)).join(',');
      expectFrameError((d) => d.feed(`G ${ids}\n`), /id list/);
      expectFrameError((d) => d.feed(`D ${ids}\n`), /id list/);
    });

    it('a line longer than the limit without a newline, in one piece', () => {
      expectFrameError((d) => d.feed(`C 1 1\n{${'x'.repeat(FRAME_LIMITS.lineChars)}`), /longer than/);
    });

    it('a line longer than the limit without a newline, arriving in pieces', () => {
      const piece = 'x'.repeat(1024 * 1024);
      expectFrameError((d) => {
        d.feed('C 1 1\n{');
        for (let k = 0; k * piece.length <= FRAME_LIMITS.lineChars; k++) d.feed(piece);
      }, /longer than/);
    });

    it('a line longer than the limit is refused however the socket cuts it, even when its newline comes in the same read', () => {
      // The same bytes cut into 64 KB reads are refused (test above): whether a peer's frame is
      // accepted must not depend on how the network happened to split it.
      expectFrameError((d) => d.feed(`C 1 1\n{${'x'.repeat(FRAME_LIMITS.lineChars)}}\n`), /longer than/);
    });

    it('a malformed frame after good ones still throws, and the good ones were returned before', () => {
      const decoder = new FrameDecoder();
      expect(plain(decoder.feed('H\nA 1\n'))).to.deep.equal([{ type: 'ping' }, { type: 'accepted', seq: 1 }]);
      expectFrameError(() => decoder.feed('Q\n'));
    });
  });
});
