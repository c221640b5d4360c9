/**
 * Separate network stacks for partition tests (docs/kv.md "How it is
 * tested"): one Linux network namespace per node, each joined by a veth pair
 * to a bridge in the test's own namespace, so the test reaches every node
 * while the nodes can be cut from one another. There is no iptables or tc
 * here: a cut replaces, inside each side's namespace, the other side's
 * neighbour entry by a MAC address nobody has, so its packets are silently
 * dropped (peers time out, as across a real partition) while the client's
 * path through the bridge stays up. Healing deletes those entries.
 *
 * Everything is named with a scope's prefix (kvt by default; the shard tests
 * use kvs and their own subnet, so the two never collide); teardown()
 * removes it all and is also run first, for what a crashed run left behind.
 * A blackhole route of higher metric under the subnet makes sure nothing
 * addressed to it ever leaves the machine, even between a bridge's removal
 * and the route's.
 */
import { execFileSync } from 'node:child_process';

export const SUBNET = '10.213.77';
const UNUSED_MAC = '02:00:00:00:00:01';

function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function tryIp(...args: string[]): void {
  try {
    ip(...args);
  } catch {
    // already gone
  }
}

/** The names and addresses one test file's namespaces use. */
export interface Scope {
  prefix: string;
  subnet: string;
}

export const DEFAULT_SCOPE: Scope = { prefix: 'kvt', subnet: SUBNET };

export interface NetNode {
  netns: string;
  address: string;
  host: string;
  device: string;
}

/** Whether this process may create namespaces (root on Linux with iproute2). */
export function canUseNetns(): boolean {
  try {
    ip('netns', 'list');
    return process.getuid?.() === 0;
  } catch {
    return false;
  }
}

export function teardown(scope: Scope = DEFAULT_SCOPE): void {
  const mine = (n: string | undefined) => n?.startsWith(`${scope.prefix}-`) === true;
  const spaces = ip('netns', 'list').split('\n').map((l) => l.split(' ')[0]).filter(mine);
  for (const ns of spaces) tryIp('netns', 'del', ns);
  const links = ip('-o', 'link', 'show').split('\n').map((l) => l.split(':')[1]?.trim().split('@')[0]).filter(mine);
  for (const link of links) tryIp('link', 'del', link);
  tryIp('route', 'del', 'blackhole', `${scope.subnet}.0/24`, 'metric', '4000');
}

/** `count` namespaces <prefix>-n1.., nodes at <subnet>.11.. on `port`, all on one bridge. */
export function setup(count: number, port: number, scope: Scope = DEFAULT_SCOPE): NetNode[] {
  const { prefix, subnet } = scope;
  const bridge = `${prefix}-br0`;
  teardown(scope);
  ip('route', 'add', 'blackhole', `${subnet}.0/24`, 'metric', '4000');
  ip('link', 'add', bridge, 'type', 'bridge');
  ip('addr', 'add', `${subnet}.1/24`, 'dev', bridge);
  ip('link', 'set', bridge, 'up');
  const nodes: NetNode[] = [];
  for (let i = 1; i <= count; i++) {
    const netns = `${prefix}-n${i}`;
    const host = `${subnet}.${10 + i}`;
    const device = `${prefix}-p${i}`;
    ip('netns', 'add', netns);
    ip('link', 'add', `${prefix}-h${i}`, 'type', 'veth', 'peer', 'name', device);
    ip('link', 'set', device, 'netns', netns);
    ip('link', 'set', `${prefix}-h${i}`, 'master', bridge);
    ip('link', 'set', `${prefix}-h${i}`, 'up');
    ip('-n', netns, 'link', 'set', 'lo', 'up');
    ip('-n', netns, 'addr', 'add', `${host}/24`, 'dev', device);
    ip('-n', netns, 'link', 'set', device, 'up');
    nodes.push({ netns, host, device, address: `${host}:${port}` });
  }
  return nodes;
}

/** Cut every path between the nodes of `side` and every other node; the test still reaches all of them. */
export function partition(side: NetNode[], others: NetNode[]): void {
  for (const a of side) {
    for (const b of others) {
      ip('-n', a.netns, 'neigh', 'replace', b.host, 'lladdr', UNUSED_MAC, 'dev', a.device, 'nud', 'permanent');
      ip('-n', b.netns, 'neigh', 'replace', a.host, 'lladdr', UNUSED_MAC, 'dev', b.device, 'nud', 'permanent');
    }
  }
}

export function heal(nodes: NetNode[]): void {
  for (const a of nodes) for (const b of nodes) if (a !== b) tryIp('-n', a.netns, 'neigh', 'del', b.host, 'dev', a.device);
}
