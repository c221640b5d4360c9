/**
 * Input limits. Each is far above what the tea store's users send and far
 * below what would let one request cost a DB real memory or CPU time: the
 * merge compares every clock with every other, so clock size is the lever.
 */
export const LIMITS = Object.freeze({
  /** Bytes of a request body; larger is 413. A full clock of 1024 ids fits easily. */
  bodyBytes: 64 * 1024,
  /** UTF-8 bytes of a tea name once percent-decoded. */
  teaNameBytes: 512,
  /** Entries in one clock. */
  clockEntries: 1024,
  /** Characters of one client id in a clock. */
  clientIdLength: 256,
  /** Versions (siblings) one gossip tuple may carry. */
  tupleVersions: 4096,
  /** Bytes of an internal bulk body: a batch of gossip tuples or one anti-entropy bucket. */
  bulkBytes: 32 * 1024 * 1024,
});
