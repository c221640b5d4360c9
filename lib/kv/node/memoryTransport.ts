/**
 * An in-memory stand-in for the HTTP transport: nodes of one process call
 * each other's handlers directly, bodies go through JSON as on the wire, and
 * a test can cut links (calls fail as a refused connection would) to stage
 * crashes and partitions without sockets.
 */
import { PeerHandler, PeerMethod, Transport } from './transport';

export class MemoryNetwork {
  private readonly handlers = new Map<string, PeerHandler>();
  private readonly cut = new Set<string>();
  /** Every call made, for tests that count traffic. */
  readonly calls: { from: string; to: string; method: PeerMethod }[] = [];

  attach(address: string, handler: PeerHandler): void {
    this.handlers.set(address, handler);
  }

  detach(address: string): void {
    this.handlers.delete(address);
  }

  /** Cut both directions between a and b. */
  partition(a: string, b: string): void {
    this.cut.add(`${a}|${b}`).add(`${b}|${a}`);
  }

  heal(): void {
    this.cut.clear();
  }

  transport(from: string): Transport {
    return {
      call: async (to, method, body) => {
        this.calls.push({ from, to, method });
        const handler = this.handlers.get(to);
        if (!handler || this.cut.has(`${from}|${to}`)) throw new Error(`connect ECONNREFUSED ${to}`);
        const reply = await handler.handlePeer(method, JSON.parse(JSON.stringify(body)));
        if (this.cut.has(`${to}|${from}`)) throw new Error(`socket hang up ${to}`);
        return JSON.parse(JSON.stringify(reply ?? null));
      },
      close: () => undefined,
    };
  }
}
