/**
 * Scenarios for what the defaults promise beyond the original ten
 * (docs/protocol.md, "Gossip" and "Start-up and shutdown"): gossip moves step
 * by step with the background on, the original harness's restarts leak
 * nothing from one run into the next, and a DB started outside the ring
 * serves alone.
 */
import { readFileSync } from 'node:fs';
import { dbName } from '../../lib/core/ring';
import { Scenario, World, show, teasOn } from './scenario';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const fillThenRead: Scenario = {
  name: 'fillThenRead',
  about: 'a direct write that fills the digest is at the next DB when it is answered: a direct read there at once sees it',
  settings: { digestLength: 2 },
  minNdb: 2,
  async run({ db, ring, ndb, check }) {
    for (let i = 0; i < ndb; i++) {
      const next = ring.neighbourOf(i);
      const [a, b] = [`fill-${i}-a`, `fill-${i}-b`];
      await db(i).put(a, 3, { w: i + 1 });
      const early = await db(next).get(a);
      check(`${dbName(next)} does not see ${a} while ${dbName(i)}'s digest is not full`, early.choices.length === 0, show(early));
      await db(i).put(b, 4, { w: i + 1 });
      const got = await db(next).get(a);
      check(`the write that filled ${dbName(i)}'s digest: ${dbName(next)} reads ${a} at once`, got.rating === 3, show(got));
    }
  },
};

const chainRing: Scenario = {
  name: 'chainRing',
  about: "direct writes round the ring: each DB's write leaves with the first tuple it drained, the second waits",
  settings: { digestLength: 2 },
  minNdb: 3,
  async run({ db, ndb, check }) {
    // db0 sends a0, a1 together. Then each DB i in turn takes one write b<i>: it writes first (its own tuple
    // opens the digest), then drains the two tuples its predecessor sent: the first fills the digest and
    // goes with b<i>, the second waits. So the last DB, read only at the end, holds exactly what the one
    // before it sent.
    await db(0).put('a0', 1, { a: 1 });
    await db(0).put('a1', 1, { a: 1 });
    let sent = ['a0', 'a1'];
    let kept = '';
    for (let i = 1; i < ndb - 1; i++) {
      await db(i).put(`b${i}`, 2, { b: i });
      kept = sent[1];
      sent = [`b${i}`, sent[0]];
    }
    const last = ndb - 1;
    const sees = async (tea: string) => (await db(last).get(tea)).choices.length > 0;
    for (const tea of sent) check(`${dbName(last)} has ${tea}: ${dbName(last - 1)} sent it`, await sees(tea));
    check(`${dbName(last)} has not got ${kept}: it waits in ${dbName(last - 1)}'s digest`, !(await sees(kept)));
  },
};

/** Keys of teas (and tombstones) that any Redis holds, with a prefix. */
async function leftovers(world: World, prefix: string): Promise<string[]> {
  const found: string[] = [];
  for (let i = 0; i < world.ndb; i++) {
    for (const pattern of [`/rating/${prefix}*`, `tombstone:${prefix}*`]) found.push(...(await world.redis(i).keys(pattern)).map((k) => `redis ${i}: ${k}`));
  }
  return found;
}

/** Traffic that leaves gossip everywhere on its way: partial digests, unread inboxes, writes still in flight. */
async function trafficInFlight(world: World, prefix: string): Promise<Promise<unknown>[]> {
  const { lb, db, ndb } = world;
  for (let k = 0; k < 12; k++) await lb.put(`${prefix}-lb-${k}`, k, { c: k + 1 });
  for (let i = 0; i < ndb; i++) await db(i).put(`${prefix}-direct-${i}`, i, { d: 1 });
  await lb.delete(`${prefix}-lb-0`);
  // Not awaited: these are on their way when the restart begins.
  return Array.from({ length: 8 }, (_, k) => lb.put(`${prefix}-flight-${k}`, k, { f: 1 }).catch(() => 'refused'));
}

