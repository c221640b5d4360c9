/**
 * The DB's gossip recovering, on whole in-memory rings (test/unit/support/replicaRing.ts):
 * the queue unreachable, DBs restarted, storage wiped or taken by another process.
 */
import { expect } from 'chai';
import { ReplicaUnavailableError } from '../../lib/db/replica';
import { wipe } from '../../lib/db/store';
import { LocalLink } from '../../lib/queue/link';
import { choices, settle, v } from './helpers';
import { FLUSH, held, makeRing } from './support/replicaRing';

describe('db/Replica on an in-memory ring', () => {
  describe('the queue unreachable', () => {
    it('writes are answered, the tuples stay stored, and go first, in order, once the link is back', async () => {
      const links: LocalLink[] = [];
      const ring = await makeRing(2, 1, links);
      links[0].disconnect();
      await ring.replicas[0].write('a', v(1, '{"a":1}'));
      await ring.replicas[0].write('b', v(2, '{"a":1}'));
      expect(ring.replicas[0].pending).to.equal(2);
      expect(held(ring, 'db0')).to.equal(0);
      links[0].reconnect();
      await settle();
      expect(ring.replicas[0].pending).to.equal(0);
      await ring.replicas[1].read('a');
      expect(choices(ring.storages[1].teas.get('b')!)).to.deep.equal([2]);
    });

    it('chunks held unapplied when the link drops come again on reconnect, and are applied once', async () => {
      const links: LocalLink[] = [];
      const ring = await makeRing(2, 1, links);
      await ring.replicas[0].write('a', v(1, '{"a":1}'));
      expect(ring.replicas[1].health.inbox).to.equal(1);
      links[1].disconnect();
      links[1].reconnect();
      expect(ring.replicas[1].health.inbox, 'the same chunk, not a second copy').to.equal(1);
      expect(choices(await ring.replicas[1].read('a'))).to.deep.equal([1]);
      expect(held(ring, 'db0')).to.equal(0);
    });
  });

  describe('restarts and an external FLUSHALL', () => {
    it('a DB restarted over its storage resumes sending its stored digest', async () => {
      const ring = await makeRing(2, 2);
      await ring.replicas[0].write('t', v(1, '{"a":1}'));
      ring.replicas[0].stop();
      const again = ring.open(0);
      await again.start();
      expect(again.pending).to.equal(1);
      await again.write('u', v(1, '{"a":1}'));
      await ring.replicas[1].read('x');
      expect([...ring.storages[1].teas.keys()].sort()).to.deep.equal(['t', 'u']);
    });

    it('after a wipe the background writes nothing, reads see the wiped storage, and a client write claims it again', async () => {
      const ring = await makeRing(3, 2);
      await ring.replicas[0].write('t', v(1, '{"a":1}'));
      await ring.replicas[0].write('u', v(1, '{"a":1}'));
      await ring.replicas[1].write('x', v(1, '{"a":1}'));
      await ring.replicas[0].write('t2', v(1, '{"a":1}'));
      await ring.replicas[0].write('u2', v(1, '{"a":1}'));
      wipe(ring.storages[1]);
      ring.clock.now = 10 * FLUSH;
      ring.replicas[1].tick();
      for (let k = 0; k < 5; k++) await settle();
      expect(ring.storages[1].teas.size, 'the timer wrote nothing into the wiped storage').to.equal(0);
      expect(ring.replicas[1].health.status).to.equal('flushed');
      expect(choices(await ring.replicas[1].read('t2')), 'a read answers from the storage as it is').to.deep.equal([]);
      expect(ring.storages[1].teas.size).to.equal(0);
      expect(choices(await ring.replicas[1].write('y', v(5, '{"b":1}'))), 'a write claims it again').to.deep.equal([5]);
      expect(ring.replicas[1].health.status).to.equal('serving');
      expect(choices(await ring.replicas[1].read('t2')), 'and the inbox is merged again').to.deep.equal([1]);
    });

    it('a DB whose storage another process has taken writes nothing more and refuses requests', async () => {
      const ring = await makeRing(2, 1);
      const old = ring.replicas[0];
      const newer = ring.open(0);
      await newer.start();
      await old.write('t', v(1, '{"a":1}')).then(
        () => expect.fail('the old process wrote'),
        (e) => expect(e).to.be.instanceOf(Error),
      );
      expect(old.health.status).to.equal('superseded');
      await old.write('t', v(1, '{"a":1}')).catch((e) => expect(e).to.be.instanceOf(ReplicaUnavailableError));
      expect(ring.storages[0].teas.has('t')).to.equal(false);
      await newer.write('t', v(2, '{"a":1}'));
      expect(choices(ring.storages[0].teas.get('t')!)).to.deep.equal([2]);
    });
  });
});
