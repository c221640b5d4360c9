/** What the key-value benchmarks share: the client, seed-003 requests, latency statistics, starting nodes. */
import { join } from 'node:path';
import { projectRoot } from '../../lib/server/boot';
import { createHttpClient } from '../../lib/net/httpClient';
import { Managed } from '../../tools/cluster/processes';
import { startKvNode } from '../../tools/kv/nodes';

export const http = createHttpClient();
export const logDir = join(projectRoot(), 'var', 'kv-bench');

export interface Stats {
  count: number;
  p50: number;
  p99: number;
}

export function stats(samples: number[]): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
  return { count: sorted.length, p50: at(0.5), p99: at(0.99) };
}

export const ms = (n: number) => `${n.toFixed(2)} ms`;

export async function put(node: string, key: string, value: string, meta: unknown): Promise<{ status: number; meta: unknown }> {
  const res = await http.request('PUT', `http://${node}/key-value-store/${key}`, JSON.stringify({ value, 'causal-metadata': meta }));
  if (res.status !== 200 && res.status !== 201) throw new Error(`PUT ${key} on ${node}: ${res.status} ${res.body}`);
  return { status: res.status, meta: JSON.parse(res.body)['causal-metadata'] };
}

export async function get(node: string, key: string, meta: unknown): Promise<unknown> {
  const res = await http.request('GET', `http://${node}/key-value-store/${key}`, JSON.stringify({ 'causal-metadata': meta }));
  if (res.status !== 200 && res.status !== 404) throw new Error(`GET ${key} on ${node}: ${res.status} ${res.body}`);
  return JSON.parse(res.body)['causal-metadata'] ?? meta;
}

/** Nodes at `addresses` with the seed-003 door, all started with the same VIEW (and `env`, e.g. SHARD_COUNT). */
export async function startCluster(addresses: string[], env?: Record<string, string>): Promise<Managed[]> {
  return Promise.all(addresses.map((address) => startKvNode({ address, view: addresses, api: 'key-value-store', logDir, env })));
}

/** One run of the mixed load: requests done, for how long, and each PUT's and GET's latency (ms). */
export interface Slice {
  requests: number;
  seconds: number;
  puts: number[];
  gets: number[];
}

/**
 * `clients` clients, each alternating PUT and GET over 1,000 keys and passing
 * its metadata on as a real client does, spread over `nodes`, for `seconds`.
 */
export async function mixedSlice(nodes: string[], clients: number, seconds: number, tag: string): Promise<Slice> {
  const puts: number[] = [];
  const gets: number[] = [];
  const t0 = Date.now();
  const end = t0 + seconds * 1000;
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      let meta: unknown = '';
      for (let i = 0; Date.now() < end; i++) {
        const node = nodes[(c + i) % nodes.length];
        const key = `mixed${Math.floor(Math.random() * 1000)}`;
        const start = performance.now();
        if (i % 2 === 0) {
          meta = (await put(node, key, `${tag}-${c}-${i}`, meta)).meta;
          puts.push(performance.now() - start);
        } else {
          meta = await get(node, key, meta);
          gets.push(performance.now() - start);
        }
      }
    }),
  );
  return { requests: puts.length + gets.length, seconds: (Date.now() - t0) / 1000, puts, gets };
}
