/**
 * The queue's end of a DB's gossip link: `GET /q/<inbox>/subscribe?publish=<outbox>`
 * upgraded to the line protocol of frames.ts. Over it the DB puts its
 * digests on its outbox and receives, at once, every chunk of its inbox
 * (hub.ts says when a put is answered and a chunk forgotten).
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { LIMITS } from '../core/limits';
import { carriesSecret } from '../http/secret';
import { Logger } from '../log';
import { channelOf } from './app';
import { Frame, FrameDecoder, GOSSIP_UPGRADE } from './frames';
import { FrameWriter } from './frameWriter';
import { Hub, Subscriber } from './hub';

/** A DB pings every second (link.ts); a link silent this long is gone, and what it held goes to the next subscriber. */
export const LINK_IDLE_MS = 5000;

function refuse(socket: Duplex, status: string, message: string): void {
  const body = JSON.stringify({ error: message });
  socket.end(`HTTP/1.1 ${status}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

/** Accept DBs' gossip links on the queue's HTTP server; with a cluster secret, only links that carry it. */
export function acceptGossipLinks(server: Server, hub: Hub, log: Logger, secret: string | null = null): void {
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    if (!carriesSecret(req.headers.authorization, secret)) {
      refuse(socket, '401 Unauthorized', 'the gossip link needs the cluster secret (Authorization: Bearer <the secret>)');
      return;
    }
    const url = new URL(req.url ?? '/', 'http://queue');
    const match = /^\/q\/([^/]+)\/subscribe$/.exec(url.pathname);
    if (match === null || String(req.headers.upgrade).toLowerCase() !== GOSSIP_UPGRADE) {
      refuse(socket, '400 Bad Request', `only GET /q/<channel>/subscribe upgrades, to ${GOSSIP_UPGRADE}`);
      return;
    }
    let inbox: string;
    let outbox: string | null;
    try {
      inbox = channelOf(decodeURIComponent(match[1]));
      const publish = url.searchParams.get('publish');
      outbox = publish === null ? null : channelOf(publish);
    } catch (e) {
      refuse(socket, '400 Bad Request', (e as Error).message);
      return;
    }
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: ${GOSSIP_UPGRADE}\r\nConnection: Upgrade\r\n\r\n`);
    try {
      new QueuePeer(socket, hub, inbox, outbox, log).start(head);
    } catch (e) {
      log.error(`gossip link for ${inbox}: ${(e as Error).stack ?? e}`);
      socket.destroy();
    }
  });
}

class QueuePeer implements Subscriber {
  private readonly decoder = new FrameDecoder();
  private readonly out: FrameWriter;
  /** Closed by the queue: whatever the DB still sends is not taken. */
  private closed = false;
  private heardAt = Date.now();

  constructor(
    private readonly socket: Duplex,
    private readonly hub: Hub,
    private readonly inbox: string,
    private readonly outbox: string | null,
    private readonly log: Logger,
  ) {
    this.out = new FrameWriter(socket);
  }

  start(head: Buffer): void {
    const { socket } = this;
    // An HTTP server's socket refuses setEncoding: decode here, keeping characters split across packets whole.
    const text = new StringDecoder('utf8');
    (socket as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
    // Silence is judged by what the DB sends (it pings every second): a socket's own idle timer is reset by our writes too.
    const watchdog = setInterval(() => {
      if (Date.now() - this.heardAt >= LINK_IDLE_MS) socket.destroy();
    }, LINK_IDLE_MS / 5);
    watchdog.unref();
    socket.on('data', (data: Buffer) => {
      this.heardAt = Date.now();
      this.receive(text.write(data));
    });
    // A DB that closes its end is gone: do not wait for the watchdog to notice.
    socket.on('end', () => socket.destroy());
    socket.on('close', () => {
      clearInterval(watchdog);
      this.hub.unsubscribe(this);
    });
    this.hub.subscribe(this.inbox, this);
    if (head.length > 0) this.receive(text.write(head));
  }

  private receive(text: string): void {
    if (this.closed) return;
    let frames: Frame[];
    try {
      frames = this.decoder.feed(text);
    } catch (e) {
      this.fail(`malformed link data: ${(e as Error).message}`);
      return;
    }
    for (const frame of frames) if (!this.closed) this.handle(frame);
  }

  private handle(frame: Frame): void {
    switch (frame.type) {
      case 'put': {
        if (this.outbox === null) return this.fail('this link publishes nowhere (no ?publish=)');
        const chars = frame.messages.reduce((n, m) => n + m.length, 0);
        if (frame.messages.length > LIMITS.chunk.messages || chars > LIMITS.chunk.chars) {
          return this.fail(`a put of ${frame.messages.length} messages, ${chars} characters; at most ${LIMITS.chunk.messages} and ${LIMITS.chunk.chars}`);
        }
        const seq = frame.seq;
        void this.hub.put(this.outbox, frame.messages).then(() => this.out.write({ type: 'accepted', seq }));
        return;
      }
      case 'got':
        return this.hub.got(this, frame.ids);
      case 'done':
        return this.hub.done(this, frame.ids);
      case 'ping':
        return this.out.write({ type: 'pong' });
      default:
        return this.fail(`a DB does not send ${frame.type} frames`);
    }
  }

  private fail(message: string): void {
    this.log.warnEvery(`link-${this.inbox}`, 5000, `gossip link for ${this.inbox}: ${message}; closing it`);
    this.close(message);
  }

  deliver(chunk: { id: string; messages: readonly string[] }): void {
    this.out.write({ type: 'chunk', id: chunk.id, messages: chunk.messages });
  }

  cleared(): void {
    this.out.write({ type: 'cleared' });
  }

  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.out.write({ type: 'error', message: reason });
    this.socket.end();
    // The DB may not close its end: do not wait for it.
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }
}
