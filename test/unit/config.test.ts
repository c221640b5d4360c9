import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, Defaults, checkDefaults, dbConfig, lbConfig, parseOverrides, qConfig } from '../../lib/config';

/** The real config.json of the repository (dist/test/unit/ is three levels below the root). */
const configPath = join(__dirname, '..', '..', '..', 'config.json');
const defaults: Defaults = checkDefaults(JSON.parse(readFileSync(configPath, 'utf8')));

function expectConfigError(f: () => unknown, ...mentions: (string | RegExp)[]): void {
  let error: unknown;
  try {
    f();
  } catch (e) {
    error = e;
  }
  expect(error, 'expected a ConfigError').to.be.instanceOf(ConfigError);
  for (const m of mentions) {
    if (typeof m === 'string') expect((error as Error).message).to.include(m);
    else expect((error as Error).message).to.match(m);
  }
}

describe('config', () => {
  describe('checkDefaults on the real config.json', () => {
    it('accepts it and keeps its values', () => {
      expect(defaults.ndb).to.equal(4);
      expect(defaults.lb.port).to.equal(2500);
      expect(defaults.db['base-port']).to.equal(3000);
      expect(defaults.db['digest-length']).to.be.a('number').and.at.least(1);
      expect(defaults.redis['base-port']).to.equal(5555);
      expect(defaults.redis['single-instance-port']).to.equal(6379);
      expect(defaults.q.port).to.equal(6000);
    });

    it('rejects a non-object, a missing section and a bad value, naming it', () => {
      expectConfigError(() => checkDefaults(null), 'config.json');
      expectConfigError(() => checkDefaults('x'), 'config.json');
      const broken = (patch: (d: Record<string, any>) => void) => {
        const d = JSON.parse(JSON.stringify(defaults));
        patch(d);
        return () => checkDefaults(d);
      };
      expectConfigError(broken((d) => delete d.lb), '"lb"');
      expectConfigError(broken((d) => (d.ndb = 0)), '"ndb"');
      expectConfigError(broken((d) => (d.db['digest-length'] = 'two')), '"digest-length"');
      expectConfigError(broken((d) => (d.redis['base-port'] = 70000)), '"base-port"');
      expectConfigError(broken((d) => (d.host = '')), '"host"');
    });
  });

  describe('parseOverrides', () => {
    it('no argument means single-instance mode (null)', () => {
      expect(parseOverrides(undefined, 'serverDB')).to.equal(null);
    });

    it('parses a JSON object', () => {
      expect(parseOverrides('{"id": 2, "ndb": 4}', 'serverDB')).to.deep.equal({ id: 2, ndb: 4 });
      expect(parseOverrides('{}', 'serverDB')).to.deep.equal({});
    });

    it('rejects bad JSON, naming the server', () => {
      expectConfigError(() => parseOverrides('{id: 2}', 'serverDB'), 'serverDB', 'JSON object');
      expectConfigError(() => parseOverrides('', 'serverLB'), 'serverLB');
    });

    it('rejects JSON that is not an object', () => {
      for (const arg of ['[1]', '3', '"x"', 'null', 'true']) expectConfigError(() => parseOverrides(arg, 'serverQ'), 'serverQ', 'JSON object');
    });
  });

  describe('single-instance mode (no argument)', () => {
    it('DB: id 0 on port 3000, Redis localhost:6379, ndb 1', () => {
      const c = dbConfig(defaults, null);
      expect(c.id).to.equal(0);
      expect(c.port).to.equal(3000);
      expect(c.redis).to.deep.equal({ host: 'localhost', port: 6379 });
      expect(c.ndb).to.equal(1);
      expect(c.queuePort).to.equal(6000);
      expect(c.logfile).to.equal(null);
      expect(c.host).to.equal('127.0.0.1');
    });

    it('LB: port 2500 with ndb 1', () => {
      const c = lbConfig(defaults, null);
      expect(c.port).to.equal(2500);
      expect(c.ndb).to.equal(1);
      expect(c.dbBasePort).to.equal(3000);
      expect(c.host).to.equal('127.0.0.1');
    });

    it('Q: port 6000', () => {
      const c = qConfig(defaults, null);
      expect(c.port).to.equal(6000);
      expect(c.nq).to.equal(1);
    });
  });

  describe("the contract's example arguments", () => {
    it('LB {"id":0, "port":2500, "ndb":4, "db-base-port":3000, "logfile":...}', () => {
      const c = lbConfig(defaults, parseOverrides('{"id":0, "port":2500, "ndb":4, "db-base-port":3000, "logfile":"var/log/serverLB0.log"}', 'LB'));
      expect(c).to.deep.include({ id: 0, port: 2500, ndb: 4, dbBasePort: 3000, logfile: 'var/log/serverLB0.log' });
    });

    it('DB {"id":2, "servers":[...5557], "hostport":3002, ...}', () => {
      const c = dbConfig(
        defaults,
        parseOverrides(
          '{"id":2, "servers":[{"host":"localhost","port":5557}], "hostport":3002, "qport":6000, "ndb":4, "baseDBport":3000, "digest-length":2, "logfile":"var/log/serverDB2.log"}',
          'DB',
        ),
      );
      expect(c).to.deep.include({
        id: 2, port: 3002, queuePort: 6000, ndb: 4, dbBasePort: 3000, digestLength: 2, logfile: 'var/log/serverDB2.log',
      });
      expect(c.redis).to.deep.equal({ host: 'localhost', port: 5557 });
    });

    it('Q {"id":0, "port":6000, "nq":1, "ndb":4}', () => {
      const c = qConfig(defaults, parseOverrides('{"id":0, "port":6000, "nq":1, "ndb":4}', 'Q'));
      expect(c).to.deep.include({ id: 0, port: 6000, nq: 1, ndb: 4 });
    });
  });

  describe('per-id defaults', () => {
    it('DB {"id":2} listens on 3002, uses Redis 5557 (base 5555 + 2) and ndb from config.json', () => {
      const c = dbConfig(defaults, { id: 2 });
      expect(c.port).to.equal(3002);
      expect(c.redis).to.deep.equal({ host: 'localhost', port: 5557 });
      expect(c.ndb).to.equal(4);
      expect(c.digestLength).to.equal(defaults.db['digest-length']);
    });

    it('DB hostport follows baseDBport when only that is given', () => {
      expect(dbConfig(defaults, { id: 1, baseDBport: 4000 }).port).to.equal(4001);
    });

    it('DB {} is DB 0 of a full ring, not single-instance mode', () => {
      const c = dbConfig(defaults, {});
      expect(c.ndb).to.equal(4);
      expect(c.redis).to.deep.equal({ host: 'localhost', port: 5555 });
    });

    it('a different Redis base port in config.json moves the default Redis of each DB', () => {
      const d: Defaults = { ...defaults, redis: { ...defaults.redis, 'base-port': 7000 } };
      expect(dbConfig(d, { id: 3 }).redis).to.deep.equal({ host: 'localhost', port: 7003 });
    });
  });

  describe('validation', () => {
    it('unknown keys are ignored', () => {
      expect(() => dbConfig(defaults, { id: 1, color: 'green', nested: { x: 1 } })).to.not.throw();
      expect(() => lbConfig(defaults, { whatever: [1] })).to.not.throw();
      expect(() => qConfig(defaults, { other: null })).to.not.throw();
    });

    it('DB: wrong types are a ConfigError naming the key', () => {
      const cases: [Record<string, unknown>, string][] = [
        [{ id: '2' }, '"id"'],
        [{ id: -1 }, '"id"'],
        [{ id: 1.5 }, '"id"'],
        [{ hostport: 70000 }, '"hostport"'],
        [{ hostport: '3002' }, '"hostport"'],
        [{ qport: null }, '"qport"'],
        [{ ndb: 0 }, '"ndb"'],
        [{ ndb: '4' }, '"ndb"'],
        [{ baseDBport: -5 }, '"baseDBport"'],
        [{ 'digest-length': 0 }, '"digest-length"'],
        [{ 'digest-length': 2.5 }, '"digest-length"'],
        [{ logfile: 5 }, '"logfile"'],
        [{ logfile: '' }, '"logfile"'],
        [{ host: 1 }, '"host"'],
        [{ servers: [] }, '"servers"'],
        [{ servers: {} }, '"servers"'],
        [{ servers: [null] }, '"servers"'],
        [{ servers: ['localhost:5557'] }, '"servers"'],
        [{ servers: [{ host: 'localhost', port: 'x' }] }, '"port"'],
        [{ servers: [{ host: '', port: 5557 }] }, '"host"'],
      ];
      for (const [o, key] of cases) expectConfigError(() => dbConfig(defaults, o), 'DB', key);
    });

    it('DB: a servers entry without a host or a port is a ConfigError, not a silent default Redis', () => {
      expectConfigError(() => dbConfig(defaults, { servers: [{ host: 'localhost' }] }), '"port"');
      expectConfigError(() => dbConfig(defaults, { servers: [{ port: 5557 }] }), '"host"');
      expectConfigError(() => dbConfig(defaults, { servers: [{}] }), 'servers');
    });

    it('DB: an id not below ndb is accepted (the original harness starts ids 0..3 with ndb 1; such a DB serves alone)', () => {
      expect(dbConfig(defaults, { id: 3, ndb: 1 })).to.deep.include({ id: 3, ndb: 1, port: 3003 });
      expect(dbConfig(defaults, { id: 4 }).id).to.equal(4);
    });

    it('DB: logfile null is allowed and means stderr', () => {
      expect(dbConfig(defaults, { logfile: null }).logfile).to.equal(null);
    });

    it('LB: wrong types are a ConfigError naming the key', () => {
      for (const [o, key] of [
        [{ port: '2500' }, '"port"'], [{ ndb: 0 }, '"ndb"'], [{ 'db-base-port': 1.5 }, '"db-base-port"'],
        [{ id: -1 }, '"id"'], [{ 'db-host': '' }, '"db-host"'], [{ logfile: false }, '"logfile"'],
      ] as [Record<string, unknown>, string][]) {
        expectConfigError(() => lbConfig(defaults, o), 'LB', key);
      }
    });

    it('Q: wrong types are a ConfigError naming the key', () => {
      for (const [o, key] of [
        [{ port: -1 }, '"port"'], [{ nq: 0 }, '"nq"'], [{ ndb: 'four' }, '"ndb"'], [{ id: 0.5 }, '"id"'],
      ] as [Record<string, unknown>, string][]) {
        expectConfigError(() => qConfig(defaults, o), 'Q', key);
      }
    });

    it('the error shows the offending value', () => {
      expectConfigError(() => dbConfig(defaults, { ndb: 'four' }), '"four"');
    });
  });
});