/** What of a previous run is still around: its teas in any Redis, and messages on the queue; null when nothing. */
async function leaked(world: World, prefix: string): Promise<string | null> {
  const keys = await leftovers(world, prefix);
  const queued = Object.values(await world.queue.stats()).reduce((n, c) => n + c.held, 0);
  return keys.length === 0 && queued === 0 ? null : `${keys.slice(0, 5).join(', ')}; queue holds ${queued}`;
}

async function checkNothingLeaked(world: World, prefix: string, when: string): Promise<boolean> {
  const found = await leaked(world, prefix);
  return world.check(`${when}: no tea of the previous run in any Redis, nothing on the queue`, found === null, found ?? undefined);
}

const restartInFlight: Scenario = {
  name: 'restartInFlight',
  about: "the original harness's restart with gossip pending and writes in flight: nothing reaches the next run",
  settings: { digestLength: 2 },
  minNdb: 2,
  async run(world) {
    const flights = await trafficInFlight(world, 'old');
    await world.restart();
    await Promise.all(flights);
    await sleep(1000); // what the original harness sleeps
    await checkNothingLeaked(world, 'old', 'after the restart');
    await sleep(world.flushAfterMs + 500);
    await checkNothingLeaked(world, 'old', 'after flush-after-ms more');
    const tea = teasOn(world.ring, 0, 1, 'fresh')[0];
    await world.lb.put(tea, 5, { n: 1 });
    const got = await world.lb.get(tea);
    world.check('the new run works', got.rating === 5, show(got));
  },
};

const restartReplay: Scenario = {
  name: 'restartReplay',
  about: "the original harness's restart twenty times in a row, with traffic in between: no tea leaks into the next run",
  settings: { digestLength: 2 },
  minNdb: 2,
  async run(world) {
    let leaks = 0;
    for (let round = 0; round < 20; round++) {
      const flights = await trafficInFlight(world, `round${round}`);
      await world.restart();
      await Promise.all(flights);
      await sleep(1000);
      const found = await leaked(world, 'round');
      if (found !== null) {
        leaks++;
        world.check(`round ${round}: nothing leaked`, false, found);
      }
    }
    await sleep(world.flushAfterMs + 500);
    world.check('20 restarts: no round leaked', leaks === 0, `${leaks} rounds leaked`);
    await checkNothingLeaked(world, 'round', 'flush-after-ms after the last restart');
  },
};

const oneDB: Scenario = {
  name: 'oneDB',
  about: 'the original harness\'s one-DB run: DBs 0..3 all started with ndb 1; each serves alone, the others warn once',
  settings: { digestLength: 2, dbNdb: 1, lbNdb: 1 },
  async run({ lb, db, ndb, redis, queue, dbLog, check }) {
    const started = new Date(Date.now() - 10_000).toISOString(); // this scenario's DBs started moments ago
    await lb.put('solo', 4, { s: 1 });
    check('the LB with ndb 1 writes to db0', (await redis(0).hget('/rating/solo', 'rating')) === '4');
    for (let i = 1; i < ndb; i++) {
      await db(i).put(`alone-${i}`, i, { a: 1 });
      const got = await db(i).get(`alone-${i}`);
      check(`db${i}, outside the ring, serves a direct write and read`, got.rating === i, show(got));
      const lines = readFileSync(dbLog(i), 'utf8').split('\n').filter((line) => line >= started);
      const warnings = lines.filter((line) => line.includes('taking no part in gossip')).length;
      check(`db${i} said once why it takes no part in gossip`, warnings === 1, `${warnings} such lines in its log since it started`);
    }
    const held = Object.values(await queue.stats()).reduce((n, c) => n + c.held, 0);
    check('nothing went on the queue', held === 0, `${held} messages`);
  },
};

export const FIDELITY_SCENARIOS: Scenario[] = [fillThenRead, chainRing, restartInFlight, restartReplay, oneDB];
