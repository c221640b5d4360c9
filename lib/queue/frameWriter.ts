/** Writing frames (frames.ts) to a socket: both ends of the gossip link use it. */
import type { Duplex } from 'node:stream';
import { Frame, encodeFrame } from './frames';

/**
 * Writes frames to a socket, several per event-loop turn in one system call:
 * a busy link sends many small frames (answers, acknowledgements) at once.
 */
export class FrameWriter {
  private corked = false;

  constructor(private readonly socket: Duplex) {}

  write(frame: Frame): void {
    if (this.socket.destroyed) return;
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(() => {
        this.corked = false;
        this.socket.uncork();
      });
    }
    this.socket.write(encodeFrame(frame));
  }
}
