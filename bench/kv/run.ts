/**
 * npm run bench:kv: what the key-value node costs (issue 14's figures).
 *
 * 1. Mixed load: a 3-node cluster (seed-003 door), 32 concurrent clients
 *    spread over all nodes, half PUTs and half GETs over 1,000 keys, each
 *    client passing its causal metadata on as a real client does:
 *    throughput, p50 and p99.
 * 2. The cost of the second acknowledgement: sequential PUTs against a node
 *    of the 3-node cluster and against a single node, in alternating slices
 *    of one run (paired, so the machine's noise falls on both alike): p50,
 *    p99 and their ratio.
 * 3. State transfer: a fourth node started with the cluster holding 10,000
 *    keys; the time until it holds all of them.
 *
 * A benchmark, not a test: it asserts nothing but that no request failed.
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { Managed, assertPortFree, stopProcess } from '../../tools/cluster/processes';
import { localAddresses, startKvNode } from '../../tools/kv/nodes';
import { http, logDir, mixedSlice, ms, put, startCluster, stats } from './support';

async function mixedLoad(nodes: string[], clients: number, seconds: number): Promise<void> {
  const { puts, gets, seconds: took } = await mixedSlice(nodes, clients, seconds, 'value');
  const all = stats([...puts, ...gets]);
  const p = stats(puts);
  const g = stats(gets);
  console.log(`mixed PUT/GET, ${nodes.length} nodes, c=${clients}, ${took.toFixed(1)} s: ${(all.count / took).toFixed(0)} req/s, p50 ${ms(all.p50)}, p99 ${ms(all.p99)}`);
  console.log(`  PUT ${p.count}: p50 ${ms(p.p50)}, p99 ${ms(p.p99)}   GET ${g.count}: p50 ${ms(g.p50)}, p99 ${ms(g.p99)}`);
}

async function pairedPutLatency(clusterNode: string, singleNode: string, slices: number, perSlice: number): Promise<void> {
  const cluster: number[] = [];
  const single: number[] = [];
  const ratios: number[] = [];
  const slice = async (node: string, out: number[], s: number) => {
    const mine: number[] = [];
    let meta: unknown = '';
    for (let i = 0; i < perSlice; i++) {
      const start = performance.now();
      meta = (await put(node, `lat${s}-${i}`, 'v', meta)).meta;
      mine.push(performance.now() - start);
    }
    out.push(...mine);
    return stats(mine).p50;
  };
  for (let s = 0; s < slices; s++) {
    // Alternate which goes first, so neither always runs on a warmer machine.
    const first = s % 2 === 0;
    const a = first ? await slice(clusterNode, cluster, s) : 0;
    const b = await slice(singleNode, single, s);
    const c = first ? a : await slice(clusterNode, cluster, s);
    ratios.push(c / b);
  }
  const cs = stats(cluster);
  const ss = stats(single);
  const medianRatio = [...ratios].sort((x, y) => x - y)[Math.floor(ratios.length / 2)];
  console.log(`sequential PUT latency, ${slices} paired slices of ${perSlice}:`);
  console.log(`  3-node cluster (acknowledged by a second node): p50 ${ms(cs.p50)}, p99 ${ms(cs.p99)}`);
  console.log(`  single node:                                   p50 ${ms(ss.p50)}, p99 ${ms(ss.p99)}`);
  console.log(`  ratio cluster/single: p50 ${(cs.p50 / ss.p50).toFixed(2)}x (median of per-slice p50 ratios ${medianRatio.toFixed(2)}x), p99 ${(cs.p99 / ss.p99).toFixed(2)}x`);
}

async function joinTime(nodes: string[], joiner: string, keys: number): Promise<Managed> {
  const value = 'x'.repeat(100);
  for (let i = 0; i < keys; i += 64) {
    await Promise.all(Array.from({ length: Math.min(64, keys - i) }, (_, j) => put(nodes[(i + j) % nodes.length], `join${i + j}`, value, '')));
  }
  const t0 = Date.now();
  const proc = await startKvNode({ address: joiner, view: [...nodes, joiner], api: 'key-value-store', logDir });
  const listening = Date.now() - t0;
  for (;;) {
    const res = await http.request('GET', `http://${joiner}/kv-internal/status`, undefined, 2000);
    const held = JSON.parse(res.body).liveKeys as number;
    if (held >= keys) break;
    if (Date.now() - t0 > 30_000) throw new Error(`the joining node holds ${held} of ${keys} keys after 30 s`);
    await new Promise((r) => setTimeout(r, 10));
  }
  const total = Date.now() - t0;
  console.log(`state transfer: a node joining a cluster of ${keys} keys (100-byte values) holds them all ${total} ms after it was spawned (${total - listening} ms after it listened)`);
  return proc;
}

async function main(): Promise<void> {
  const argv = yargs(hideBin(process.argv))
    .scriptName('npm run bench:kv --')
    .option('seconds', { type: 'number', default: 10, describe: 'length of the mixed load' })
    .option('clients', { type: 'number', default: 32 })
    .option('slices', { type: 'number', default: 10, describe: 'paired slices of the PUT latency comparison' })
    .option('per-slice', { type: 'number', default: 200 })
    .option('keys', { type: 'number', default: 10_000, describe: 'keys the joining node receives' })
    .strict()
    .parseSync();
  const [a, b, c, joiner] = localAddresses(4);
  const [single] = localAddresses(1, 8080, '127.0.0.9');
  for (const address of [a, b, c, joiner, single]) await assertPortFree(address.split(':')[0], 8080, `bench node ${address}`);
  const procs: Managed[] = [];
  try {
    procs.push(...(await startCluster([a, b, c])), ...(await startCluster([single])));
    await mixedLoad([a, b, c], argv.clients, argv.seconds);
    await pairedPutLatency(a, single, argv.slices, argv['per-slice']);
    procs.push(await joinTime([a, b, c], joiner, argv.keys));
  } finally {
    await Promise.all(procs.map((p) => stopProcess(p)));
    http.close();
  }
}

main().catch((e: Error) => {
  console.error(`bench:kv: ${e.message}`);
  process.exit(1);
});
