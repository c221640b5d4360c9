/**
 * The queue service's batch route, beside the contract's:
 * a batch put as NDJSON (one chunk); on a serverQ of this file's own, with
 * channels in memory and in a Redis. Each test starts from an empty queue.
 */
import { expect } from 'chai';
import { LIMITS } from '../../lib/core/limits';
import { NDJSON } from '../../lib/http/common';
import { expectError } from '../support/expect';
import { JSON_HEADERS, postRefusable } from '../support/http';
import { BACKINGS, describeInternalRoutes, describeQueueLogs, useOwnQueue, useQueueLayout } from '../support/queueServer';

describe('integration: the queue service\'s batch route (its own serverQ from dist/)', function () {
  this.timeout(30_000);
  const file = useQueueLayout('queueBatch');

  for (const backing of BACKINGS) describe(`the queue service (its own serverQ, channels in ${backing})`, function () {
    const own = useOwnQueue(file, backing);

    describeInternalRoutes(own, ({ qput, NDJSON_HEADERS, batch, batchOk, stats, qgetText, clear }) => {
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
        expect((await stats()).bad?.held ?? 0).to.equal(0);
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
      expectError(await postRefusable(own.port, '/q/big/batch', NDJSON_HEADERS, huge), 413, /larger|bytes/);
      // Without a Content-Length too (chunked): the limit is on what arrives.
      const chunks = Array.from({ length: 9 }, (_, i) => (i === 0 ? '{"pad":"' : 'c'.repeat(LIMITS.bulkBytes / 8)));
      expectError(await postRefusable(own.port, '/q/big/batch', NDJSON_HEADERS, chunks), 413, /larger|bytes/);
      expect(await qgetText('big')).to.equal('{}');
      expect(await clear()).to.deep.equal({});
    });
    });
  });

  describeQueueLogs(file);
});
