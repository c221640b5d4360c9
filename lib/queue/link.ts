/**
 * A DB's end of its gossip link to the queue: one connection, kept open,
 * over which the DB puts its digests on its own channel and receives every
 * chunk of its predecessor's the moment it is put (peer.ts is the other
 * end, frames.ts the wire format). SocketLink is the product; LocalLink
 * joins a DB to a Hub in the same process, for tests of whole rings.
 */
import http from 'node:http';
import type { Socket } from 'node:net';
import { StringDecoder } from 'node:string_decoder';
import type { Chunk } from '../core/gossip';
import { secretHeaders } from '../http/secret';
import { Frame, FrameDecoder, GOSSIP_UPGRADE } from './frames';
import { Hub, Subscriber } from './hub';
import { FrameWriter } from './frameWriter';

export interface LinkHandlers {
  /** A chunk of the inbox, in the channel's order; the link has told the queue it is held. */
  chunk(chunk: Chunk): void;
  /** The queue was cleared: drop whatever of the inbox is held. */
  cleared(): void;
  /** Connected (again): the queue now delivers what it holds for this DB. */
  up(): void;
  /** Disconnected: puts fail until up() again; reconnecting is the link's business. */
  down(reason: string): void;
}

export interface GossipLink {
  open(handlers: LinkHandlers): void;
  readonly connected: boolean;
  /** Put messages on this DB's channel, as one chunk; resolves once the queue has them safe. */
  put(messages: readonly string[]): Promise<void>;
  /** These chunks are merged into this DB's Redis: the queue may forget them. */
  done(ids: readonly string[]): void;
  /** Stop at once: no more frames either way. */
  close(): void;
}

/** How often a DB says it is there; the queue drops a link silent for LINK_IDLE_MS (peer.ts). */
const PING_MS = 1000;
/** A queue that has not answered for this long is gone: reconnect. */
const SILENT_MS = 3000;
const RECONNECT_MIN_MS = 50;
const RECONNECT_MAX_MS = 2000;
/** After the queue closed the link itself, wait at least this long before linking again. */
const QUEUE_CLOSED_RETRY_MS = 250;

export class LinkDownError extends Error {}

interface PendingPut {
  resolve: () => void;
  reject: (e: Error) => void;
}

