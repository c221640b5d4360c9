/**
 * npm run bench:kv:shards: what shards cost, and what a reshard moves (issue 15).
 *
 * 1. Throughput: a 6-node cluster in 2 shards (127.0.0.2-7) against a 3-node
 *    cluster without shards (127.0.0.8-10) under the same load: `clients`
 *    clients, half PUTs and half GETs over 1,000 keys, each passing its
 *    metadata on, spread over every node of the cluster. Both hold each key
 *    on three nodes. A 6-node cluster without shards (127.0.0.11-16, every
 *    key on six) is the control that tells the cost of six processes on this
 *    machine's cores from the cost of shards. They run in turn, in slices of
 *    one run whose order rotates (so the machine's noise falls on all
 *    alike): req/s and the ratios per round of slices.
 * 2. Reshard: `keys` keys written into the 6-node cluster, then PUT reshard
 *    to 3 shards: the time until it answers, the keys whose shard changed
 *    against the minimum that must move (the new shard's share), the key
 *    copies the nodes pulled, and what hash-mod would have moved.
 *
 * A benchmark, not a test: it asserts nothing but that no request failed.
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { stableHash } from '../../lib/core/ring';
import { shardOfKey } from '../../lib/kv/core/shardMap';
import { Managed, assertPortFree, stopProcess } from '../../tools/cluster/processes';
import { localAddresses } from '../../tools/kv/nodes';
import { Slice, http, mixedSlice, ms, put, startCluster, stats } from './support';

interface Setup {
  label: string;
  nodes: string[];
}

async function pairedThroughput(setups: Setup[], clients: number, rounds: number, seconds: number): Promise<void> {
  // A round not counted: the first seconds of a node are its JIT warming up.
  for (const setup of setups) await mixedSlice(setup.nodes, clients, seconds, 'warm-up');
  const slices = setups.map(() => [] as Slice[]);
  for (let r = 0; r < rounds; r++) {
    // Rotate which goes first, so none always runs on a warmer (or busier) machine.
    for (let k = 0; k < setups.length; k++) {
      const i = (r + k) % setups.length;
      slices[i].push(await mixedSlice(setups[i].nodes, clients, seconds, `r${r}`));
    }
  }
  const rate = (x: Slice) => x.requests / x.seconds;
  console.log(`throughput, mixed PUT/GET over 1,000 keys, c=${clients}, ${rounds} rounds of ${seconds}-s slices after a warm-up round:`);
  setups.forEach((setup, i) => {
    const total = slices[i].reduce((n, x) => n + x.requests, 0) / slices[i].reduce((n, x) => n + x.seconds, 0);
    const p = stats(slices[i].flatMap((x) => x.puts));
    const g = stats(slices[i].flatMap((x) => x.gets));
    console.log(`  ${setup.label}: ${total.toFixed(0)} req/s (slices ${slices[i].map((x) => rate(x).toFixed(0)).join(' ')}); PUT p50 ${ms(p.p50)} p99 ${ms(p.p99)}, GET p50 ${ms(g.p50)} p99 ${ms(g.p99)}`);
  });
  for (let i = 1; i < setups.length; i++) {
    const ratios = slices[0].map((x, r) => rate(x) / rate(slices[i][r])).sort((a, b) => a - b);
    console.log(`  ${setups[0].label.trim()} / ${setups[i].label.trim()}: median of per-round ratios ${ratios[Math.floor(ratios.length / 2)].toFixed(2)}x (range ${ratios[0].toFixed(2)}-${ratios[ratios.length - 1].toFixed(2)})`);
  }
}

async function statusOf(node: string): Promise<{ counters: { received: number }; shards: { fetchedKeys: number; dropped: number } }> {
  const res = await http.request('GET', `http://${node}/kv-internal/status`, undefined, 10_000);
  return JSON.parse(res.body);
}

async function reshardTime(nodes: string[], keys: number): Promise<void> {
  const value = 'x'.repeat(100);
  const t0 = Date.now();
  for (let i = 0; i < keys; i += 64) {
    await Promise.all(Array.from({ length: Math.min(64, keys - i) }, (_, j) => put(nodes[(i + j) % nodes.length], `rk${i + j}`, value, '')));
  }
  console.log(`reshard: ${keys} keys (100-byte values) written into 6 nodes in 2 shards in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const before = await Promise.all(nodes.map(statusOf));
  const started = Date.now();
  const res = await http.request('PUT', `http://${nodes[0]}/key-value-store-shard/reshard`, JSON.stringify({ 'shard-count': 3 }), 300_000);
  const took = Date.now() - started;
  if (res.status !== 200) throw new Error(`reshard answered ${res.status}: ${res.body}`);
  const after = await Promise.all(nodes.map(statusOf));
  const copies = after.reduce((n, s, i) => n + s.counters.received - before[i].counters.received, 0);
  const fetched = after.reduce((n, s, i) => n + s.shards.fetchedKeys - before[i].shards.fetchedKeys, 0);
  // The cluster also holds the throughput phase's keys: they move too.
  const names = [...Array.from({ length: keys }, (_, i) => `rk${i}`), ...Array.from({ length: 1000 }, (_, i) => `mixed${i}`)];
  const moved = names.filter((k) => shardOfKey(k, 2) !== shardOfKey(k, 3)).length;
  const hashMod = names.filter((k) => stableHash(k) % 2 !== stableHash(k) % 3).length;
  const pct = (n: number) => `${((100 * n) / names.length).toFixed(1)}%`;
  console.log(`  PUT reshard {"shard-count": 3} of ${names.length} keys answered 200 after ${took} ms`);
  console.log(`  keys whose shard changed: ${moved} (${pct(moved)}); the minimum, the new shard's third: ${Math.ceil(names.length / 3)}; hash-mod would move ${hashMod} (${pct(hashMod)})`);
  console.log(`  key copies the nodes pulled meanwhile: ${copies}, plus ${fetched} fetched one by one (each node that moved already held the half of its new shard that came from its old one: one copy per moved key is the least)`);
  for (let i = 0; i < 200; i++) {
    const k = `rk${Math.floor(Math.random() * keys)}`;
    const r = await http.request('GET', `http://${nodes[i % nodes.length]}/key-value-store/${k}`);
    if (r.status !== 200) throw new Error(`after the reshard ${k} answered ${r.status}: ${r.body}`);
  }
  const counts = await Promise.all([0, 1, 2].map(async (id) => JSON.parse((await http.request('GET', `http://${nodes[1]}/key-value-store-shard/shard-id-key-count/${id}`)).body)['shard-id-key-count'] as number));
  console.log(`  key counts per shard after: ${counts.join(' / ')}; 200 random keys read back from every node`);
}

async function main(): Promise<void> {
  const argv = yargs(hideBin(process.argv))
    .scriptName('npm run bench:kv:shards --')
    .option('clients', { type: 'number', default: 32 })
    .option('rounds', { type: 'number', default: 6, describe: 'rounds of slices of the throughput comparison (one slice per cluster each)' })
    .option('slice-seconds', { type: 'number', default: 3 })
    .option('keys', { type: 'number', default: 100_000, describe: 'keys the reshard moves' })
    .strict()
    .parseSync();
  const sharded = localAddresses(6, 8080, '127.0.0.2');
  const replicated = localAddresses(3, 8080, '127.0.0.8');
  const control = localAddresses(6, 8080, '127.0.0.11');
  for (const address of [...sharded, ...replicated, ...control]) await assertPortFree(address.split(':')[0], 8080, `bench node ${address}`);
  const procs: Managed[] = [];
  try {
    procs.push(...(await startCluster(sharded, { SHARD_COUNT: '2' })), ...(await startCluster(replicated)), ...(await startCluster(control)));
    const setups = [
      { label: '6 nodes, 2 shards of 3', nodes: sharded },
      { label: '3 nodes, no shards    ', nodes: replicated },
      { label: '6 nodes, no shards    ', nodes: control },
    ];
    await pairedThroughput(setups, argv.clients, argv.rounds, argv['slice-seconds']);
    await Promise.all(procs.splice(6).map((p) => stopProcess(p)));
    await reshardTime(sharded, argv.keys);
  } finally {
    await Promise.all(procs.map((p) => stopProcess(p)));
    http.close();
  }
}

main().catch((e: Error) => {
  console.error(`bench:kv:shards: ${e.message}`);
  process.exit(1);
});
