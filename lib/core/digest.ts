/**
 * The gossip digest: tuples waiting to be put on this DB's channel. Values
 * are immutable; every operation returns a new digest.
 */
export interface Digest<T> {
  readonly tuples: readonly T[];
  /** Flush once this many tuples wait (SPEC.md's `digest-length`). */
  readonly length: number;
}

export function emptyDigest<T>(length: number): Digest<T> {
  if (!Number.isInteger(length) || length < 1) throw new RangeError(`digest-length must be a positive integer, got ${length}`);
  return { tuples: [], length };
}

/** The digest with `tuples` added at the end, in order: one copy for a whole drained batch, not one per tuple. */
export function append<T>(digest: Digest<T>, ...tuples: readonly T[]): Digest<T> {
  return { tuples: digest.tuples.concat(tuples), length: digest.length };
}

export function isFull<T>(digest: Digest<T>): boolean {
  return digest.tuples.length >= digest.length;
}

/** Everything waiting, oldest first, and the emptied digest. */
export function take<T>(digest: Digest<T>): { tuples: readonly T[]; digest: Digest<T> } {
  return { tuples: digest.tuples, digest: { tuples: [], length: digest.length } };
}

/** Put tuples that could not be sent back in front, so the channel keeps their order. */
export function putBack<T>(digest: Digest<T>, unsent: readonly T[]): Digest<T> {
  return { tuples: [...unsent, ...digest.tuples], length: digest.length };
}
