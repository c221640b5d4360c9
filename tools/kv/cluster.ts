/**
 * npm run kv -- --nodes 3 --api key-value-store: a local cluster of key-value
 * nodes at 127.0.0.2:8080, 127.0.0.3:8080, ... (each its own address, as
 * containers), printing each node's address, until Ctrl-C. `--shards N`
 * starts them with SHARD_COUNT=N (seed 003's door).
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { join } from 'node:path';
import { projectRoot } from '../../lib/server/boot';
import { Managed, assertPortFree, stopProcess } from '../cluster/processes';
import { Api, localAddresses, logFileOf, startKvNode } from './nodes';

async function main(): Promise<void> {
  const argv = yargs(hideBin(process.argv))
    .scriptName('npm run kv --')
    .option('nodes', { type: 'number', default: 3, describe: 'how many nodes' })
    .option('api', { choices: ['key-value-store', 'keyValue-store'] as const, default: 'key-value-store' as const, describe: 'the door: seed 003 (key-value-store) or seed 000 (keyValue-store)' })
    .option('port', { type: 'number', default: 8080, describe: 'the port every node listens on, each at its own address' })
    .option('first', { type: 'string', default: '127.0.0.2', describe: 'the first node\'s address; the others follow it' })
    .option('shards', { type: 'number', describe: 'SHARD_COUNT for every node (seed 003): that many shards of at least two nodes' })
    .check((a) => {
      if (!Number.isInteger(a.nodes) || a.nodes < 1 || a.nodes > 50) throw new Error('--nodes must be an integer from 1 to 50');
      if (a.shards !== undefined && (a.api !== 'key-value-store' || !Number.isInteger(a.shards) || a.shards < 1 || a.nodes < 2 * a.shards)) {
        throw new Error('--shards needs --api key-value-store and at least two nodes per shard');
      }
      if (!/^127\.\d+\.\d+\.\d+$/.test(a.first)) throw new Error('--first must be a loopback address (127.x.y.z)');
      return true;
    })
    .strict()
    .help()
    .parseSync();

  const addresses = localAddresses(argv.nodes, argv.port, argv.first);
  for (const a of addresses) await assertPortFree(a.split(':')[0], argv.port, `node ${a}`);
  const logDir = join(projectRoot(), 'var', 'kv-cluster');
  const started: Managed[] = [];
  let stopping = false;
  const stop = async (why: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${why}: stopping ${started.length} nodes`);
    await Promise.all(started.map((p) => stopProcess(p)));
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('Ctrl-C'));
  process.on('SIGTERM', () => void stop('SIGTERM'));

  try {
    await Promise.all(
      addresses.map(async (address) => {
        const env = argv.shards === undefined ? undefined : { SHARD_COUNT: String(argv.shards) };
        started.push(await startKvNode({ address, view: addresses, api: argv.api as Api, logDir, env }));
      }),
    );
  } catch (e) {
    console.error(`npm run kv: ${(e as Error).message}`);
    await Promise.all(started.map((p) => stopProcess(p)));
    process.exit(1);
  }
  console.log(`${addresses.length} nodes, API ${argv.api}, VIEW=${addresses.join(',')}${argv.shards === undefined ? '' : `, SHARD_COUNT=${argv.shards}`}`);
  for (const a of addresses) console.log(`  http://${a}   log: ${logFileOf(logDir, a)}`);
  const [first] = addresses;
  if (argv.api === 'key-value-store') {
    console.log(`try: curl -s -X PUT -H 'Content-Type: application/json' -d '{"value": "1"}' http://${first}/key-value-store/x`);
  } else {
    console.log(`try: curl -s -X PUT -d 'val=1' http://${first}/keyValue-store/x`);
  }
  console.log('Ctrl-C stops every node.');
  for (const p of started) {
    p.child.once('exit', (code, signal) => {
      if (!stopping) console.log(`${p.role} exited (${signal ?? `code ${code}`}); the others keep running`);
    });
  }
}

main().catch((e: Error) => {
  console.error(`npm run kv: ${e.message}`);
  process.exit(1);
});
