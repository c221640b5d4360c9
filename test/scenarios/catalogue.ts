/**
 * The scenarios of the tea store, run by test/run.ts against real
 * processes. Each starts from empty Redis servers, an empty queue and
 * freshly started DBs and LB with its own settings.
 */
import { makeClock, join } from '../../lib/core/clock';
import { dbName } from '../../lib/core/ring';
import { EMPTY, TeaState, mergeVersion, rating } from '../../lib/core/versions';
import { viewOf } from '../../lib/core/wire';
import { FIDELITY_SCENARIOS } from './fidelity';
import { Scenario, canonical, show, teasOn } from './scenario';

const simple: Scenario = {
  name: 'simple',
  about: 'a write and a strong read through the LB',
  settings: { digestLength: 2 },
  async run({ lb, check }) {
    const r = await lb.put('persimmon', 1, { c0: 1 });
    check('PUT answers the rating', r === 1, `got ${r}`);
    const got = await lb.get('persimmon');
    check('GET returns rating, choices and clocks', show(got) === show({ rating: 1, choices: [1], clocks: [{ c0: 1 }] }), show(got));
    const r2 = await lb.put('persimmon', 3, { c1: 1 });
    check('a concurrent write adds a sibling and the mean', r2 === 2, `got ${r2}`);
    const empty = await lb.get('never-rated');
    check('a tea nobody rated reads as 0', show(empty) === show({ rating: 0, choices: [], clocks: [] }), show(empty));
  },
};

const weakReads: Scenario = {
  name: 'weakReads',
  about: 'weak reads right after a write are mostly stale; the strong read is current',
  settings: { digestLength: 2 },
  minNdb: 2,
  async run({ lb, ndb, flushAfterMs, check }) {
    await lb.put('oolong', 4, { c0: 1 });
    const written = Date.now();
    const strong = await lb.get('oolong', 'strong');
    check('the strong read is current', strong.rating === 4, show(strong));
    // Background gossip is on (the defaults): the reads go 20 at a time, and only those answered before
    // the digest's flush-after-ms could let the write leave the primary count.
    let reads = 0;
    let stale = 0;
    while (reads < 200) {
      const batch = await Promise.all(Array.from({ length: 20 }, () => lb.get('oolong', 'weak')));
      if (Date.now() - written >= flushAfterMs) break;
      reads += batch.length;
      stale += batch.filter((weak) => weak.rating !== 4).length;
    }
    // Each weak read hits the primary with probability 1/ndb; the others have not heard yet. The
    // floor is four standard deviations below the mean, so a correct store fails it about once in 30,000 runs.
    const p = (ndb - 1) / ndb;
    const floor = Math.floor(reads * p - 4 * Math.sqrt(reads * p * (1 - p)));
    check(`at least 100 weak reads answered within flush-after-ms`, reads >= 100, `${reads} in ${Date.now() - written} ms`);
    // A DB the LB believed down would send its share of the reads to the next DB in ring order.
    const up = (await lb.health()).up as boolean[];
    check('the LB saw every DB up, so each weak read went to a DB chosen at random', up.every(Boolean), JSON.stringify(up));
    check(`at least ${floor} of ${reads} weak reads are stale`, stale >= floor, `${stale} stale, expected about ${Math.round(reads * p)}`);
    check(`some weak reads are current (the primary's)`, stale < reads, `${stale} stale`);
  },
};

const olderClock: Scenario = {
  name: 'olderClock',
  about: 'a write with an older clock is discarded',
  settings: { digestLength: 2 },
  async run({ lb, check }) {
    await lb.put('sencha', 4, { c0: 5 });
    const r = await lb.put('sencha', 1, { c0: 3 });
    check('the older write leaves the rating', r === 4, `got ${r}`);
    const got = await lb.get('sencha');
    check('the older write left no sibling', show(got) === show({ rating: 4, choices: [4], clocks: [{ c0: 5 }] }), show(got));
    const r2 = await lb.put('sencha', 2, { c0: 5 });
    check('an equal clock with a smaller rating is stale too', r2 === 4, `got ${r2}`);
  },
};

const directDB: Scenario = {
  name: 'directDB',
  about: 'a DB driven directly: empty read is 0, older write ignored, newer replaces',
  settings: { digestLength: 2 },
  async run({ db, ndb, check }) {
    const target = db(ndb - 1);
    const empty = await target.get('very-berry-white-tea');
    check('an empty read is 0', show(empty) === show({ rating: 0, choices: [], clocks: [] }), show(empty));
    check('a first write is taken', (await target.put('very-berry-white-tea', 3, { c1: 2 })) === 3);
    check('an older write is ignored', (await target.put('very-berry-white-tea', 5, { c1: 1 })) === 3);
    check('a newer write replaces', (await target.put('very-berry-white-tea', 7, { c1: 3 })) === 7);
    const got = await target.get('very-berry-white-tea');
    check('only the newest version is kept', show(got) === show({ rating: 7, choices: [7], clocks: [{ c1: 3 }] }), show(got));
  },
};

