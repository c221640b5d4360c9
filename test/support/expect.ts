/** What the API tests expect of the servers' answers and logs, whatever the server. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import type { RawResponse } from './http';

export const EMPTY_VIEW = { rating: 0, choices: [], clocks: [] };

/** An error answer as the contract wants it: this status, a JSON body that is exactly {"error": "<non-empty>"}. */
export function expectError(res: RawResponse, status: number, mentions?: RegExp): string {
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
export const entriesOf = (o: object) => Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1));

/** No line of these logs (under logDir) is an error: no input reached a 500. */
export function expectNoInternalErrors(logDir: string, names: string[]): void {
  for (const name of names) {
    const log = readFileSync(join(logDir, name), 'utf8');
    const errors = log.split("\n").filter((line) => /^\S+ \S+ error /.test(line));
    expect(errors.length, `${name} has ${errors.length} error lines, the first: ${errors.slice(0, 3).join('\n')}`).to.equal(0);
  }
}
