/** How often a node probes and repairs, and how long anything may wait: the defaults are the product. */
export interface Timing {
  /** How often every peer is probed. */
  probeIntervalMs: number;
  /** A probe not answered within this is a failed probe. */
  probeTimeoutMs: number;
  /** A peer with no successful probe for this long is down (the contract: out of every view within 5 s). */
  downAfterMs: number;
  /** How often this node compares bucket sums with a random peer. */
  antiEntropyIntervalMs: number;
  /** The longest a client request waits for a context to be satisfied, and for a second node's acknowledgement. */
  requestWaitMs: number;
  /** How long key requests are held while a starting node catches up. */
  startupWaitMs: number;
  /** Timeout of bulk calls (anti-entropy, state transfer, forwarding). */
  peerTimeoutMs: number;
  /** How long one node's pulls of a shard it joins may take (a reshard moves up to every key). */
  transferWaitMs: number;
}

export const DEFAULT_TIMING: Timing = Object.freeze({
  probeIntervalMs: 300,
  probeTimeoutMs: 600,
  downAfterMs: 2000,
  antiEntropyIntervalMs: 1000,
  requestWaitMs: 1000,
  startupWaitMs: 3000,
  peerTimeoutMs: 3000,
  transferWaitMs: 30_000,
});
