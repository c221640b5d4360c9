/**
 * A fault-injecting TCP proxy for the partition test: it listens on one port
 * and forwards every connection to a target. `cut()` destroys the connections
 * it carries and blackholes new ones: it accepts them and holds them without
 * forwarding a byte, so the peer waits until its own timeout, as it would
 * behind a real partition. `heal()` forwards new connections again (the held
 * ones are dropped: their clients gave up on them long ago).
 */
import net from 'node:net';

export class Proxy {
  private server: net.Server | null = null;
  private readonly live = new Set<net.Socket>();
  private readonly held = new Set<net.Socket>();
  private isCut = false;
  /** Connections accepted while cut: for the report. */
  blackholed = 0;

  constructor(
    readonly listenPort: number,
    readonly targetHost: string,
    readonly targetPort: number,
    readonly listenHost = targetHost,
  ) {}

  get cutOff(): boolean {
    return this.isCut;
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const server = net.createServer((client) => this.accept(client));
      server.once('error', (e: NodeJS.ErrnoException) => {
        reject(e.code === 'EADDRINUSE' ? new Error(`proxy: port ${this.listenPort} is already in use`) : e);
      });
      server.listen(this.listenPort, this.listenHost, () => {
        server.removeAllListeners('error');
        server.on('error', () => {});
        this.server = server;
        resolve();
      });
    });
  }

  private accept(client: net.Socket): void {
    client.on('error', () => {});
    if (this.isCut) {
      // Blackhole: keep the socket, read nothing, answer nothing.
      this.blackholed++;
      client.pause();
      this.held.add(client);
      client.once('close', () => this.held.delete(client));
      return;
    }
    const upstream = net.connect({ host: this.targetHost, port: this.targetPort });
    upstream.on('error', () => {});
    this.live.add(client);
    this.live.add(upstream);
    const drop = () => {
      this.live.delete(client);
      this.live.delete(upstream);
      client.destroy();
      upstream.destroy();
    };
    client.once('close', drop);
    upstream.once('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  }

  /** Destroy every forwarded connection (with a reset) and blackhole new ones. */
  cut(): void {
    this.isCut = true;
    for (const socket of this.live) reset(socket);
    this.live.clear();
  }

  heal(): void {
    this.isCut = false;
    for (const socket of this.held) socket.destroy();
    this.held.clear();
  }

  close(): Promise<void> {
    for (const socket of [...this.live, ...this.held]) socket.destroy();
    this.live.clear();
    this.held.clear();
    const server = this.server;
    this.server = null;
    if (!server) return Promise.resolve();
    return new Promise((resolve) => server.close(() => resolve()));
  }
}

/** Close with a TCP reset, like a connection lost to the network, where Node can. */
function reset(socket: net.Socket): void {
  const s = socket as net.Socket & { resetAndDestroy?: () => void };
  if (typeof s.resetAndDestroy === 'function' && s.readyState !== 'opening') {
    try {
      s.resetAndDestroy();
      return;
    } catch {
      // fall through
    }
  }
  socket.destroy();
}
