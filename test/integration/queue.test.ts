/**
 * The queue service's HTTP API (docs/protocol.md) on a serverQ of this file's own, so
 * that DELETE /clear counts are exact: with channels in memory (the contract's Q
 * arguments), and with channels in a Redis (the "redis" key the cluster's
 * queue is started with). The routes only the DBs use: queueBatch.test.ts and
 * queueLease.test.ts.
 */
import { expect } from 'chai';
import { LIMITS } from '../../lib/core/limits';
import { isAlive } from '../support/cluster';
import { expectError } from '../support/expect';
import { JSON_HEADERS, rawTcp, request } from '../support/http';
import { BACKINGS, QueueApi, describeQueueLogs, useOwnQueue, useQueueLayout } from '../support/queueServer';

describe('integration: the queue service\'s HTTP API (its own serverQ from dist/)', function () {
  this.timeout(30_000);
  const file = useQueueLayout('queue');

  for (const backing of BACKINGS) describe(`the queue service (its own serverQ, channels in ${backing})`, function () {
    const own = useOwnQueue(file, backing);
    const { qput, qget } = new QueueApi(() => own.port);

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
      const res = await request(own.port, { method: 'DELETE', path: '/clear' });
      expect(res.status).to.equal(200);
      const counts = res.json();
      expect(counts).to.include({ a: 2, b: 1 });
      for (const [channel, n] of Object.entries(counts)) {
        if (channel !== 'a' && channel !== 'b') expect(n, channel).to.equal(0);
      }
      expect(await qget('a')).to.deep.equal({});
      expect(await qget('b')).to.deep.equal({});
      expect((await request(own.port, { method: 'DELETE', path: '/clear' })).json()).to.deep.equal({});
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
      expectError(await request(own.port, { method: 'GET', path: '/q/ch', headers: { Accept: 'text/html' } }), 406);
      for (const path of ['/', '/q', '/q/', '/q/a/b', '/rating/x']) expectError(await request(own.port, { method: 'GET', path }), 404);
      const post = await request(own.port, { method: 'POST', path: '/q/ch', headers: JSON_HEADERS, body: '{}' });
      expectError(post, 405);
      expect(String(post.headers.allow).split(',').map((s) => s.trim()).sort()).to.deep.equal(['GET', 'PUT']);
      const getClear = await request(own.port, { method: 'GET', path: '/clear' });
      expectError(getClear, 405);
      expect(getClear.headers.allow).to.equal('DELETE');
      expectError(await qput('c'.repeat(257), '{"a": 1}'), 400, /channel/);
      expect((await qput('c'.repeat(256), '{"a": 1}')).status).to.equal(200);
    });

    it('survives garbage and abandoned requests', async function () {
      await rawTcp(own.port, 'GARBAGE\r\n\r\n');
      await rawTcp(own.port, 'PUT /q/x HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"a":', { end: false, waitMs: 200 });
      expect(isAlive(own.process!)).to.equal(true);
      expect((await qput('alive', '{"ok": true}')).json()).to.deep.equal({ channel: 'alive', length: 1 });
    });
  });

  describeQueueLogs(file);
});