/**
 * Send writes round the ring by hand: each DB, read in turn, pulls the
 * tuples from its predecessor's channel and, with a full digest, passes them
 * on. When they reach the primary again they are dropped.
 */
function gossipRound(digestLength: number): Scenario {
  return {
    name: `gossipRing${digestLength}`,
    about: `gossip goes round every hop of the ring with digest-length ${digestLength}, and stops at the primary`,
    settings: { digestLength },
    minNdb: 2,
    async run({ lb, db, redis, queue, ring, ndb, check }) {
      const primary = 1 % ndb;
      const teas = teasOn(ring, primary, digestLength, 'ring');
      for (const [k, tea] of teas.entries()) await lb.put(tea, 10 + k, { c9: k + 1 });
      const expected = await lb.get(teas[0]);
      for (let hop = 1; hop < ndb; hop++) {
        const i = (primary + hop) % ndb;
        const before = await redis(i).hget(`/rating/${teas[0]}`, 'clocks');
        check(`hop ${hop}: ${dbName(i)} does not hold the tea before it is read`, before === null, `redis has ${before}`);
        const got = await db(i).get(teas[0]);
        check(`hop ${hop}: reading ${dbName(i)} pulls the gossip`, show(got) === show(expected), show(got));
        const saved = await redis(i).hget(`/rating/${teas[0]}`, 'clocks');
        check(`hop ${hop}: ${dbName(i)} saved it in its Redis`, saved === JSON.stringify(expected.clocks), `redis has ${saved}`);
      }
      const last = dbName(ring.predecessorOf(primary));
      await db(primary).get(teas[0]);
      const left = await queue.take(last);
      check(`the primary drops the tuples that came back on ${last}`, Object.keys(left).length === 0, JSON.stringify(left));
      const after = await db(primary).get(teas[0]);
      check('the primary is unchanged', show(after) === show(expected), show(after));
    },
  };
}

const lbNdb1: Scenario = {
  name: 'ndb1',
  about: 'an LB with ndb 1 in front of four running DBs sends everything to db0',
  settings: { digestLength: 2, lbNdb: 1 },
  async run({ lb, redis, ndb, check }) {
    for (let k = 0; k < 10; k++) await lb.put(`single-${k}`, k, { c0: k + 1 });
    let current = 0;
    for (let k = 0; k < 50; k++) {
      const got = await lb.get(`single-${k % 10}`, 'weak');
      if (got.rating === k % 10) current++;
    }
    check('every weak read is current, since db0 is the only DB', current === 50, `${current} of 50`);
    const keys = await redis(0).keys('/rating/single-*');
    check('db0 holds all ten teas', keys.length === 10, `${keys.length}`);
    if (ndb > 1) {
      const elsewhere = await redis(ndb - 1).keys('/rating/single-*');
      check(`${dbName(ndb - 1)} holds none of them yet`, elsewhere.length === 0, `${elsewhere.length}`);
    }
  },
};

const readPullsGossip: Scenario = {
  name: 'testGetGossip',
  about: 'a read of any tea at a DB pulls waiting gossip into its Redis first',
  settings: { digestLength: 2  },
  minNdb: 2,
  async run({ lb, db, redis, ring, check }) {
    const primary = 0;
    const neighbour = ring.neighbourOf(primary);
    const [a, b] = teasOn(ring, primary, 2, 'pull');
    await lb.put(a, 2, { c1: 1 });
    check(`${dbName(neighbour)} has nothing while the digest is not full`, (await redis(neighbour).exists(`/rating/${a}`)) === 0);
    await lb.put(b, 3, { c1: 1 });
    check(`${dbName(neighbour)} still has nothing before it is read`, (await redis(neighbour).exists(`/rating/${a}`)) === 0);
    const other = await db(neighbour).get('some-other-tea');
    check('the read answers for the tea it asked about', other.rating === 0, show(other));
    const saved = await redis(neighbour).hgetall(`/rating/${a}`);
    check(`the read pulled ${a} into ${dbName(neighbour)}'s Redis`, saved.rating === '2' && saved.clocks === '[{"c1":1}]', JSON.stringify(saved));
    const savedB = await redis(neighbour).hget(`/rating/${b}`, 'rating');
    check(`and ${b} too`, savedB === '3', `${savedB}`);
  },
};

