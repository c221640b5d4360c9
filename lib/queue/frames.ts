/**
 * The gossip link's wire format: what a DB and the queue say to each other
 * over the one connection a DB keeps open (an HTTP upgrade of
 * `GET /q/<inbox>/subscribe?publish=<outbox>`). Lines of text; a frame is a
 * header line, and a chunk or a put is followed by its messages, one per
 * line, as their JSON text (which never holds a raw newline). Pure: an
 * encoder, and a decoder fed whatever the socket delivers.
 *
 *   queue -> DB                          DB -> queue
 *   C <id> <n>  + n lines: a chunk       P <seq> <n> + n lines: put on my outbox
 *   A <seq>     put <seq> accepted       G <id>,<id>..  chunks held in memory
 *   X           the queue was cleared    D <id>,<id>..  chunks applied: forget them
 *   h           answer to H              H              are you there?
 *   E <text>    error; the queue closes
 */

import { LIMITS } from '../core/limits';

export type Frame =
  | { type: 'chunk'; id: string; messages: readonly string[] }
  | { type: 'put'; seq: number; messages: readonly string[] }
  | { type: 'accepted'; seq: number }
  | { type: 'got'; ids: readonly string[] }
  | { type: 'done'; ids: readonly string[] }
  | { type: 'cleared' }
  | { type: 'ping' }
  | { type: 'pong' }
  | { type: 'error'; message: string };

/** Bounds on what a peer can make the decoder hold: a line (in characters: a message may be a whole chunk's worth), and messages per frame. */
export const FRAME_LIMITS = Object.freeze({
  lineChars: LIMITS.chunk.chars,
  messagesPerFrame: 100_000,
});

export class FrameError extends Error {}

const ID = /^[0-9]{1,20}$/;
const COUNT = /^[1-9][0-9]{0,5}$/;

const tooLong = () => new FrameError(`a line longer than ${FRAME_LIMITS.lineChars} characters`);

function idsOf(text: string): string[] {
  const ids = text.split(',');
  if (ids.length > FRAME_LIMITS.messagesPerFrame || !ids.every((id) => ID.test(id))) throw new FrameError(`bad id list: ${text.slice(0, 80)}`);
  return ids;
}

export function encodeFrame(frame: Frame): string {
  switch (frame.type) {
    case 'chunk':
      return `C ${frame.id} ${frame.messages.length}\n${frame.messages.map((m) => `${m}\n`).join('')}`;
    case 'put':
      return `P ${frame.seq} ${frame.messages.length}\n${frame.messages.map((m) => `${m}\n`).join('')}`;
    case 'accepted':
      return `A ${frame.seq}\n`;
    case 'got':
      return `G ${frame.ids.join(',')}\n`;
    case 'done':
      return `D ${frame.ids.join(',')}\n`;
    case 'cleared':
      return 'X\n';
    case 'ping':
      return 'H\n';
    case 'pong':
      return 'h\n';
    case 'error':
      return `E ${frame.message.replace(/\n/g, ' ')}\n`;
  }
}

/** A frame whose messages are still arriving. */
interface Partial {
  type: 'chunk' | 'put';
  key: string;
  want: number;
  messages: string[];
}

/** Turns the text a socket delivers, in any pieces, into frames. Throws FrameError on a malformed stream. */
export class FrameDecoder {
  private buffer = '';
  private partial: Partial | null = null;

  feed(text: string): Frame[] {
    const frames: Frame[] = [];
    this.buffer = this.buffer.length === 0 ? text : this.buffer + text;
    let start = 0;
    for (let end = this.buffer.indexOf('\n', start); end !== -1; end = this.buffer.indexOf('\n', start)) {
      // However the socket cut the stream: a line too long is refused whole or in pieces alike.
      if (end - start > FRAME_LIMITS.lineChars) throw tooLong();
      const line = this.buffer.slice(start, end);
      start = end + 1;
      const frame = this.line(line);
      if (frame !== null) frames.push(frame);
    }
    this.buffer = start === 0 ? this.buffer : this.buffer.slice(start);
    if (this.buffer.length > FRAME_LIMITS.lineChars) throw tooLong();
    return frames;
  }

  private line(line: string): Frame | null {
    const partial = this.partial;
    if (partial !== null) {
      if (!line.startsWith('{')) throw new FrameError('a message line that is not a JSON object');
      partial.messages.push(line);
      if (partial.messages.length < partial.want) return null;
      this.partial = null;
      return partial.type === 'chunk'
        ? { type: 'chunk', id: partial.key, messages: partial.messages }
        : { type: 'put', seq: Number(partial.key), messages: partial.messages };
    }
    const kind = line[0];
    const rest = line.slice(2);
    switch (kind) {
      case 'C':
      case 'P': {
        const [key, count, extra] = rest.split(' ');
        const want = Number(count);
        if (extra !== undefined || !ID.test(key ?? '') || !COUNT.test(count ?? '') || want > FRAME_LIMITS.messagesPerFrame) {
          throw new FrameError(`bad frame header: ${line.slice(0, 80)}`);
        }
        this.partial = { type: kind === 'C' ? 'chunk' : 'put', key, want, messages: [] };
        return null;
      }
      case 'A':
        if (!ID.test(rest)) throw new FrameError(`bad frame header: ${line.slice(0, 80)}`);
        return { type: 'accepted', seq: Number(rest) };
      case 'G':
        return { type: 'got', ids: idsOf(rest) };
      case 'D':
        return { type: 'done', ids: idsOf(rest) };
      case 'X':
        return { type: 'cleared' };
      case 'H':
        return { type: 'ping' };
      case 'h':
        return { type: 'pong' };
      case 'E':
        return { type: 'error', message: rest };
      default:
        throw new FrameError(`unknown frame: ${line.slice(0, 80)}`);
    }
  }
}

/** The upgrade token both sides name in the HTTP handshake. */
export const GOSSIP_UPGRADE = 'tea-gossip';
