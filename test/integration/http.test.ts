/**
 * The HTTP API of SPEC.md against a real cluster (Redis, Q, 3 DBs and the LB,
 * each a process from dist/): the happy path, every error at the LB, at a DB
 * directly and at the queue, hostile input, and that after all of it the
 * servers are alive and have lost nothing.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { expect } from 'chai';
import Redis from 'ioredis';
import { Cluster } from '../../tools/cluster/cluster';
import { Managed, NODE_SERVER_FLAGS } from '../../tools/cluster/processes';
import { Ring } from '../../lib/core/ring';
import { LIMITS } from '../../lib/core/limits';
import { NDJSON } from '../../lib/http/common';
import { parseLease } from '../../lib/queue/httpQueue';
import { allProcesses, isAlive, startCluster, startTracked, stopCluster, stopTracked } from '../support/cluster';
import {
  HOST, RawResponse, RatingView, deleteRating, getOk, getRating, putOk, putRating, rawTcp, request, teaPath,
} from '../support/http';
import { PORT_BLOCKS, TestLayout, claimTestLayout } from '../support/layout';

const NDB = 3;
const JSON_HEADERS = { 'Content-Type': 'application/json', Accept: 'application/json' };
const EMPTY_VIEW = { rating: 0, choices: [], clocks: [] };

/** An error answer as SPEC.md wants it: this status, a JSON body that is exactly {"error": "<non-empty>"}. */
function expectError(res: RawResponse, status: number, mentions?: RegExp): string {
  expect(res.status, `status (body ${res.text})`).to.equal(status);
  expect(res.headers['content-type'], 'content-type of an error').to.match(/^application\/json/);
  const body = res.json();
  expect(body, 'error body').to.be.an('object');
  expect(Object.keys(body)).to.deep.equal(['error']);
  expect(body.error).to.be.a('string').and.not.equal('');
  if (mentions) expect(body.error).to.match(mentions);
  return body.error;
}

/** Entries of a parsed JSON object, own keys only, sorted: `__proto__` included, as an own key. */
const entriesOf = (o: object) => Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1));

/**
 * POST a body the server may refuse before reading all of it (a 413). `request` sends Connection: close, so the
 * server closes once it has answered and the rest of a large upload races an EPIPE against the answer; here the
 * connection is keep-alive, the server drains what is left, and the socket is dropped once the answer is in.
 */
function postRefusable(port: number, path: string, headers: Record<string, string>, body: string | string[]): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const all: Record<string, string> = { ...headers, Connection: 'keep-alive' };
    if (typeof body === 'string') all['Content-Length'] = String(Buffer.byteLength(body));
    let settled = false;
    const r = http.request({ host: HOST, port, method: 'POST', path, headers: all, agent: false, timeout: 20_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        settled = true;
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) });
        r.destroy();
      });
    });
    r.on('timeout', () => r.destroy(new Error(`timed out: POST ${path} on ${port}`)));
    r.on('error', (e) => {
      if (!settled) reject(e);
    });
    if (typeof body === 'string') r.end(body);
    else {
      for (const c of body) r.write(c);
      r.end();
    }
  });
}