const randomModel: Scenario = {
  name: 'randomModel',
  about: '1000 random reads and writes on 20 teas agree with the merge rule run locally',
  settings: { digestLength: 2 },
  async run({ lb, check }) {
    let seed = 12345;
    const random = () => {
      // A fixed-seed LCG, so a failure can be replayed.
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 2 ** 32;
    };
    const pick = (n: number) => Math.floor(random() * n);
    const teas = Array.from({ length: 20 }, (_, k) => `model-${k}`);
    const model = new Map<string, TeaState>();
    const clients = ['c0', 'c1', 'c2', 'c3', 'c4'];
    const seen = new Map<string, ReturnType<typeof makeClock>>();
    let mismatches = 0;
    let first = '';
    for (let op = 0; op < 1000; op++) {
      const tea = teas[pick(teas.length)];
      if (random() < 0.5) {
        const client = clients[pick(clients.length)];
        // A client writes with the clocks it last read joined, plus one tick of its own: sometimes newer, sometimes concurrent, now and then older.
        const context = random() < 0.1 ? makeClock() : (seen.get(tea) ?? makeClock());
        const next = join(context, makeClock([[client, (context[client] ?? 0) + 1 + pick(2)]]));
        const choice = pick(11);
        const answer = await lb.put(tea, choice, next);
        const state = mergeVersion(model.get(tea) ?? EMPTY, { choice, clock: next });
        model.set(tea, state);
        if (answer !== rating(state)) {
          mismatches++;
          first ||= `op ${op}: PUT ${tea} answered ${answer}, model says ${rating(state)}`;
        }
      } else {
        const got = await lb.get(tea);
        const want = viewOf(model.get(tea) ?? EMPTY);
        if (canonical(got) !== canonical(want)) {
          mismatches++;
          first ||= `op ${op}: GET ${tea} gave ${show(got)}, model says ${show(want)}`;
        }
        seen.set(tea, got.clocks.reduce((c, k) => join(c, k), makeClock()));
      }
    }
    check('every answer matches the model', mismatches === 0, mismatches ? `${mismatches} mismatches; first: ${first}` : '1000 operations');
  },
};

const convergence: Scenario = {
  name: 'convergence',
  about: 'one tea reaches every DB through the gossip that noise traffic drives, and all agree',
  settings: { digestLength: 2  },
  minNdb: 2,
  async run({ lb, db, redis, ndb, check }) {
    await lb.put('assam', 8, { c7: 3 });
    const want = await lb.get('assam');
    // Watch Redis rather than reading the DBs: a read drains gossip itself, and here only the noise may move it.
    const holders = async () => {
      let n = 0;
      for (let i = 0; i < ndb; i++) if ((await redis(i).hget('/rating/assam', 'clocks')) === JSON.stringify(want.clocks)) n++;
      return n;
    };
    let ops = 0;
    while ((await holders()) < ndb && ops < 2000) {
      for (let k = 0; k < 10; k++, ops++) await lb.put(`noise-${ops % 50}`, ops % 7, { n: ops + 1 });
    }
    check('noise writes alone carry the tea to every DB', (await holders()) === ndb, `${await holders()} of ${ndb} after ${ops} noise writes`);
    const readings = await Promise.all(Array.from({ length: ndb }, (_, i) => db(i).get('assam')));
    check('every DB answers the same for it', readings.every((r) => canonical(r) === canonical(want)), readings.map(show).join(' '));
  },
};

const deletion: Scenario = {
  name: 'delete',
  about: 'a delete reaches every replica and an old copy does not bring the tea back',
  settings: { digestLength: 1  },
  minNdb: 2,
  async run({ lb, db, queue, ring, ndb, check }) {
    const tea = 'darjeeling';
    const primary = ring.primaryOf(tea);
    await lb.put(tea, 5, { c2: 1 });
    const old = await lb.get(tea);
    const round = async () => {
      for (let hop = 1; hop <= ndb; hop++) await db((primary + hop) % ndb).get('anything');
    };
    await round();
    check('before the delete every DB holds the tea', (await Promise.all(Array.from({ length: ndb }, (_, i) => db(i).get(tea)))).every((r) => r.rating === 5));
    const del = await lb.delete(tea);
    check('DELETE at the primary answers {"rating": null}', del.status === 200 && del.body.rating === null, JSON.stringify(del));
    await round();
    const after = await Promise.all(Array.from({ length: ndb }, (_, i) => db(i).get(tea)));
    check('after one round no DB holds the tea', after.every((r) => r.choices.length === 0), after.map(show).join(' '));
    // A late copy of the old value arrives by gossip.
    const neighbour = ring.neighbourOf(primary);
    await queue.put(dbName(primary), { primary: dbName(primary), key: tea, ...old });
    await db(neighbour).get(tea);
    const resurrected = await db(neighbour).get(tea);
    check('an old gossiped copy does not bring it back', resurrected.choices.length === 0, show(resurrected));
    const again = await lb.delete(tea);
    check('a second DELETE is 404', again.status === 404, JSON.stringify(again));
    await lb.put(tea, 9, { c2: 2 });
    check('a newer write after the delete is taken', (await lb.get(tea)).rating === 9);
  },
};

export const SCENARIOS: Scenario[] = [
  simple, weakReads, olderClock, directDB, gossipRound(2), gossipRound(1), lbNdb1, readPullsGossip, randomModel, convergence, deletion,
  ...FIDELITY_SCENARIOS,
];
