/**
 * Bounds on everything a client or a peer can make a node hold. Each is far
 * above what the seeds' clients send and far below what would let one request
 * cost a node real memory or CPU: versions compare clock against clock, so
 * the number of clock entries is the lever.
 */
export const KV_LIMITS = Object.freeze({
  /** Characters of a key at the seed-000 door (the contract: 1 to 200). */
  keyLength000: 200,
  /** Characters of a key at the seed-003 door (the contract: over 50 is "Key is too long"). */
  keyLength003: 50,
  /** UTF-8 bytes of one value (the contract: strings up to 1 MB). */
  valueBytes: 1024 * 1024,
  /** Bytes of a client's request body: a 1 MB value percent-encoded is up to 3 MB. */
  clientBodyBytes: 3 * 1024 * 1024 + 64 * 1024,
  /** Entries in one clock or context: one per node address ever written through. */
  clockEntries: 256,
  /** Characters of one node address (`host:port`). */
  addressLength: 261,
  /** Concurrent versions one key may hold; more means a peer sent garbage. */
  versionsPerKey: 64,
  /** Bytes of an internal body (a replication batch, an anti-entropy bucket, a state transfer). */
  internalBodyBytes: 64 * 1024 * 1024,
  /** Writes waiting in one peer's outbox before it is cut (anti-entropy repairs the rest). */
  outboxWrites: 20_000,
  /** Bytes waiting in one peer's outbox before it is cut. */
  outboxBytes: 64 * 1024 * 1024,
  /** Bytes of writes sent in one replication batch. */
  batchBytes: 4 * 1024 * 1024,
  /** Out-of-order replication links remembered per origin before they are dropped. */
  pendingLinks: 10_000,
  /** Members (live or not) one membership may list. */
  members: 1024,
  /** Shards of one layout (each needs two members). */
  shards: 512,
});
