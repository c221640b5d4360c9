/** The logger's rate limit: repeated warnings cost one line and a count per interval (issue 16). */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { createLogger } from '../../lib/log';

describe('lib/log warnEvery', () => {
  it('writes the first warning of a topic, counts the rest, and says the count when the interval ends', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'log-')), 'x.log');
    const log = createLogger('db9', file);
    for (let k = 0; k < 200_000; k++) log.warnEvery('bad', 100, `bad entry ${k}`);
    log.warnEvery('other', 100, 'another topic is not held back');
    await new Promise((r) => setTimeout(r, 250));
    log.warnEvery('bad', 100, 'bad entry after the interval');
    await log.close();
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => l.replace(/^\S+ db9 warn /, ''));
    expect(lines).to.deep.equal(['bad entry 0', 'another topic is not held back', '... and 199999 more like that (bad) in 0 s', 'bad entry after the interval']);
  });
});
