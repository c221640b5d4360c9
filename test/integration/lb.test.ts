/**
 * The LB's HTTP API (docs/protocol.md) against a real cluster (Redis, Q, 3 DBs and
 * the LB, each a process from dist/): the happy path, every error at the
 * LB, its consistency parameter, and that after all of it the servers are
 * alive and have lost nothing.
 */
import { expect } from 'chai';
import { NDB, describeAfterAllThat, ring, useApiCluster } from '../support/apiCluster';
import { EMPTY_VIEW, expectError } from '../support/expect';
import { JSON_HEADERS, deleteRating, getOk, getRating, putOk, putRating, request } from '../support/http';
import { describeRatingErrors } from '../support/ratingErrors';

describe('integration: the LB\'s HTTP API on a real cluster (Redis, Q, 3 DBs, LB from dist/)', function () {
  this.timeout(30_000);
  const fx = useApiCluster('lb');

  describe('happy path through the LB', function () {
    it('PUT returns {"rating": mean of the choices}; a strong GET returns rating, choices and clocks', async function () {
      const first = await putRating(fx.lb, 'assam', 4, { a: 1 });
      expect(first.status).to.equal(200);
      expect(first.headers['content-type']).to.match(/^application\/json/);
      expect(first.json()).to.deep.equal({ rating: 4 });
      expect(await putOk(fx.lb, 'assam', 7, { b: 1 })).to.deep.equal({ rating: 5.5 });
      const expected = { rating: 5.5, choices: [4, 7], clocks: [{ a: 1 }, { b: 1 }] };
      expect(await getOk(fx.lb, 'assam', 'strong')).to.deep.equal(expected);
      expect(await getOk(fx.lb, 'assam')).to.deep.equal(expected);
      // The primary DB holds exactly that, in Redis under /rating/assam.
      expect(await getOk(fx.db(ring.primaryOf('assam')), 'assam')).to.deep.equal(expected);
      const hash = await fx.hashAtPrimary('assam');
      expect(JSON.parse(hash.choices)).to.deep.equal([4, 7]);
      expect(JSON.parse(hash.clocks)).to.deep.equal([{ a: 1 }, { b: 1 }]);
      expect(JSON.parse(hash.rating)).to.equal(5.5);
    });

    it('a newer clock replaces what it supersedes and a stale one changes nothing', async function () {
      await putOk(fx.lb, 'darjeeling', 2, { a: 1 });
      await putOk(fx.lb, 'darjeeling', 4, { b: 1 });
      expect(await putOk(fx.lb, 'darjeeling', 9, { a: 2, b: 1 })).to.deep.equal({ rating: 9 });
      expect(await putOk(fx.lb, 'darjeeling', 1, { a: 1 })).to.deep.equal({ rating: 9 });
      expect(await getOk(fx.lb, 'darjeeling')).to.deep.equal({ rating: 9, choices: [9], clocks: [{ a: 2, b: 1 }] });
    });

    it('GET of an unknown tea is {"rating":0,"choices":[],"clocks":[]} at the LB (strong and weak) and at every DB', async function () {
      expect((await getRating(fx.lb, 'no-such-tea')).json()).to.deep.equal(EMPTY_VIEW);
      expect(await getOk(fx.lb, 'no-such-tea', 'strong')).to.deep.equal(EMPTY_VIEW);
      for (let k = 0; k < 6; k++) expect(await getOk(fx.lb, 'no-such-tea', 'weak')).to.deep.equal(EMPTY_VIEW);
      for (let i = 0; i < NDB; i++) expect(await getOk(fx.db(i), 'no-such-tea')).to.deep.equal(EMPTY_VIEW);
    });

    it('DELETE returns {"rating": null}, then the tea reads as unknown and a second DELETE is 404', async function () {
      await putOk(fx.lb, 'sencha', 8, { a: 1 });
      const del = await deleteRating(fx.lb, 'sencha');
      expect(del.status).to.equal(200);
      expect(del.json()).to.deep.equal({ rating: null });
      expect(await getOk(fx.lb, 'sencha')).to.deep.equal(EMPTY_VIEW);
      expect(await fx.redis[ring.primaryOf('sencha')].exists('/rating/sencha')).to.equal(0);
      expectError(await deleteRating(fx.lb, 'sencha'), 404);
      expectError(await deleteRating(fx.lb, 'never-existed'), 404);
      // The old write replayed does not resurrect it; a newer one does.
      expect(await putOk(fx.lb, 'sencha', 8, { a: 1 })).to.deep.equal({ rating: 0 });
      expect(await putOk(fx.lb, 'sencha', 6, { a: 2 })).to.deep.equal({ rating: 6 });
    });

    it('tea names are case-sensitive', async function () {
      await putOk(fx.lb, 'Oolong', 1, { a: 1 });
      await putOk(fx.lb, 'oolong', 2, { a: 1 });
      await putOk(fx.lb, 'OOLONG', 3, { a: 1 });
      expect((await getOk(fx.lb, 'Oolong')).choices).to.deep.equal([1]);
      expect((await getOk(fx.lb, 'oolong')).choices).to.deep.equal([2]);
      expect((await getOk(fx.lb, 'OOLONG')).choices).to.deep.equal([3]);
      expect(await getOk(fx.lb, 'oOlOnG')).to.deep.equal(EMPTY_VIEW);
      expect(JSON.parse((await fx.hashAtPrimary('Oolong')).choices)).to.deep.equal([1]);
      expect(JSON.parse((await fx.hashAtPrimary('OOLONG')).choices)).to.deep.equal([3]);
    });

    const names = ['green tea', 'earl/grey', 'thé à la menthe', '茶', '🍵 matcha', '100% pure', 'a+b', 'what?is#this;', '...', '__proto__', 'constructor'];
    it(`percent-encoded names round-trip and live in Redis as /rating/<decoded>: ${names.map((n) => JSON.stringify(n)).join(' ')}`, async function () {
      for (const [k, name] of names.entries()) {
        expect(await putOk(fx.lb, name, k + 1, { n: 1 }), name).to.deep.equal({ rating: k + 1 });
      }
      for (const [k, name] of names.entries()) {
        expect(await getOk(fx.lb, name), name).to.deep.equal({ rating: k + 1, choices: [k + 1], clocks: [{ n: 1 }] });
        const hash = await fx.hashAtPrimary(name);
        expect(JSON.parse(hash.choices ?? 'null'), `HGETALL /rating/${name}`).to.deep.equal([k + 1]);
      }
      expect(await fx.redis[ring.primaryOf('earl/grey')].exists('/rating/earl%2Fgrey')).to.equal(0);
    });

    it('a name may be sent encoded or not: /rating/%61bc is abc, /rating/x+y is "x+y" (no form decoding)', async function () {
      await putOk(fx.lb, 'abc', 5, { a: 1 });
      const res = await request(fx.lb, { method: 'GET', path: '/rating/%61bc' });
      expect(res.json()).to.deep.equal({ rating: 5, choices: [5], clocks: [{ a: 1 }] });
      const put = await request(fx.lb, { method: 'PUT', path: '/rating/x+y', headers: JSON_HEADERS, body: '{"rating":2,"clock":{"a":1}}' });
      expect(put.status).to.equal(200);
      expect((await getOk(fx.lb, 'x+y')).choices).to.deep.equal([2]);
      expect(await getOk(fx.lb, 'x y')).to.deep.equal(EMPTY_VIEW);
    });

    it('a trailing slash names the same tea', async function () {
      await putOk(fx.lb, 'hojicha', 3, { a: 1 });
      const res = await request(fx.lb, { method: 'GET', path: '/rating/hojicha/' });
      expect(res.status).to.equal(200);
      expect(res.json().choices).to.deep.equal([3]);
    });

    it('a write sent directly to a DB is stored there', async function () {
      const other = (ring.primaryOf('rooibos') + 1) % NDB;
      expect(await putOk(fx.db(other), 'rooibos', 6, { z: 1 })).to.deep.equal({ rating: 6 });
      expect(await getOk(fx.db(other), 'rooibos')).to.deep.equal({ rating: 6, choices: [6], clocks: [{ z: 1 }] });
      expect(JSON.parse((await fx.redis[other].hgetall('/rating/rooibos')).choices)).to.deep.equal([6]);
    });

    it("weak reads answer 200 with the contract's shape", async function () {
      for (let k = 0; k < 5; k++) {
        const view = await getOk(fx.lb, 'assam', 'weak');
        expect(Object.keys(view).sort()).to.deep.equal(['choices', 'clocks', 'rating']);
        expect(view.choices.length).to.equal(view.clocks.length);
      }
    });
  });

  describeRatingErrors('LB', () => fx.lb);

  describe('consistency parameter at the LB', function () {
    it('strong and weak are fine; anything else, including an empty or repeated value, is 400', async function () {
      expect((await getRating(fx.lb, 'assam', 'strong')).status).to.equal(200);
      expect((await getRating(fx.lb, 'assam', 'weak')).status).to.equal(200);
      for (const query of ['consistency=other', 'consistency=', 'consistency=STRONG', 'consistency=strong&consistency=weak', 'consistency=eventual']) {
        expectError(await request(fx.lb, { method: 'GET', path: `/rating/assam?${query}` }), 400, /consistency/);
      }
      // Other query parameters are not the LB's business.
      expect((await request(fx.lb, { method: 'GET', path: '/rating/assam?foo=bar' })).status).to.equal(200);
    });
  });

  describeAfterAllThat(fx);
});
