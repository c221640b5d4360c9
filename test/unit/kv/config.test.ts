/** A node's configuration from its environment (lib/kv/config.ts). */
import { expect } from 'chai';
import { ConfigError, configFromEnv } from '../../../lib/kv/config';

const VIEW = '10.0.0.2:8080,10.0.0.3:8080';

describe('kv config from the environment', () => {
  it('IP_PORT selects the seed-000 door and SOCKET_ADDRESS the seed-003 door; the node binds its own address', () => {
    expect(configFromEnv({ VIEW, IP_PORT: '10.0.0.2:8080' })).to.deep.include({ api: 'keyValue-store', self: '10.0.0.2:8080', listenHost: '10.0.0.2', port: 8080 });
    expect(configFromEnv({ VIEW, SOCKET_ADDRESS: '10.0.0.3:8080' })).to.deep.include({ api: 'key-value-store', view: ['10.0.0.2:8080', '10.0.0.3:8080'] });
  });

  it('--api and KV_API override; unknown variables are ignored; KV_LISTEN binds elsewhere', () => {
    expect(configFromEnv({ VIEW, IP_PORT: '10.0.0.2:8080', KV_API: 'key-value-store', HOSTNAME: 'x', S: '3' }).api).to.equal('key-value-store');
    expect(configFromEnv({ VIEW, SOCKET_ADDRESS: '10.0.0.2:8080' }, ['--api', 'keyValue-store']).api).to.equal('keyValue-store');
    expect(configFromEnv({ VIEW, IP_PORT: '10.0.0.2:8080', KV_LISTEN: '0.0.0.0' }).listenHost).to.equal('0.0.0.0');
  });

  it('says clearly what is missing or wrong', () => {
    expect(() => configFromEnv({})).to.throw(ConfigError, /IP_PORT/);
    expect(() => configFromEnv({ IP_PORT: 'nope' })).to.throw(ConfigError, /IP_PORT/);
    expect(() => configFromEnv({ IP_PORT: '10.0.0.2:8080', VIEW: 'x' })).to.throw(ConfigError, /VIEW/);
    expect(() => configFromEnv({ IP_PORT: '10.0.0.2:8080', KV_API: 'other' })).to.throw(ConfigError, /unknown API/);
    expect(() => configFromEnv({ IPPORT: '10.0.0.2:8080', K: '2' })).to.throw(ConfigError, /not built/);
    expect(() => configFromEnv({ SOCKET_ADDRESS: '10.0.0.2:8080', SHARD_COUNT: '2' })).to.throw(ConfigError, /SHARD_COUNT=2 needs at least 4 nodes/);
  });

  it('SHARD_COUNT (seed 003): a positive integer with two VIEW nodes per shard; absent or empty, the shards are learnt from the peers', () => {
    const six = Array.from({ length: 6 }, (_, i) => `10.0.0.${i + 2}:8080`).join(',');
    expect(configFromEnv({ VIEW: six, SOCKET_ADDRESS: '10.0.0.2:8080', SHARD_COUNT: '3' }).shardCount).to.equal(3);
    expect(configFromEnv({ VIEW: six, SOCKET_ADDRESS: '10.0.0.2:8080' }).shardCount).to.equal(null);
    expect(configFromEnv({ VIEW: six, SOCKET_ADDRESS: '10.0.0.2:8080', SHARD_COUNT: '' }).shardCount).to.equal(null);
    expect(configFromEnv({ VIEW: '10.0.0.2:8080', SOCKET_ADDRESS: '10.0.0.2:8080', SHARD_COUNT: '1' }).shardCount, 'one shard is any VIEW').to.equal(1);
    for (const bad of ['0', '-1', '2.5', 'two', '513']) {
      expect(() => configFromEnv({ VIEW: six, SOCKET_ADDRESS: '10.0.0.2:8080', SHARD_COUNT: bad }), bad).to.throw(ConfigError, /SHARD_COUNT must be an integer/);
    }
    expect(() => configFromEnv({ VIEW: six, SOCKET_ADDRESS: '10.0.0.2:8080', SHARD_COUNT: '4' })).to.throw(ConfigError, /needs at least 8 nodes/);
    expect(() => configFromEnv({ VIEW: six, IP_PORT: '10.0.0.2:8080', SHARD_COUNT: '2' })).to.throw(ConfigError, /seed 003/);
  });
});
