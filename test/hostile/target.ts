/**
 * The cluster the hostile probes run against: 4 DBs, the queue, the LB and
 * their Redis servers, on the hostile suite's own port block
 * (tools/ports.ts), started as `npm start` starts them.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Cluster, ServerSettings, layoutFrom } from '../../tools/cluster/cluster';
import { onPorts, portsFor } from '../../tools/ports';
import { loadDefaults, projectRoot } from '../../lib/server/boot';
import { Ring } from '../../lib/core/ring';

export const NDB = 4;

export interface Target {
  cluster: Cluster;
  ring: Ring;
  host: string;
  lb: number;
  q: number;
  db(i: number): number;
  /** Headers an internal request carries: the cluster secret when there is one. */
  internal: Record<string, string>;
  logDir: string;
  /** Lines of a server's log file (serverDB0.log, serverQ0.log, ...). */
  logLines(name: string): string[];
}

export function hostileCluster(name = 'hostile', secret = true): Cluster {
  const root = projectRoot();
  const dir = join(root, 'var', 'test', name);
  rmSync(dir, { recursive: true, force: true });
  const layout = onPorts(layoutFrom(loadDefaults(), root, NDB), portsFor('hostile'));
  return new Cluster({ ...layout, logDir: join(dir, 'log'), dataDir: join(dir, 'db'), ...(secret ? { secretFile: join(dir, 'secret') } : {}) });
}

export function targetOf(cluster: Cluster): Target {
  const { layout } = cluster;
  const secret = cluster.secret;
  return {
    cluster,
    ring: new Ring(layout.ndb),
    host: layout.host,
    lb: layout.lbPort,
    q: layout.qPort,
    db: (i) => cluster.dbPort(i),
    internal: secret === null ? {} : { Authorization: `Bearer ${secret}` },
    logDir: layout.logDir,
    logLines: (file) => {
      try {
        return readFileSync(join(layout.logDir, file), 'utf8').split('\n').filter((l) => l !== '');
      } catch {
        return [];
      }
    },
  };
}

export async function startTarget(cluster: Cluster, settings: ServerSettings = {}): Promise<Target> {
  await cluster.checkPrerequisites();
  await cluster.startBackends();
  await cluster.startServers(settings);
  return targetOf(cluster);
}
