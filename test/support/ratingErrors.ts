/**
 * Every error of the contract's /rating/<tea> API, the same at the LB and at a DB
 * directly: one describe, run by lb.test.ts and db.test.ts against their own
 * cluster.
 */
import { gzipSync } from 'node:zlib';
import { expect } from 'chai';
import { LIMITS } from '../../lib/core/limits';
import { EMPTY_VIEW, entriesOf, expectError } from './expect';
import { JSON_HEADERS, RawResponse, deleteRating, getOk, getRating, putOk, putRating, request, teaPath } from './http';

/** Bodies a PUT must refuse with 400, and what the error must mention. */
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

/** What the tests of one target share: its port, its tea names, a PUT of a body to it. */
interface Target {
  port: () => number;
  tag: string;
  victim: string;
  put: (body: string | Buffer, headers?: Record<string, string>, tea?: string) => Promise<RawResponse>;
  good: string;
}

/** The errors of /rating/<tea> at `where`, on the port `port()` gives once the cluster runs. */
export function describeRatingErrors(where: string, port: () => number): void {
  describe(`every error, at the ${where}`, function () {
    // Tea names of their own per target, so gossip from the other target's tests cannot show up here.
    const tag = where === 'LB' ? 'lb' : 'db';
    const victim = `${tag}-victim`;
    const put = (body: string | Buffer, headers: Record<string, string> = JSON_HEADERS, tea = victim) =>
      request(port(), { method: 'PUT', path: teaPath(tea), headers, body });
    const target: Target = { port, tag, victim, put, good: '{"rating": 5, "clock": {"w": 1}}' };
    bodyErrors(target);
    nameAndRouteErrors(target);
  });
}

/** Content-Type, Accept, the body's JSON, its size and encoding. */
function bodyErrors({ port, tag, victim, put, good }: Target): void {
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
}

/** Tea names, routes, methods, and clocks or bodies meant to confuse. */
function nameAndRouteErrors({ port, tag, victim, put, good }: Target): void {
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
}
