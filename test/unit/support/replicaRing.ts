/**
 * Whole rings in one process for the Replica tests (test/unit/replica*.test.ts):
 * each Replica over a MemoryTeaStore, joined to one in-memory Hub by a
 * LocalLink. No sockets and no timers of their own: the clock is a number
 * the test moves, and the background runs when the test calls tick().
 */
import { dbName } from '../../../lib/core/ring';
import { Replica } from '../../../lib/db/replica';
import { MemoryStorage, MemoryTeaStore, emptyStorage } from '../../../lib/db/store';
import { silentLogger } from '../../../lib/log';
import { Hub } from '../../../lib/queue/hub';
import { MemoryJournal } from '../../../lib/queue/journal';
import { LocalLink } from '../../../lib/queue/link';

/** The replicas' flush-after-ms. */
export const FLUSH = 1500;

export interface Ring {
  hub: Hub;
  clock: { now: number };
  storages: MemoryStorage[];
  replicas: Replica[];
  /** A replica over storage i, as a (re)started DB process would be. */
  open(i: number): Replica;
}

/** A ring of ndb replicas, started; links[i] gets DB i's LocalLink (none with ndb 1). */
export async function makeRing(ndb: number, digestLength: number, links: LocalLink[] = []): Promise<Ring> {
  const hub = new Hub(new MemoryJournal());
  const clock = { now: 0 };
  const storages = Array.from({ length: ndb }, () => emptyStorage());
  const open = (i: number) => {
    const link = ndb > 1 ? new LocalLink(hub, dbName((i + ndb - 1) % ndb), dbName(i)) : null;
    if (link) links[i] = link;
    const store = new MemoryTeaStore(storages[i], (ndb + 1) * FLUSH, () => clock.now);
    return new Replica({ id: i, ndb, digestLength, flushAfterMs: FLUSH, store, link, log: silentLogger, now: () => clock.now, timers: false, flushedGraceMs: 0 });
  };
  const replicas = storages.map((_, i) => open(i));
  for (const r of replicas) await r.start();
  return { hub, clock, storages, replicas, open };
}

/** Messages the hub holds on a channel, delivered or not. */
export const held = (ring: Ring, channel: string) => ring.hub.stats()[channel]?.held ?? 0;
/** Tuples the stored digest of DB i holds. */
export const stored = (ring: Ring, i: number) => ring.storages[i].digest.map((t) => JSON.parse(t) as { primary: string; key: string });
