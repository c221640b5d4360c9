/**
 * How a node reaches its peers. The core calls a peer's method by name with a
 * JSON body; the HTTP transport (httpTransport.ts) posts it to the peer's
 * /kv-internal/<method>, the in-memory one (memoryTransport.ts) calls the
 * peer's handler directly, for unit tests with no sockets.
 */
export const PEER_METHODS = ['probe', 'join', 'membership', 'replicate', 'sums', 'pull', 'push', 'execute', 'fetch', 'layout', 'transfer', 'keyCount'] as const;

export type PeerMethod = (typeof PEER_METHODS)[number];

export interface Transport {
  /** Call `method` on `peer`; rejects when no answer arrives within `timeoutMs` or the peer refuses the body. */
  call(peer: string, method: PeerMethod, body: unknown, timeoutMs: number): Promise<unknown>;
  close(): void;
}

/** What a node answers to its peers: the other end of Transport. */
export interface PeerHandler {
  handlePeer(method: PeerMethod, body: unknown): Promise<unknown>;
}

/** A peer's request that the handler refuses: a malformed body. */
export class PeerRequestError extends Error {}

export interface Timers {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realTimers: Timers = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};