describe('integration: HTTP API of a real cluster (Redis, Q, 3 DBs, LB from dist/)', function () {
  this.timeout(30_000);
  let layout: TestLayout; // claimed in before: the first free slot of this file's port block
  const ring = new Ring(NDB);
  let lb = 0;
  const db = (i: number) => layout.dbBasePort + i;
  let cluster: Cluster | null = null;
  const redis: Redis[] = [];

  // Written before any bad input; must be exactly the same after all of it.
  const KEEPSAKE = 'keepsake';
  let keepsakeView: RatingView;
  let keepsakeHash: Record<string, string>;

  const hashAtPrimary = (tea: string) => redis[ring.primaryOf(tea)].hgetall(`/rating/${tea}`);

  before(async function () {
    this.timeout(60_000);
    layout = await claimTestLayout('http', PORT_BLOCKS.http, NDB);
    lb = layout.lbPort;
    cluster = await startCluster(layout, { digestLength: 2 });
    for (let i = 0; i < NDB; i++) redis.push(cluster.redisClient(i));
    await putOk(lb, KEEPSAKE, 3, { alice: 1 });
    await putOk(lb, KEEPSAKE, 5, { bob: 2 });
    keepsakeView = await getOk(lb, KEEPSAKE);
    keepsakeHash = await hashAtPrimary(KEEPSAKE);
    expect(keepsakeView).to.deep.equal({ rating: 4, choices: [3, 5], clocks: [{ alice: 1 }, { bob: 2 }] });
  });

  after(async function () {
    this.timeout(60_000);
    for (const r of redis) r.disconnect();
    await stopCluster(cluster);
  });

  describe('happy path through the LB', function () {
    it('PUT returns {"rating": mean of the choices}; a strong GET returns rating, choices and clocks', async function () {
      const first = await putRating(lb, 'assam', 4, { a: 1 });
      expect(first.status).to.equal(200);
      expect(first.headers['content-type']).to.match(/^application\/json/);
      expect(first.json()).to.deep.equal({ rating: 4 });
      expect(await putOk(lb, 'assam', 7, { b: 1 })).to.deep.equal({ rating: 5.5 });
      const expected = { rating: 5.5, choices: [4, 7], clocks: [{ a: 1 }, { b: 1 }] };
      expect(await getOk(lb, 'assam', 'strong')).to.deep.equal(expected);
      expect(await getOk(lb, 'assam')).to.deep.equal(expected);
      // The primary DB holds exactly that, in Redis under /rating/assam.
      expect(await getOk(db(ring.primaryOf('assam')), 'assam')).to.deep.equal(expected);
      const hash = await hashAtPrimary('assam');
      expect(JSON.parse(hash.choices)).to.deep.equal([4, 7]);
      expect(JSON.parse(hash.clocks)).to.deep.equal([{ a: 1 }, { b: 1 }]);
      expect(JSON.parse(hash.rating)).to.equal(5.5);
    });

    it('a newer clock replaces what it supersedes and a stale one changes nothing', async function () {
      await putOk(lb, 'darjeeling', 2, { a: 1 });
      await putOk(lb, 'darjeeling', 4, { b: 1 });
      expect(await putOk(lb, 'darjeeling', 9, { a: 2, b: 1 })).to.deep.equal({ rating: 9 });
      expect(await putOk(lb, 'darjeeling', 1, { a: 1 })).to.deep.equal({ rating: 9 });
      expect(await getOk(lb, 'darjeeling')).to.deep.equal({ rating: 9, choices: [9], clocks: [{ a: 2, b: 1 }] });
    });

    it('GET of an unknown tea is {"rating":0,"choices":[],"clocks":[]} at the LB (strong and weak) and at every DB', async function () {
      expect((await getRating(lb, 'no-such-tea')).json()).to.deep.equal(EMPTY_VIEW);
      expect(await getOk(lb, 'no-such-tea', 'strong')).to.deep.equal(EMPTY_VIEW);
      for (let k = 0; k < 6; k++) expect(await getOk(lb, 'no-such-tea', 'weak')).to.deep.equal(EMPTY_VIEW);
      for (let i = 0; i < NDB; i++) expect(await getOk(db(i), 'no-such-tea')).to.deep.equal(EMPTY_VIEW);
    });

    it('DELETE returns {"rating": null}, then the tea reads as unknown and a second DELETE is 404', async function () {
      await putOk(lb, 'sencha', 8, { a: 1 });
      const del = await deleteRating(lb, 'sencha');
      expect(del.status).to.equal(200);
      expect(del.json()).to.deep.equal({ rating: null });
      expect(await getOk(lb, 'sencha')).to.deep.equal(EMPTY_VIEW);
      expect(await redis[ring.primaryOf('sencha')].exists('/rating/sencha')).to.equal(0);
      expectError(await deleteRating(lb, 'sencha'), 404);
      expectError(await deleteRating(lb, 'never-existed'), 404);
      // The old write replayed does not resurrect it; a newer one does.
      expect(await putOk(lb, 'sencha', 8, { a: 1 })).to.deep.equal({ rating: 0 });
      expect(await putOk(lb, 'sencha', 6, { a: 2 })).to.deep.equal({ rating: 6 });
    });

    it('tea names are case-sensitive', async function () {
      await putOk(lb, 'Oolong', 1, { a: 1 });
      await putOk(lb, 'oolong', 2, { a: 1 });
      await putOk(lb, 'OOLONG', 3, { a: 1 });
      expect((await getOk(lb, 'Oolong')).choices).to.deep.equal([1]);
      expect((await getOk(lb, 'oolong')).choices).to.deep.equal([2]);
      expect((await getOk(lb, 'OOLONG')).choices).to.deep.equal([3]);
      expect(await getOk(lb, 'oOlOnG')).to.deep.equal(EMPTY_VIEW);
      expect(JSON.parse((await hashAtPrimary('Oolong')).choices)).to.deep.equal([1]);
      expect(JSON.parse((await hashAtPrimary('OOLONG')).choices)).to.deep.equal([3]);
    });

    const names = ['green tea', 'earl/grey', 'thé à la menthe', '茶', '🍵 matcha', '100% pure', 'a+b', 'what?is#this;', '...', '__proto__', 'constructor'];
    it(`percent-encoded names round-trip and live in Redis as /rating/<decoded>: ${names.map((n) => JSON.stringify(n)).join(' ')}`, async function () {
      for (const [k, name] of names.entries()) {
        expect(await putOk(lb, name, k + 1, { n: 1 }), name).to.deep.equal({ rating: k + 1 });
      }
      for (const [k, name] of names.entries()) {
        expect(await getOk(lb, name), name).to.deep.equal({ rating: k + 1, choices: [k + 1], clocks: [{ n: 1 }] });
        const hash = await hashAtPrimary(name);
        expect(JSON.parse(hash.choices ?? 'null'), `HGETALL /rating/${name}`).to.deep.equal([k + 1]);
      }
      expect(await redis[ring.primaryOf('earl/grey')].exists('/rating/earl%2Fgrey')).to.equal(0);
    });

    it('a name may be sent encoded or not: /rating/%61bc is abc, /rating/x+y is "x+y" (no form decoding)', async function () {
      await putOk(lb, 'abc', 5, { a: 1 });
      const res = await request(lb, { method: 'GET', path: '/rating/%61bc' });
      expect(res.json()).to.deep.equal({ rating: 5, choices: [5], clocks: [{ a: 1 }] });
      const put = await request(lb, { method: 'PUT', path: '/rating/x+y', headers: JSON_HEADERS, body: '{"rating":2,"clock":{"a":1}}' });
      expect(put.status).to.equal(200);
      expect((await getOk(lb, 'x+y')).choices).to.deep.equal([2]);
      expect(await getOk(lb, 'x y')).to.deep.equal(EMPTY_VIEW);
    });

    it('a trailing slash names the same tea', async function () {
      await putOk(lb, 'hojicha', 3, { a: 1 });
      const res = await request(lb, { method: 'GET', path: '/rating/hojicha/' });
      expect(res.status).to.equal(200);
      expect(res.json().choices).to.deep.equal([3]);
    });

    it('a write sent directly to a DB is stored there', async function () {
      const other = (ring.primaryOf('rooibos') + 1) % NDB;
      expect(await putOk(db(other), 'rooibos', 6, { z: 1 })).to.deep.equal({ rating: 6 });
      expect(await getOk(db(other), 'rooibos')).to.deep.equal({ rating: 6, choices: [6], clocks: [{ z: 1 }] });
      expect(JSON.parse((await redis[other].hgetall('/rating/rooibos')).choices)).to.deep.equal([6]);
    });

    it('weak reads answer 200 with the SPEC shape', async function () {
      for (let k = 0; k < 5; k++) {
        const view = await getOk(lb, 'assam', 'weak');
        expect(Object.keys(view).sort()).to.deep.equal(['choices', 'clocks', 'rating']);
        expect(view.choices.length).to.equal(view.clocks.length);
      }
    });
  });

  const targets: [string, () => number][] = [
    ['LB', () => lb],
    ['DB 1 directly', () => db(1)],
  ];

  for (const [where, port] of targets) {
    describe(`every error, at the ${where}`, function () {
      // Tea names of their own per target, so gossip from the other target's tests cannot show up here.
      const tag = where === 'LB' ? 'lb' : 'db';
      const victim = `${tag}-victim`;
      const put = (body: string | Buffer, headers: Record<string, string> = JSON_HEADERS, tea = victim) =>
        request(port(), { method: 'PUT', path: teaPath(tea), headers, body });
      const good = '{"rating": 5, "clock": {"w": 1}}';

      it('415 without a Content-Type, or with another one; application/json with a charset is fine', async function () {
        expectError(await put(good, { Accept: 'application/json' }), 415, /Content-Type/i);
        for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'text/json', 'application/jsonx', 'multipart/form-data; boundary=x']) {
          expectError(await put(good, { 'Content-Type': type }), 415, /Content-Type/i);
        }
        for (const type of ['application/json; charset=utf-8', 'application/json;charset=UTF-8', 'Application/JSON']) {
          const res = await put(good, { 'Content-Type': type }, `${tag}-charset-ok`);
          expect(res.status, `${type}: ${res.text}`).to.equal(200);
          expect(res.json()).to.deep.equal({ rating: 5 });
        }
      });

      it('406 when Accept excludes application/json; none, */*, application/* and a q-list with json are fine', async function () {
        expectError(await put(good, { 'Content-Type': 'application/json', Accept: 'text/html' }), 406);
        expectError(await request(port(), { method: 'GET', path: teaPath(victim), headers: { Accept: 'text/html' } }), 406);
        expectError(await request(port(), { method: 'DELETE', path: teaPath(victim), headers: { Accept: 'image/png' } }), 406);
        for (const accept of [undefined, '*/*', 'application/json', 'application/*', 'text/html, application/json;q=0.5']) {
          const headers: Record<string, string> = accept === undefined ? {} : { Accept: accept };
          const res = await request(port(), { method: 'GET', path: teaPath(victim), headers });
          expect(res.status, `Accept ${accept}: ${res.text}`).to.equal(200);
          expect(Object.keys(res.json()).sort()).to.deep.equal(['choices', 'clocks', 'rating']);
          const w = await put(good, accept === undefined ? { 'Content-Type': 'application/json' } : { 'Content-Type': 'application/json', Accept: accept }, `${tag}-accept-ok`);
          expect(w.status, `PUT with Accept ${accept}: ${w.text}`).to.equal(200);
        }
      });

      const badBodies: [string, string, RegExp][] = [
        ['unparseable JSON', 'not json', /JSON/],
        ['truncated JSON', '{"rating": 5, "clock": {"a": 1}', /JSON/],
        ['a JSON array', '[5, {"a": 1}]', /object/],
        ['a JSON string', '"five"', /JSON|object/],
        ['a JSON number', '5', /JSON|object/],
        ['JSON null', 'null', /JSON|object/],
        ['an empty body', '', /rating/],
        ['a missing rating', '{"clock": {"a": 1}}', /rating/],
        ['rating "5" (a string)', '{"rating": "5", "clock": {"a": 1}}', /rating/],
        ['rating null', '{"rating": null, "clock": {"a": 1}}', /rating/],
        ['rating true', '{"rating": true, "clock": {"a": 1}}', /rating/],
        ['rating [5]', '{"rating": [5], "clock": {"a": 1}}', /rating/],
        ['rating 1e999 (Infinity once parsed)', '{"rating": 1e999, "clock": {"a": 1}}', /rating/],
        ['a missing clock', '{"rating": 5}', /clock/],
        ['clock null', '{"rating": 5, "clock": null}', /clock/],
        ['clock an array', '{"rating": 5, "clock": [1, 2]}', /clock/],
        ['clock a string', '{"rating": 5, "clock": "a:1"}', /clock/],
        ['a negative counter', '{"rating": 5, "clock": {"a": -1}}', /clock|counter/],
        ['a non-integer counter', '{"rating": 5, "clock": {"a": 1.5}}', /clock|counter/],
        ['a string counter', '{"rating": 5, "clock": {"a": "1"}}', /clock|counter/],
        ['a null counter', '{"rating": 5, "clock": {"a": null}}', /clock|counter/],
        ['a counter beyond 2^53', '{"rating": 5, "clock": {"a": 9007199254740993}}', /clock|counter/],
        ['an empty client id', '{"rating": 5, "clock": {"": 1}}', /clock|client/],
        ['a client id over the limit', JSON.stringify({ rating: 5, clock: { ['x'.repeat(LIMITS.clientIdLength + 1)]: 1 } }), /clock|client/],
        [
          `a clock of ${LIMITS.clockEntries + 1} entries`,
          JSON.stringify({ rating: 5, clock: Object.fromEntries(Array.from({ length: LIMITS.clockEntries + 1 }, (_, i) => [`c${i}`, 1])) }),
          /clock|entries/,
        ],
      ];
      for (const [what, body, mentions] of badBodies) {
        it(`400 for ${what}, with an error naming the problem`, async function () {
          expectError(await put(body), 400, mentions);
        });
      }

      it('nothing was written to the tea all that bad input was aimed at', async function () {
        expect(await getOk(port(), victim)).to.deep.equal(EMPTY_VIEW);
      });

      it(`413 for a body over ${LIMITS.bodyBytes} bytes, with or without Content-Length, and for a gzip bomb`, async function () {
        const big = JSON.stringify({ rating: 5, clock: { a: 1 }, pad: 'x'.repeat(LIMITS.bodyBytes) });
        expectError(await put(big), 413, /larger|limit|bytes/);
        const chunks = Array.from({ length: 8 }, (_, i) => (i === 0 ? '{"rating":5,"clock":{"a":1},"pad":"' : 'y'.repeat(LIMITS.bodyBytes / 4)));
        expectError(await request(port(), { method: 'PUT', path: teaPath(victim), headers: JSON_HEADERS, body: chunks }), 413);
        const bomb = gzipSync(Buffer.from(`{"rating":5,"clock":{"a":1},"pad":"${' '.repeat(4 * 1024 * 1024)}"}`));
        expect(bomb.length).to.be.below(LIMITS.bodyBytes);
        expectError(await put(bomb, { ...JSON_HEADERS, 'Content-Encoding': 'gzip' }), 413);
        // Just under the limit is fine.
        const fits = JSON.stringify({ rating: 5, clock: { a: 1 }, pad: '' });
        const padded = fits.replace('"pad":""', `"pad":"${'z'.repeat(LIMITS.bodyBytes - fits.length)}"`);
        expect(Buffer.byteLength(padded)).to.equal(LIMITS.bodyBytes);
        const ok = await put(padded, JSON_HEADERS, `${tag}-just-fits`);
        expect(ok.status, ok.text).to.equal(200);
      });

      it('a gzip-encoded body is accepted (the LB passes it on with its Content-Encoding)', async function () {
        const res = await put(gzipSync(Buffer.from('{"rating": 3, "clock": {"z": 1}}')), { ...JSON_HEADERS, 'Content-Encoding': 'gzip' }, `${tag}-gzipped`);
        expect(res.status, res.text).to.equal(200);
        expect(await getOk(port(), `${tag}-gzipped`)).to.deep.equal({ rating: 3, choices: [3], clocks: [{ z: 1 }] });
      });

      it(`tea names: ${LIMITS.teaNameBytes} bytes is fine, one byte more is 400, counted in UTF-8 bytes`, async function () {
        const longest = 'a'.repeat(LIMITS.teaNameBytes);
        expect((await putRating(port(), longest, 1, { a: 1 })).status).to.equal(200);
        expect((await getOk(port(), longest)).choices).to.deep.equal([1]);
        expectError(await putRating(port(), longest + 'a', 1, { a: 1 }), 400, /tea name/);
        expectError(await getRating(port(), longest + 'a'), 400, /tea name/);
        expectError(await deleteRating(port(), longest + 'a'), 400, /tea name/);
        const wide = '茶'.repeat(Math.ceil((LIMITS.teaNameBytes + 1) / 3)); // 171 characters, 513 bytes
        expect(wide.length).to.be.below(LIMITS.teaNameBytes);
        expectError(await putRating(port(), wide, 1, { a: 1 }), 400, /tea name/);
      });

      it('malformed percent-encoding in a tea name is 400', async function () {
        for (const path of ['/rating/%E0%A4%A', '/rating/%ZZ', '/rating/abc%', '/rating/%C3%28', '/rating/%FF']) {
          expectError(await request(port(), { method: 'GET', path }), 400, /percent|encod/);
          expectError(await request(port(), { method: 'PUT', path, headers: JSON_HEADERS, body: good }), 400, /percent|encod/);
        }
      });

      it('"." and ".." are not tea names (URL parsers drop such segments): 400, also percent-encoded', async function () {
        for (const path of ['/rating/.', '/rating/..', '/rating/%2E', '/rating/%2e%2E']) {
          expectError(await request(port(), { method: 'GET', path }), 400, /tea name/);
          expectError(await request(port(), { method: 'PUT', path, headers: JSON_HEADERS, body: good }), 400, /tea name/);
          expectError(await request(port(), { method: 'DELETE', path }), 400, /tea name/);
        }
        // Dots are otherwise fine.
        for (const tea of ['....', '.hidden', 'a..b']) {
          expect((await putRating(port(), tea, 2, { a: 1 })).status, tea).to.equal(200);
          expect((await getOk(port(), tea)).choices, tea).to.deep.equal([2]);
        }
      });

      it('unknown routes are 404', async function () {
        for (const path of ['/', '/rating', '/rating/', '/rating/a/b', '/ratings/assam', '/q/db0', '/clear', '/rating/%2F/x']) {
          for (const method of ['GET', 'PUT', 'DELETE']) {
            const res = await request(port(), { method, path, headers: method === 'PUT' ? JSON_HEADERS : {}, body: method === 'PUT' ? good : undefined });
            expectError(res, 404);
          }
        }
      });

      it('wrong methods on /rating/<tea> are 405 with an Allow header', async function () {
        for (const method of ['POST', 'PATCH', 'OPTIONS']) {
          const res = await request(port(), { method, path: teaPath(victim), headers: JSON_HEADERS, body: good });
          expectError(res, 405, new RegExp(method));
          const allow = String(res.headers.allow).split(',').map((s) => s.trim()).sort();
          expect(allow).to.deep.equal(['DELETE', 'GET', 'PUT']);
        }
      });

      it('hostile clock ids (__proto__, constructor, toString, ...) are a clear 400 or are stored and read back intact', async function () {
        const hostile = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'prototype'];
        const outcomes: string[] = [];
        for (const [k, id] of hostile.entries()) {
          const tea = `${tag}-hostile-${id}`;
          const body = `{"rating": ${k + 1}, "clock": {"${id}": 2, "plain": 1}}`;
          const res = await put(body, JSON_HEADERS, tea);
          if (res.status === 400) {
            expectError(res, 400);
            expect(await getOk(port(), tea)).to.deep.equal(EMPTY_VIEW);
            outcomes.push(`${id}: 400`);
            continue;
          }
          expect(res.status, res.text).to.equal(200);
          expect(res.json()).to.deep.equal({ rating: k + 1 });
          const view = (await getRating(port(), tea)).json();
          expect(view.choices).to.deep.equal([k + 1]);
          expect(view.clocks).to.have.length(1);
          expect(entriesOf(view.clocks[0])).to.deep.equal(entriesOf(JSON.parse(`{"${id}": 2, "plain": 1}`)));
          // The id really takes part in the order: a higher counter supersedes, a lower one is stale.
          const newer = await put(`{"rating": 10, "clock": {"${id}": 3, "plain": 1}}`, JSON_HEADERS, tea);
          expect(newer.json()).to.deep.equal({ rating: 10 });
          const stale = await put(`{"rating": 20, "clock": {"${id}": 1}}`, JSON_HEADERS, tea);
          expect(stale.json()).to.deep.equal({ rating: 10 });
          const concurrent = await put(`{"rating": 20, "clock": {"other": 1}}`, JSON_HEADERS, tea);
          expect(concurrent.json()).to.deep.equal({ rating: 15 });
          outcomes.push(`${id}: stored`);
        }
        // A plain tea written afterwards behaves normally: nothing leaked into other objects.
        expect(await putOk(port(), `${tag}-after-hostile`, 4, { a: 1 })).to.deep.equal({ rating: 4 });
        expect(await getOk(port(), `${tag}-after-hostile`)).to.deep.equal({ rating: 4, choices: [4], clocks: [{ a: 1 }] });
        expect(await getOk(port(), `${tag}-never-written-after-hostile`)).to.deep.equal(EMPTY_VIEW);
        this.test!.title += ` [${outcomes.join(', ')}]`;
      });

      it('a queue message or gossip-shaped body is just a bad write', async function () {
        const tuple = '{"primary": "db0", "key": "victim", "rating": 1, "choices": [1], "clocks": [{"a": 1}]}';
        expectError(await put(tuple), 400, /clock/);
      });
    });
  }

  describe('consistency parameter at the LB', function () {
    it('strong and weak are fine; anything else, including an empty or repeated value, is 400', async function () {
      expect((await getRating(lb, 'assam', 'strong')).status).to.equal(200);
      expect((await getRating(lb, 'assam', 'weak')).status).to.equal(200);
      for (const query of ['consistency=other', 'consistency=', 'consistency=STRONG', 'consistency=strong&consistency=weak', 'consistency=eventual']) {
        expectError(await request(lb, { method: 'GET', path: `/rating/assam?${query}` }), 400, /consistency/);
      }
      // Other query parameters are not the LB's business.
      expect((await request(lb, { method: 'GET', path: '/rating/assam?foo=bar' })).status).to.equal(200);
    });
  });

  // SPEC's queue API, on a serverQ of its own (so DELETE /clear counts are exact): with channels in memory
  // (SPEC's Q arguments), and with channels in a Redis (the "redis" key the cluster's queue is started with).
  for (const backing of ['memory', 'redis'] as const) describe(`the queue service (its own serverQ, channels in ${backing})`, function () {
    let q: Managed | null = null;
    let qRedis: Managed | null = null;
    let qport = 0;
    const qput = (channel: string, body: string, headers: Record<string, string> = JSON_HEADERS) =>
      request(qport, { method: 'PUT', path: `/q/${channel}`, headers, body });
    const qget = async (channel: string) => {
      const res = await request(qport, { method: 'GET', path: `/q/${channel}` });
      expect(res.status, res.text).to.equal(200);
      return res.json();
    };

    before(async function () {
      qport = layout.spare(backing === 'memory' ? 0 : 1);
      const config: Record<string, unknown> = { id: 0, port: qport, nq: 1, ndb: NDB, logfile: join(layout.logDir, `serverQ-own-${backing}.log`) };
      if (backing === 'redis') {
        const port = layout.spare(2);
        const dir = join(layout.dataDir, `redis-${port}`);
        mkdirSync(dir, { recursive: true });
        const logfile = join(layout.logDir, `redis-${port}.log`);
        qRedis = await startTracked({
          role: "test queue's redis", host: layout.host, port, command: 'redis-server',
          args: ['--port', String(port), '--bind', layout.host, '--dir', dir, '--logfile', logfile, '--save', '', '--appendonly', 'no'],
          logfile,
        });
        config.redis = { host: layout.host, port };
      }
      q = await startTracked({
        role: `test queue (${backing})`, host: layout.host, port: qport, command: process.execPath,
        args: [join(layout.root, 'dist', 'serverQ.js'), JSON.stringify(config)],
        logfile: config.logfile as string,
      });
    });

    after(async function () {
      await stopTracked(q);
      await stopTracked(qRedis);
    });

    it('PUT /q/<ch> returns {"channel","length"}; GET returns messages in FIFO order, then {}', async function () {
      for (let n = 1; n <= 3; n++) {
        const res = await qput('ch', JSON.stringify({ n, text: `message ${n}` }));
        expect(res.status, res.text).to.equal(200);
        expect(res.json()).to.deep.equal({ channel: 'ch', length: n });
      }
      expect(await qget('ch')).to.deep.equal({ n: 1, text: 'message 1' });
      expect((await qput('ch', '{"n": 4}')).json()).to.deep.equal({ channel: 'ch', length: 3 });
      expect(await qget('ch')).to.deep.equal({ n: 2, text: 'message 2' });
      expect(await qget('ch')).to.deep.equal({ n: 3, text: 'message 3' });
      expect(await qget('ch')).to.deep.equal({ n: 4 });
      expect(await qget('ch')).to.deep.equal({});
      expect(await qget('ch')).to.deep.equal({});
    });

    it('GET of a channel never used is {}', async function () {
      expect(await qget('never-used')).to.deep.equal({});
    });

    it('channels are independent; messages come back exactly as sent (nested, unicode, gossip tuples)', async function () {
      const tuple = { primary: 'db2', key: 'thé 茶', rating: 1.5, choices: [1, 2], clocks: [{ a: 1 }, { b: 1 }] };
      await qput('db2', JSON.stringify(tuple));
      await qput('other', '{"x": {"y": [1, null, "z"]}}');
      expect(await qget('other')).to.deep.equal({ x: { y: [1, null, 'z'] } });
      expect(await qget('db2')).to.deep.equal(tuple);
    });

    it('DELETE /clear empties every channel and returns the counts before', async function () {
      await qput('a', '{"i": 1}');
      await qput('a', '{"i": 2}');
      await qput('b', '{"i": 3}');
      const res = await request(qport, { method: 'DELETE', path: '/clear' });
      expect(res.status).to.equal(200);
      const counts = res.json();
      expect(counts).to.include({ a: 2, b: 1 });
      for (const [channel, n] of Object.entries(counts)) {
        if (channel !== 'a' && channel !== 'b') expect(n, channel).to.equal(0);
      }
      expect(await qget('a')).to.deep.equal({});
      expect(await qget('b')).to.deep.equal({});
      expect((await request(qport, { method: 'DELETE', path: '/clear' })).json()).to.deep.equal({});
    });

    it('415 for a non-JSON Content-Type or none; a charset is fine', async function () {
      expectError(await qput('ch', '{"a": 1}', {}), 415, /Content-Type/i);
      expectError(await qput('ch', '{"a": 1}', { 'Content-Type': 'text/plain' }), 415);
      const ok = await qput('ch', '{"a": 1}', { 'Content-Type': 'application/json; charset=utf-8' });
      expect(ok.json()).to.deep.equal({ channel: 'ch', length: 1 });
      expect(await qget('ch')).to.deep.equal({ a: 1 });
    });

    it('400 for a body that is not a JSON object; 413 over the limit; nothing is queued', async function () {
      for (const body of ['[1, 2]', '"text"', '5', 'null', 'not json', '{"a":']) {
        expectError(await qput('bad', body), 400);
      }
      expectError(await qput('bad', JSON.stringify({ pad: 'x'.repeat(LIMITS.bodyBytes) })), 413);
      expect(await qget('bad')).to.deep.equal({});
    });

    it('406, 404 and 405 (with Allow) like the other servers; over-long channel names are 400', async function () {
      expectError(await request(qport, { method: 'GET', path: '/q/ch', headers: { Accept: 'text/html' } }), 406);
      for (const path of ['/', '/q', '/q/', '/q/a/b', '/rating/x']) expectError(await request(qport, { method: 'GET', path }), 404);
      const post = await request(qport, { method: 'POST', path: '/q/ch', headers: JSON_HEADERS, body: '{}' });
      expectError(post, 405);
      expect(String(post.headers.allow).split(',').map((s) => s.trim()).sort()).to.deep.equal(['GET', 'PUT']);
      const getClear = await request(qport, { method: 'GET', path: '/clear' });
      expectError(getClear, 405);
      expect(getClear.headers.allow).to.equal('DELETE');
      expectError(await qput('c'.repeat(257), '{"a": 1}'), 400, /channel/);
      expect((await qput('c'.repeat(256), '{"a": 1}')).status).to.equal(200);
    });

    it('survives garbage and abandoned requests', async function () {
      await rawTcp(qport, 'GARBAGE\r\n\r\n');
      await rawTcp(qport, 'PUT /q/x HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"a":', { end: false, waitMs: 200 });
      expect(isAlive(q!)).to.equal(true);
      expect((await qput('alive', '{"ok": true}')).json()).to.deep.equal({ channel: 'alive', length: 1 });
    });

    // The routes the DBs use (queue/httpQueue.ts): a batch put as NDJSON (one chunk), lease / ack of whole
    // chunks, and a long poll. Each test starts from an empty queue.
    describe('internal routes the DBs use: POST batch, lease, ack; GET wait', function () {
      const NDJSON_HEADERS = { 'Content-Type': NDJSON, Accept: 'application/json' };
      /** What HttpQueue.lease sends. */
      const LEASE_NDJSON = { Accept: `${NDJSON}, application/json;q=0.5` };
      const batch = (channel: string, body: string | Buffer, headers: Record<string, string> = NDJSON_HEADERS) =>
        request(qport, { method: 'POST', path: `/q/${channel}/batch`, headers, body });
      const batchOk = async (channel: string, body: string) => {
        const res = await batch(channel, body);
        expect(res.status, res.text).to.equal(200);
        return res.json();
      };
      const lease = (channel: string, query: string, headers: Record<string, string> = LEASE_NDJSON) =>
        request(qport, { method: 'POST', path: `/q/${channel}/lease${query}`, headers });
      /** An NDJSON lease that must succeed: its chunks as parseLease reads them, after checking the text line by line. */
      const leaseOk = async (channel: string, max: number, ms: number) => {
        const res = await lease(channel, `?max=${max}&ms=${ms}`);
        expect(res.status, res.text).to.equal(200);
        expect(res.headers['content-type']).to.match(/^application\/x-ndjson/);
        expect(res.text.endsWith('\n'), 'ends with a newline').to.equal(true);
        const lines = res.text.slice(0, -1).split('\n');
        const header = JSON.parse(lines[0]);
        expect(Object.keys(header)).to.deep.equal(['chunks']);
        const total = header.chunks.reduce((n: number, c: { n: number }) => n + c.n, 0);
        expect(lines.length, `one line per message after the header: ${res.text}`).to.equal(1 + total);
        const chunks = parseLease(res.text);
        expect(chunks.map((c) => ({ id: c.id, n: c.messages.length }))).to.deep.equal(header.chunks);
        for (const c of chunks) expect(c.id).to.be.a('string').and.not.equal('');
        return chunks;
      };
      const ack = (channel: string, body: string, headers: Record<string, string> = JSON_HEADERS) =>
        request(qport, { method: 'POST', path: `/q/${channel}/ack`, headers, body });
      const ackOk = async (channel: string, ids: string[]): Promise<number> => {
        const res = await ack(channel, JSON.stringify({ ids }));
        expect(res.status, res.text).to.equal(200);
        const body = res.json();
        expect(Object.keys(body)).to.deep.equal(['acked']);
        return body.acked;
      };
      const wait = (channel: string, query: string, timeoutMs = 10_000) =>
        request(qport, { method: 'GET', path: `/q/${channel}/wait${query}`, headers: { Accept: 'application/json' }, timeoutMs });
      /** A wait that must succeed: its {"waiting"} and how long it took. */
      const waitOk = async (channel: string, ms: number) => {
        const t0 = Date.now();
        const res = await wait(channel, `?ms=${ms}`);
        const elapsed = Date.now() - t0;
        expect(res.status, res.text).to.equal(200);
        const body = res.json();
        expect(Object.keys(body)).to.deep.equal(['waiting']);
        return { waiting: body.waiting as number, elapsed };
      };
      /** GET /q/<ch>: the raw text, so byte-exactness can be checked. */
      const qgetText = async (channel: string) => {
        const res = await request(qport, { method: 'GET', path: `/q/${channel}` });
        expect(res.status, res.text).to.equal(200);
        expect(res.headers['content-type']).to.match(/^application\/json/);
        return res.text;
      };
      const clear = async () => {
        const res = await request(qport, { method: 'DELETE', path: '/clear' });
        expect(res.status, res.text).to.equal(200);
        return res.json();
      };
      const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

      beforeEach(async function () {
        await clear();
        expect(await clear(), 'the queue is empty before each test').to.deep.equal({});
      });

      it('POST /q/<ch>/batch (blank line, CRLF, odd spacing) queues the lines; GET takes them one by one, byte-exact, then {}', async function () {
        const body = ' {"b": 2,  "a":1}\r\n\r\n{"n":2}\r\n  {"n" : 3, "s": "thé 茶 \\n"}  \r\n';
        const res = await batch('bt', body);
        expect(res.status, res.text).to.equal(200);
        expect(res.headers['content-type']).to.match(/^application\/json/);
        expect(res.json()).to.deep.equal({ channel: 'bt', length: 3 });
        expect(await qgetText('bt')).to.equal('{"b": 2,  "a":1}');
        expect(await qgetText('bt')).to.equal('{"n":2}');
        expect(await qgetText('bt')).to.equal('{"n" : 3, "s": "thé 茶 \\n"}');
        expect(await qgetText('bt')).to.equal('{}');
        expect(await qgetText('bt')).to.equal('{}');
      });

      it('batch length counts every message waiting (PUT and batches alike); a charset parameter is fine; FIFO across them', async function () {
        expect((await qput('bt', '{"put": 1}')).json()).to.deep.equal({ channel: 'bt', length: 1 });
        expect(await batchOk('bt', '{"b": 1}\n{"b": 2}')).to.deep.equal({ channel: 'bt', length: 3 });
        const res = await batch('bt', '{"b": 3}\n', { 'Content-Type': `${NDJSON}; charset=utf-8` });
        expect(res.status, res.text).to.equal(200);
        expect(res.json()).to.deep.equal({ channel: 'bt', length: 4 });
        expect(await batchOk('other', '{"o": 1}')).to.deep.equal({ channel: 'other', length: 1 });
        for (const want of ['{"put":1}', '{"b": 1}', '{"b": 2}', '{"b": 3}', '{}']) expect(await qgetText('bt')).to.equal(want);
        expect(await qgetText('other')).to.equal('{"o": 1}');
      });

      it('an empty batch, or one of only blank lines, queues nothing: 200 with the current length', async function () {
        await batchOk('bt', '{"x": 1}');
        for (const body of ['', '\n', '\r\n\r\n', '  \n\t\n']) {
          expect(await batchOk('bt', body), JSON.stringify(body)).to.deep.equal({ channel: 'bt', length: 1 });
        }
        expect(await qgetText('bt')).to.equal('{"x": 1}');
        expect(await qgetText('bt')).to.equal('{}');
      });

      const badBatches: [string, string, number, RegExp][] = [
        ['a line that is not JSON', '{"ok": 1}\n{"ok": 2}\nnot json\n{"ok": 4}', 3, /not JSON/],
        ['a truncated line', '{"ok": 1}\n{"ok":', 2, /not JSON/],
        ['two objects on one line', '{"a": 1}{"b": 2}', 1, /not JSON/],
        ['a JSON array (after a blank line)', '{"ok": 1}\n\n[1, 2]\n{"ok": 4}', 3, /object/],
        ['a number', '5\n{"ok": 2}', 1, /object/],
        ['a string', '{"ok": 1}\r\n"text"\r\n', 2, /object/],
        ['null', '{"ok": 1}\n{"ok": 2}\n{"ok": 3}\n{"ok": 4}\nnull', 5, /object/],
      ];
      for (const [what, body, line, mentions] of badBatches) {
        it(`400 naming line ${line} for a batch with ${what}; nothing of the batch is queued`, async function () {
          const error = expectError(await batch('bad', body), 400, mentions);
          expect(error).to.match(new RegExp(`\\bline ${line}\\b`));
          expect(await qgetText('bad')).to.equal('{}');
          expect((await waitOk('bad', 0)).waiting).to.equal(0);
          expect(await clear()).to.deep.equal({});
        });
      }

      it('415 for a batch without the NDJSON Content-Type (none, application/json, text/plain); nothing queued', async function () {
        const wrong: Record<string, string>[] = [{ Accept: 'application/json' }, JSON_HEADERS, { 'Content-Type': 'text/plain' }, { 'Content-Type': 'application/x-ndjsonx' }];
        for (const headers of wrong) {
          expectError(await batch('bt', '{"a": 1}\n{"b": 2}', headers), 415, /Content-Type/);
        }
        expect(await clear()).to.deep.equal({});
      });

      it(`a batch may be larger than a client body (${LIMITS.bodyBytes} bytes); over ${LIMITS.bulkBytes} bytes it is 413 and nothing is queued`, async function () {
        const pad = 'p'.repeat(LIMITS.bodyBytes);
        const lines = [1, 2, 3].map((i) => JSON.stringify({ i, pad }));
        expect(await batchOk('big', lines.join('\n'))).to.deep.equal({ channel: 'big', length: 3 });
        for (const line of lines) expect(await qgetText('big')).to.equal(line);
        const huge = `{"pad":"${'h'.repeat(LIMITS.bulkBytes)}"}`;
        expect(Buffer.byteLength(huge)).to.be.above(LIMITS.bulkBytes);
        expectError(await postRefusable(qport, '/q/big/batch', NDJSON_HEADERS, huge), 413, /larger|bytes/);
        // Without a Content-Length too (chunked): the limit is on what arrives.
        const chunks = Array.from({ length: 9 }, (_, i) => (i === 0 ? '{"pad":"' : 'c'.repeat(LIMITS.bulkBytes / 8)));
        expectError(await postRefusable(qport, '/q/big/batch', NDJSON_HEADERS, chunks), 413, /larger|bytes/);
        expect(await qgetText('big')).to.equal('{}');
        expect(await clear()).to.deep.equal({});
      });

      it('lease (NDJSON) takes whole chunks until max: a chunk of 3 for max=1, then the chunk of 2; ack forgets them once', async function () {
        const first = ['{"m": 1}', '{"m":2, "x": [1, 2]}', '{"m": 3, "s": "thé"}'];
        const second = ['{"m": 4}', '{ "m" : 5 }'];
        await batchOk('ls', first.join('\n'));
        expect(await batchOk('ls', second.join('\r\n'))).to.deep.equal({ channel: 'ls', length: 5 });

        const res = await lease('ls', '?max=1&ms=10000');
        expect(res.status, res.text).to.equal(200);
        const a = parseLease(res.text);
        expect(a).to.have.length(1);
        expect(a[0].messages).to.deep.equal(first);
        // Byte for byte: the header, then the messages as sent, one per line.
        expect(res.text).to.equal(`${JSON.stringify({ chunks: [{ id: a[0].id, n: 3 }] })}\n${first.join('\n')}\n`);
        expect((await waitOk('ls', 0)).waiting, 'leased messages do not wait').to.equal(2);

        const b = await leaseOk('ls', 10, 10_000);
        expect(b).to.have.length(1);
        expect(b[0].messages).to.deep.equal(second);
        expect(b[0].id).to.not.equal(a[0].id);
        expect((await waitOk('ls', 0)).waiting).to.equal(0);
        expect(await leaseOk('ls', 10, 10_000), 'nothing left to lease').to.deep.equal([]);
        expect(await qgetText('ls'), 'leased messages are not taken by GET').to.equal('{}');

        expect(await ackOk('ls', [a[0].id, b[0].id])).to.equal(2);
        expect(await ackOk('ls', [a[0].id, b[0].id])).to.equal(0);
        expect(await ackOk('ls', [])).to.equal(0);
        expect(await clear(), 'acknowledged chunks are gone').to.deep.equal({});
      });

      it('an empty lease is {"chunks":[]} (NDJSON and JSON)', async function () {
        const nd = await lease('empty', '?max=5&ms=1000');
        expect(nd.status, nd.text).to.equal(200);
        expect(nd.text).to.equal('{"chunks":[]}\n');
        expect(parseLease(nd.text)).to.deep.equal([]);
        const js = await lease('empty', '?max=5&ms=1000', { Accept: 'application/json' });
        expect(js.status, js.text).to.equal(200);
        expect(js.json()).to.deep.equal({ chunks: [] });
      });

      it('lease stops at the first chunk that reaches max: max=4 over chunks of 3, 2, 1 leases 3 + 2', async function () {
        await batchOk('lm', '{"c": 1, "i": 1}\n{"c": 1, "i": 2}\n{"c": 1, "i": 3}');
        await batchOk('lm', '{"c": 2, "i": 1}\n{"c": 2, "i": 2}');
        await qput('lm', '{"c": 3, "i": 1}');
        const chunks = await leaseOk('lm', 4, 10_000);
        expect(chunks.map((c) => c.messages.map((m) => JSON.parse(m)))).to.deep.equal([
          [{ c: 1, i: 1 }, { c: 1, i: 2 }, { c: 1, i: 3 }],
          [{ c: 2, i: 1 }, { c: 2, i: 2 }],
        ]);
        expect(new Set(chunks.map((c) => c.id)).size).to.equal(2);
        const rest = await leaseOk('lm', 4, 10_000);
        expect(rest.map((c) => c.messages)).to.deep.equal([['{"c":3,"i":1}']]);
        expect(await ackOk('lm', [...chunks, ...rest].map((c) => c.id))).to.equal(3);
      });

      it('GET splits a chunk; a lease then gets what is left of it as one chunk', async function () {
        await batchOk('split', '{"s": 1}\n{"s": 2}\n{"s": 3}');
        await batchOk('split', '{"s": 4}');
        expect(await qgetText('split')).to.equal('{"s": 1}');
        const chunks = await leaseOk('split', 1, 10_000);
        expect(chunks.map((c) => c.messages)).to.deep.equal([['{"s": 2}', '{"s": 3}']]);
        expect(await qgetText('split')).to.equal('{"s": 4}');
        expect(await ackOk('split', [chunks[0].id])).to.equal(1);
        expect(await clear()).to.deep.equal({});
      });

      it('lease with Accept: application/json answers one JSON object with the messages parsed', async function () {
        await batchOk('lj', ' {"b": 2,  "a":1}\n{"n": [1, {"x": null}]}\n{"t": "茶"}');
        await batchOk('lj', '{"second": true}\n{"second": 2}');
        const res = await lease('lj', '?max=1&ms=10000', { Accept: 'application/json' });
        expect(res.status, res.text).to.equal(200);
        expect(res.headers['content-type']).to.match(/^application\/json/);
        const body = res.json();
        expect(Object.keys(body)).to.deep.equal(['chunks']);
        expect(body.chunks).to.have.length(1);
        const id = body.chunks[0].id;
        expect(id).to.be.a('string').and.not.equal('');
        expect(body).to.deep.equal({ chunks: [{ id, messages: [{ b: 2, a: 1 }, { n: [1, { x: null }] }, { t: '茶' }] }] });
        // Not re-encoded: the messages' text is in the answer as it was sent.
        expect(res.text).to.include('{"b": 2,  "a":1}');

        const next = await lease('lj', '?max=10&ms=10000', { Accept: 'application/json' });
        expect(next.status, next.text).to.equal(200);
        const second = next.json();
        expect(second.chunks).to.have.length(1);
        expect(second).to.deep.equal({ chunks: [{ id: second.chunks[0].id, messages: [{ second: true }, { second: 2 }] }] });
        expect(second.chunks[0].id).to.not.equal(id);
        expect(await ackOk('lj', [id, second.chunks[0].id])).to.equal(2);
        expect(await clear()).to.deep.equal({});
      });

      it('lease without an Accept header answers JSON too (only a client that asks for NDJSON gets it)', async function () {
        await batchOk('ln', '{"n": 1}\n{"n": 2}');
        const res = await lease('ln', '?max=10&ms=10000', {});
        expect(res.status, res.text).to.equal(200);
        expect(res.headers['content-type'], `answer: ${JSON.stringify(res.text)}`).to.match(/^application\/json/);
        const body = res.json();
        expect(body.chunks).to.have.length(1);
        expect(body).to.deep.equal({ chunks: [{ id: body.chunks[0].id, messages: [{ n: 1 }, { n: 2 }] }] });
        expect(await ackOk('ln', [body.chunks[0].id])).to.equal(1);
      });

      it('a lease not acknowledged within ms comes back, in front and in order, under a new id; the old id then acks 0', async function () {
        await batchOk('exp', '{"e": 1}\n{"e": 2}');
        await batchOk('exp', '{"e": 3}');
        const [first] = await leaseOk('exp', 1, 200);
        expect(first.messages).to.deep.equal(['{"e": 1}', '{"e": 2}']);
        // Still leased: neither waiting nor leasable.
        expect((await waitOk('exp', 0)).waiting).to.equal(1);
        await sleep(350);
        expect((await waitOk('exp', 0)).waiting, 'the expired lease waits again').to.equal(3);
        const again = await leaseOk('exp', 10, 10_000);
        expect(again.map((c) => c.messages)).to.deep.equal([['{"e": 1}', '{"e": 2}'], ['{"e": 3}']]);
        expect(again[0].id).to.not.equal(first.id);
        expect(again[1].id).to.not.equal(first.id);
        expect(await ackOk('exp', [first.id])).to.equal(0);
        expect(await ackOk('exp', again.map((c) => c.id))).to.equal(2);
        expect(await clear()).to.deep.equal({});
      });

      it('an expired lease that nobody asked about is void: its ack is 0 and the messages are back for GET', async function () {
        await batchOk('exp2', '{"v": 1}\n{"v": 2}');
        const [chunk] = await leaseOk('exp2', 1, 200);
        await sleep(350);
        expect(await ackOk('exp2', [chunk.id])).to.equal(0);
        expect(await qgetText('exp2')).to.equal('{"v": 1}');
        expect(await qgetText('exp2')).to.equal('{"v": 2}');
        expect(await qgetText('exp2')).to.equal('{}');
      });

      it('an ack counts only ids leased on that channel; unknown ids count 0; DELETE /clear counts leased messages', async function () {
        await batchOk('ka', '{"k": 1}\n{"k": 2}');
        await batchOk('kb', '{"k": 3}');
        const [a] = await leaseOk('ka', 1, 10_000);
        const [b] = await leaseOk('kb', 1, 10_000);
        expect(await ackOk('kb', [a.id])).to.equal(0);
        expect(await ackOk('ka', ['no-such-id', '999999999', b.id])).to.equal(0);
        expect(await clear(), 'leased messages are counted and dropped').to.deep.equal({ ka: 2, kb: 1 });
        expect(await ackOk('ka', [a.id])).to.equal(0);
        expect(await leaseOk('ka', 10, 10_000)).to.deep.equal([]);
      });

      it('lease parameters out of range or missing are 400 and lease nothing', async function () {
        await batchOk('lp', '{"p": 1}');
        for (const query of ['', '?ms=1000', '?max=5', '?max=0&ms=1000', '?max=-1&ms=1000', '?max=10001&ms=1000', '?max=1.5&ms=1000', '?max=abc&ms=1000',
          '?max=&ms=1000', '?max=1&ms=0', '?max=1&ms=60001', '?max=1&ms=2.5', '?max=1&ms=soon']) {
          expectError(await lease('lp', query), 400, /max|ms/);
        }
        // The edges are fine.
        const [chunk] = await leaseOk('lp', 10_000, 60_000);
        expect(chunk.messages).to.deep.equal(['{"p": 1}']);
        expect(await ackOk('lp', [chunk.id])).to.equal(1);
        expect(await leaseOk('lp', 1, 1)).to.deep.equal([]);
      });

      it('lease ?ack=<ids> acknowledges the previous round in the same call; a malformed ack is 400 and acknowledges nothing', async function () {
        await batchOk('la', '{"a": 1}');
        await batchOk('la', '{"a": 2}');
        const first = await leaseOk('la', 1, 60_000);
        expect(first.map((c) => c.messages)).to.deep.equal([['{"a": 1}']]);
        for (const query of [`&ack=${first[0].id},`, `&ack=x${first[0].id}`, `&ack=${first[0].id}&ack=${first[0].id}`, '&ack=1;2', '&ack=-1']) {
          expectError(await lease('la', `?max=1&ms=60000${query}`), 400, /ack/);
        }
        expect((await waitOk('la', 0)).waiting, 'the 400s leased nothing').to.equal(1);
        const res = await lease('la', `?max=1&ms=60000&ack=${first[0].id}`);
        expect(res.status, res.text).to.equal(200);
        const second = parseLease(res.text);
        expect(second.map((c) => c.messages)).to.deep.equal([['{"a": 2}']]);
        expect(await ackOk('la', [first[0].id]), 'the lease acknowledged the first round').to.equal(0);
        const ids = `${second[0].id},${first[0].id}`;
        expect((await lease('la', `?max=1&ms=60000&ack=${ids}`)).status, 'acknowledging an id again is harmless').to.equal(200);
        expect(await clear(), 'both rounds acknowledged').to.deep.equal({});
      });

      it('ack: 415 without a JSON Content-Type; 400 for a body that is not {"ids": [<string>, ...]}; the lease survives', async function () {
        await batchOk('ab', '{"a": 1}');
        const [chunk] = await leaseOk('ab', 1, 10_000);
        const good = JSON.stringify({ ids: [chunk.id] });
        expectError(await ack('ab', good, { Accept: 'application/json' }), 415, /Content-Type/);
        expectError(await ack('ab', good, { 'Content-Type': NDJSON }), 415, /Content-Type/);
        expectError(await ack('ab', good, { 'Content-Type': 'text/plain' }), 415, /Content-Type/);
        for (const body of ['not json', '{"ids":', '[]', `[${JSON.stringify(chunk.id)}]`, '{}', '{"ids": null}', `{"ids": ${JSON.stringify(chunk.id)}}`,
          '{"ids": [1, 2]}', `{"ids": [${JSON.stringify(chunk.id)}, null]}`, '{"ids": {"0": "1"}}', '5', '"x"', '']) {
          expectError(await ack('ab', body), 400);
        }
        expect(await ackOk('ab', [chunk.id]), 'no bad ack touched the lease').to.equal(1);
      });

      it('GET wait answers at once when messages wait, without taking them; ms=0 answers at once anyway', async function () {
        await batchOk('w', '{"w": 1}\n{"w": 2}');
        const now = await waitOk('w', 5000);
        expect(now.waiting).to.equal(2);
        expect(now.elapsed).to.be.below(1000);
        const zero = await waitOk('empty-w', 0);
        expect(zero).to.include({ waiting: 0 });
        expect(zero.elapsed).to.be.below(1000);
        expect(await qgetText('w')).to.equal('{"w": 1}');
        expect((await waitOk('w', 0)).waiting).to.equal(1);
      });

      it('GET wait on an empty channel answers {"waiting": 0} after about ms', async function () {
        const { waiting, elapsed } = await waitOk('idle', 400);
        expect(waiting).to.equal(0);
        expect(elapsed).to.be.at.least(350);
        expect(elapsed).to.be.below(3000);
      });

      it('GET wait is woken by a batch or a PUT on its channel, not by another channel', async function () {
        const t0 = Date.now();
        const pending = waitOk('wake', 5000);
        await sleep(150);
        await batchOk('not-wake', '{"other": 1}');
        await sleep(150);
        await batchOk('wake', '{"x": 1}\n{"x": 2}\n{"x": 3}');
        const { waiting } = await pending;
        const elapsed = Date.now() - t0;
        expect(waiting).to.equal(3);
        expect(elapsed).to.be.at.least(250);
        expect(elapsed).to.be.below(2500);

        const t1 = Date.now();
        const byPut = waitOk('wake2', 5000);
        await sleep(150);
        expect((await qput('wake2', '{"p": 1}')).status).to.equal(200);
        expect((await byPut).waiting).to.equal(1);
        expect(Date.now() - t1).to.be.below(2500);
      });

      it('leased messages do not count as waiting: a wait on a channel whose messages are all leased times out with 0', async function () {
        await batchOk('wl', '{"l": 1}');
        const [chunk] = await leaseOk('wl', 1, 10_000);
        const { waiting, elapsed } = await waitOk('wl', 300);
        expect(waiting).to.equal(0);
        expect(elapsed).to.be.at.least(250);
        expect(await ackOk('wl', [chunk.id])).to.equal(1);
      });

      it('GET wait with ms out of range or missing is 400', async function () {
        for (const query of ['', '?ms=-1', '?ms=60001', '?ms=1.5', '?ms=soon']) {
          expectError(await wait('w', query), 400, /ms/);
        }
      });
    });
  });

  describe('after all that', function () {
    it('garbage that is not HTTP, and requests abandoned mid-body, crash nothing', async function () {
      for (const port of [lb, db(0), db(1), db(2), layout.qPort]) {
        const reply = await rawTcp(port, 'HELLO\r\nthis is not http\r\n\r\n');
        expect(reply, `reply on ${port}`).to.match(/^HTTP\/1\.1 400/);
        await rawTcp(
          port,
          `PUT /rating/keepsake HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"rating": 1, "clock": {"alice": 9`,
          { end: false, waitMs: 200 },
        );
      }
    });

    it('every process is still running', function () {
      for (const p of allProcesses(cluster!)) expect(isAlive(p), `${p.role} on ${p.port}`).to.equal(true);
    });

    it('every node server runs with the V8 flags the cluster gives its servers', function () {
      const servers = allProcesses(cluster!).filter((p) => p.child.spawnfile === process.execPath);
      expect(servers.map((p) => p.role)).to.include.members(['queue', 'db 0', 'db 1', 'db 2', 'load balancer']);
      for (const p of servers) {
        const argv = readFileSync(`/proc/${p.child.pid}/cmdline`, 'utf8').split('\0');
        for (const flag of NODE_SERVER_FLAGS) expect(argv, p.role).to.include(flag);
      }
    });

    it('a normal PUT and GET still work through the LB and at every DB', async function () {
      expect(await putOk(lb, 'final', 2, { a: 1 })).to.deep.equal({ rating: 2 });
      expect(await putOk(lb, 'final', 4, { b: 1 })).to.deep.equal({ rating: 3 });
      expect(await getOk(lb, 'final')).to.deep.equal({ rating: 3, choices: [2, 4], clocks: [{ a: 1 }, { b: 1 }] });
      for (let i = 0; i < NDB; i++) expect((await getRating(db(i), 'final')).status).to.equal(200);
    });

    it('the tea written before all the bad input is unchanged (loses nothing), at the LB and in Redis', async function () {
      expect(await getOk(lb, KEEPSAKE)).to.deep.equal(keepsakeView);
      expect(await getOk(db(ring.primaryOf(KEEPSAKE)), KEEPSAKE)).to.deep.equal(keepsakeView);
      expect(await hashAtPrimary(KEEPSAKE)).to.deep.equal(keepsakeHash);
    });

    it('no server logged an internal error (no input reached a 500)', function () {
      for (const name of ['serverLB0.log', 'serverDB0.log', 'serverDB1.log', 'serverDB2.log', 'serverQ0.log', 'serverQ-own-memory.log', 'serverQ-own-redis.log']) {
        const log = readFileSync(join(layout.logDir, name), 'utf8');
        const errors = log.split("\n").filter((line) => /^\S+ \S+ error /.test(line));
        expect(errors.length, `${name} has ${errors.length} error lines, the first: ${errors.slice(0, 3).join('\n')}`).to.equal(0);
      }
    });
  });
});
