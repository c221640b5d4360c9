/**
 * The queue service's lease, ack and wait routes, which the DBs use
 * (queue/httpQueue.ts): lease / ack of whole chunks, and a long poll; on a
 * serverQ of this file's own, with channels in memory and in a Redis. Each
 * test starts from an empty queue.
 */
import { expect } from 'chai';
import { NDJSON } from '../../lib/http/common';
import { parseLease } from '../../lib/queue/httpQueue';
import { expectError } from '../support/expect';
import { BACKINGS, describeInternalRoutes, describeQueueLogs, useOwnQueue, useQueueLayout } from '../support/queueServer';

describe('integration: the queue service\'s lease, ack and wait routes (its own serverQ from dist/)', function () {
  this.timeout(30_000);
  const file = useQueueLayout('queueLease');

  for (const backing of BACKINGS) describe(`the queue service (its own serverQ, channels in ${backing})`, function () {
    const own = useOwnQueue(file, backing);

    describeInternalRoutes(own, ({ qput, batchOk, lease, leaseOk, ack, ackOk, wait, waitOk, qgetText, clear, sleep }) => {
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

  describeQueueLogs(file);
});