export class SocketLink implements GossipLink {
  private handlers: LinkHandlers | null = null;
  private socket: Socket | null = null;
  private writer: FrameWriter | null = null;
  private pinger: NodeJS.Timeout | null = null;
  private retry: NodeJS.Timeout | null = null;
  private backoff = RECONNECT_MIN_MS;
  private closed = false;
  private nextSeq = 1;
  private readonly puts = new Map<number, PendingPut>();

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly inbox: string,
    private readonly outbox: string,
    private readonly onWarn: (message: string) => void = () => undefined,
    /** The cluster secret the queue wants, if any. */
    private readonly secret: string | null = null,
  ) {}

  get connected(): boolean {
    return this.writer !== null;
  }

  open(handlers: LinkHandlers): void {
    this.handlers = handlers;
    this.connect();
  }

  private connect(): void {
    if (this.closed) return;
    const path = `/q/${encodeURIComponent(this.inbox)}/subscribe?publish=${encodeURIComponent(this.outbox)}`;
    const req = http.request({
      host: this.host, port: this.port, path, agent: false,
      headers: { connection: 'Upgrade', upgrade: GOSSIP_UPGRADE, accept: 'application/json', ...secretHeaders(this.secret) },
    });
    req.setTimeout(SILENT_MS, () => req.destroy(new Error('no answer to the upgrade')));
    req.on('upgrade', (_res, socket: Socket, head: Buffer) => this.attach(socket, head));
    req.on('response', (res) => {
      res.resume();
      this.lost(`the queue refused the link: ${res.statusCode}`);
    });
    req.on('error', (e) => this.lost(e.message));
    req.end();
  }

  private attach(socket: Socket, head: Buffer): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    this.socket = socket;
    this.writer = new FrameWriter(socket);
    const decoder = new FrameDecoder();
    // One decoder for what came with the 101 and what follows: a character may be cut between them.
    const text = new StringDecoder('utf8');
    let heardAt = Date.now();
    const feed = (data: Buffer) => {
      heardAt = Date.now();
      let frames: Frame[];
      try {
        frames = decoder.feed(text.write(data));
      } catch (e) {
        socket.destroy(e as Error);
        return;
      }
      this.receive(frames);
    };
    socket.setNoDelay(true);
    socket.on('data', feed);
    socket.on('error', () => undefined); // 'close' follows, and says it
    socket.on('close', () => {
      if (this.socket === socket) this.lost('the link closed');
    });
    // Silence is judged by what the queue sends (it answers every ping): a socket's idle timer counts our writes too.
    this.pinger = setInterval(() => {
      if (Date.now() - heardAt >= SILENT_MS) socket.destroy(new Error(`the queue was silent for ${SILENT_MS} ms`));
      else this.writer?.write({ type: 'ping' });
    }, PING_MS);
    this.pinger.unref();
    this.handlers?.up();
    if (head.length > 0) feed(head);
  }

  private receive(frames: Frame[]): void {
    const got: string[] = [];
    for (const frame of frames) {
      switch (frame.type) {
        case 'chunk':
          this.handlers?.chunk({ id: frame.id, messages: frame.messages });
          got.push(frame.id);
          break;
        case 'accepted': {
          const put = this.puts.get(frame.seq);
          this.puts.delete(frame.seq);
          put?.resolve();
          break;
        }
        case 'cleared':
          this.handlers?.cleared();
          break;
        case 'error':
          this.onWarn(`the queue closes the link: ${frame.message}`);
          // Give a process being stopped (a harness clears the queue as it stops the DBs) time to stop first.
          this.backoff = Math.max(this.backoff, QUEUE_CLOSED_RETRY_MS);
          break;
        case 'pong':
          this.backoff = RECONNECT_MIN_MS; // the link has lived a ping's while: reconnect quickly next time
          break;
        default:
          break;
      }
    }
    if (got.length > 0) this.writer?.write({ type: 'got', ids: got });
  }

  /** The connection is gone (or never came): fail what waits on it, tell the DB, try again later. */
  private lost(reason: string): void {
    const wasUp = this.writer !== null;
    this.socket?.destroy();
    this.socket = null;
    this.writer = null;
    if (this.pinger) clearInterval(this.pinger);
    this.pinger = null;
    for (const put of this.puts.values()) put.reject(new LinkDownError(`queue link down: ${reason}`));
    this.puts.clear();
    if (wasUp) this.handlers?.down(reason);
    if (this.closed || this.retry) return;
    if (!wasUp) this.onWarn(`cannot link to the queue at ${this.host}:${this.port}: ${reason}`);
    this.retry = setTimeout(() => {
      this.retry = null;
      this.connect();
    }, this.backoff);
    this.retry.unref();
    this.backoff = Math.min(RECONNECT_MAX_MS, this.backoff * 2);
  }

  put(messages: readonly string[]): Promise<void> {
    const writer = this.writer;
    if (writer === null) return Promise.reject(new LinkDownError('queue link down'));
    const seq = this.nextSeq++;
    return new Promise<void>((resolve, reject) => {
      this.puts.set(seq, { resolve, reject });
      writer.write({ type: 'put', seq, messages });
    });
  }

  done(ids: readonly string[]): void {
    if (ids.length > 0) this.writer?.write({ type: 'done', ids });
  }

  close(): void {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
    this.lost('closed');
  }
}

/** A DB joined to a Hub in the same process: whole rings in unit tests, no sockets. */
export class LocalLink implements GossipLink {
  private subscriber: Subscriber | null = null;
  private handlers: LinkHandlers | null = null;

  constructor(
    private readonly hub: Hub,
    private readonly inbox: string,
    private readonly outbox: string,
  ) {}

  get connected(): boolean {
    return this.subscriber !== null;
  }

  open(handlers: LinkHandlers): void {
    this.handlers = handlers;
    this.reconnect();
  }

  /** What a lost connection does: puts fail, and what the DB held unapplied goes back to the hub. */
  disconnect(reason = 'disconnected'): void {
    if (this.subscriber === null) return;
    this.hub.unsubscribe(this.subscriber);
    this.subscriber = null;
    this.handlers?.down(reason);
  }

  reconnect(): void {
    const handlers = this.handlers;
    if (handlers === null || this.subscriber !== null) return;
    const subscriber: Subscriber = {
      deliver: (chunk) => {
        handlers.chunk(chunk);
        this.hub.got(subscriber, [chunk.id]);
      },
      cleared: () => handlers.cleared(),
      close: (reason) => {
        this.subscriber = null;
        handlers.down(reason);
      },
    };
    this.subscriber = subscriber;
    handlers.up();
    this.hub.subscribe(this.inbox, subscriber);
  }

  async put(messages: readonly string[]): Promise<void> {
    if (this.subscriber === null) throw new LinkDownError('queue link down');
    await this.hub.put(this.outbox, messages);
  }

  done(ids: readonly string[]): void {
    if (this.subscriber !== null) this.hub.done(this.subscriber, ids);
  }

  close(): void {
    this.disconnect('closed');
    this.handlers = null;
  }
}
