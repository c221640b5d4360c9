/**
 * The ring of DB instances: which DB is a tea's primary, and which DB each
 * one gossips to.
 *
 * The hash is 32-bit FNV-1a over the UTF-8 bytes of the tea name. It is
 * specified bit for bit, so every process, restart and machine agrees on it
 * (unlike a per-process seeded hash), and it is cheap for short keys.
 */
import { fnv1aUtf8 } from './utf8';

const FNV_OFFSET = 0x811c9dc5;

export function stableHash(key: string, seed: number = FNV_OFFSET): number {
  return fnv1aUtf8(key, seed);
}

export class Ring {
  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`ring size must be a positive integer, got ${size}`);
  }

  /** The DB that takes every write and strong read of `key`. */
  primaryOf(key: string): number {
    return stableHash(key) % this.size;
  }

  /** The DB that consumes `id`'s gossip channel. */
  neighbourOf(id: number): number {
    return (id + 1) % this.size;
  }

  /** The DB whose gossip channel `id` consumes. */
  predecessorOf(id: number): number {
    return (id + this.size - 1) % this.size;
  }

  /** Every DB in ring order starting at `id`: the order to fail over in. */
  walkFrom(id: number): number[] {
    return Array.from({ length: this.size }, (_, step) => (id + step) % this.size);
  }
}

/** The queue channel a DB publishes its gossip on, and the name it writes as a tuple's primary. */
export function dbName(id: number): string {
  return `db${id}`;
}

const DB_NAME = /^db(0|[1-9][0-9]{0,5})$/;

/** Whether `name` is the name of one of the ring's ndb DBs. */
export function isDbName(name: string, ndb: number): boolean {
  const match = DB_NAME.exec(name);
  return match !== null && Number(match[1]) < ndb;
}
