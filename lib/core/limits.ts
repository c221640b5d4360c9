/**
 * Input limits (docs/limits.md says why each is what it is). Each is far
 * above what the tea store's users send and far below what would let one
 * request cost a DB real memory or CPU time: the merge compares every clock
 * with every other, so clock entries and siblings are the levers.
 *
 * The bounds compose: a client's write may leave a tea at most `tea` at its
 * DB; gossip merges what several DBs accepted concurrently, so what any
 * reader accepts (storage, gossip, anti-entropy) is `replicaTea`, MAX_REPLICAS
 * times as much; a tuple of such a tea fits a chunk, a chunk fits the
 * queue's window and a link's line.
 */

/** The most DBs whose concurrently accepted writes one merged tea can hold within replicaTea. */
export const MAX_REPLICAS = 16;

const TEA: TeaLimits = Object.freeze({
  /** Siblings: concurrent versions (Riak refuses writes past 100 by default; the merge costs siblings squared). */
  versions: 64,
  /** Clock entries of all the versions and the tombstone together: every clock the store makes from them (a merge, a tombstone) has no more. */
  clockEntries: 1024,
  /** Characters of the stored JSON: choices, clocks and tombstone. */
  chars: 64 * 1024,
});

export interface TeaLimits {
  readonly versions: number;
  readonly clockEntries: number;
  readonly chars: number;
}

const REPLICA_TEA: TeaLimits = Object.freeze({
  versions: TEA.versions * MAX_REPLICAS,
  clockEntries: TEA.clockEntries * MAX_REPLICAS,
  chars: TEA.chars * MAX_REPLICAS,
});

/** Room in a tuple's text beyond its state: the key (512 bytes, at most 6 characters each as JSON), the primary, the rating. */
const TUPLE_OVERHEAD_CHARS = 4 * 1024;

export const LIMITS = Object.freeze({
  /** Bytes of a request body, decompressed; larger is 413. A full clock of 1024 ids fits easily. */
  bodyBytes: 64 * 1024,
  /** UTF-8 bytes of a tea name once percent-decoded. */
  teaNameBytes: 512,
  /** Entries in one clock a client sends (and so in every version's clock). */
  clockEntries: 1024,
  /** Characters of one client id in a clock. */
  clientIdLength: 256,
  /** What a client's write may leave a tea holding at its DB; beyond, the write is refused (409). */
  tea: TEA,
  /** What a DB accepts from its storage, from gossip and from anti-entropy: the merge of MAX_REPLICAS DBs' teas. */
  replicaTea: REPLICA_TEA,
  /** Characters of one gossip tuple's text. */
  tupleChars: REPLICA_TEA.chars + TUPLE_OVERHEAD_CHARS,
  /** One chunk of gossip (a DB's send, a batch put): what one commit merges at most. */
  chunk: Object.freeze({ messages: 1000, chars: 4 * 1024 * 1024 }),
  /** Bytes of an internal bulk body, decompressed: a batch put or one anti-entropy bucket. */
  bulkBytes: 8 * 1024 * 1024,
  /** Internal bulk bodies one server reads at once; more wait for none and are answered 429. */
  bulkInFlight: 2,
  /** Anti-entropy bucket answers (each about half bulkBytes) one DB makes at once: a peer per other DB, and room. */
  bulkReadsInFlight: 8,
  /** Public bodies one server reads at once (each at most bodyBytes). */
  bodiesInFlight: 512,
});
