/** Addresses, contexts and peer messages from untrusted JSON (lib/kv/core/address, context, wire). */
import { expect } from 'chai';
import { makeClock } from '../../../lib/core/clock';
import { parseAddress, parseViewList } from '../../../lib/kv/core/address';
import { covers, parseClock } from '../../../lib/kv/core/context';
import { KV_LIMITS } from '../../../lib/kv/core/limits';
import { parseVersion, parseWrite } from '../../../lib/kv/core/wire';

describe('kv parsing', () => {
  it('addresses are host:port with a port from 1 to 65535', () => {
    expect(parseAddress('10.0.0.2:8080')).to.deep.equal({ host: '10.0.0.2', port: 8080 });
    expect(parseAddress('node-1.local:80')).to.deep.equal({ host: 'node-1.local', port: 80 });
    for (const bad of ['', '10.0.0.2', ':80', '10.0.0.2:0', '10.0.0.2:65536', 'a b:80', 42, null]) {
      expect(parseAddress(bad), JSON.stringify(bad)).to.be.a('string');
    }
    expect(parseViewList(' 10.0.0.2:8080, 10.0.0.3:8080,,10.0.0.2:8080')).to.deep.equal(['10.0.0.2:8080', '10.0.0.3:8080']);
    expect(() => parseViewList('10.0.0.2:8080,nonsense')).to.throw(/VIEW/);
  });

  it('a context is an object of address to non-negative integer, with no prototype keys and bounded', () => {
    const ok = parseClock(JSON.parse('{"10.0.0.2:8080": 3, "10.0.0.3:8080": 0}'));
    expect(ok.ok && Object.keys(ok.value)).to.deep.equal(['10.0.0.2:8080']);
    for (const bad of ['[]', '"x"', '{"__proto__": 1}', '{"10.0.0.2:8080": -1}', '{"10.0.0.2:8080": 1.5}', '{"10.0.0.2:8080": "1"}']) {
      expect(parseClock(JSON.parse(bad)).ok, bad).to.equal(false);
    }
    const huge = Object.fromEntries(Array.from({ length: KV_LIMITS.clockEntries + 1 }, (_, i) => [`10.0.${i >> 8}.${i & 255}:80`, 1]));
    expect(parseClock(huge).ok).to.equal(false);
  });

  it('covers compares only the origins the node must hold', () => {
    const applied = makeClock([['a:1', 5]]);
    expect(covers(applied, makeClock([['a:1', 5]]))).to.equal(true);
    expect(covers(applied, makeClock([['a:1', 6]]))).to.equal(false);
    expect(covers(applied, makeClock([['b:1', 1]]), (o) => o === 'a:1')).to.equal(true);
  });

  it('peer writes and versions are checked field by field', () => {
    const version = { value: 'v', clock: { '10.0.0.2:8080': 1 }, timestamp: 1, origin: '10.0.0.2:8080' };
    expect(parseVersion(version).ok).to.equal(true);
    expect(parseVersion({ ...version, clock: {} }).ok, 'an empty clock').to.equal(false);
    expect(parseVersion({ clock: version.clock, timestamp: 1, origin: version.origin }).ok, 'neither value nor deleted').to.equal(false);
    expect(parseWrite({ seq: 2, prev: 1, key: 'k', version }).ok).to.equal(true);
    expect(parseWrite({ seq: 2, prev: 1, key: '', version }).ok).to.equal(false);
    expect(parseWrite({ seq: 0, prev: null, key: 'k', version }).ok).to.equal(false);
  });
});
