/**
 * A real cluster (Redis, Q, 3 DBs and the LB, each a process from dist/) for
 * a file of API tests, on the file's own port block; and the checks that
 * close such a file: after all its bad input, the servers are alive and
 * have lost nothing.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import Redis from 'ioredis';
import { Cluster } from '../../tools/cluster/cluster';
import { NODE_SERVER_FLAGS } from '../../tools/cluster/processes';
import { Ring } from '../../lib/core/ring';
import { allProcesses, isAlive, startCluster, stopCluster } from './cluster';
import { expectNoInternalErrors } from './expect';
import { RatingView, getOk, getRating, putOk, rawTcp } from './http';
import { PORT_BLOCKS, TestLayout, claimTestLayout } from './layout';

export const NDB = 3;
export const ring = new Ring(NDB);
/** Written before any bad input; must be exactly the same after all of it. */
export const KEEPSAKE = 'keepsake';

/** The running cluster of a file of API tests: filled in by useApiCluster's before hook. */
export class ApiCluster {
  /** Claimed in before: the first free slot of the file's port block. */
  layout!: TestLayout;
  cluster: Cluster | null = null;
  lb = 0;
  /** A client of each DB's Redis. */
  readonly redis: Redis[] = [];
  keepsakeView!: RatingView;
  keepsakeHash!: Record<string, string>;

  db(i: number): number {
    return this.layout.dbBasePort + i;
  }

  hashAtPrimary(tea: string): Promise<Record<string, string>> {
    return this.redis[ring.primaryOf(tea)].hgetall(`/rating/${tea}`);
  }
}

/** Start the cluster (and write the keepsake) before the calling describe's tests, stop it after them. */
export function useApiCluster(file: 'lb' | 'db'): ApiCluster {
  const fx = new ApiCluster();

  before(async function () {
    this.timeout(60_000);
    fx.layout = await claimTestLayout(file, PORT_BLOCKS[file], NDB);
    fx.lb = fx.layout.lbPort;
    fx.cluster = await startCluster(fx.layout, { digestLength: 2 });
    for (let i = 0; i < NDB; i++) fx.redis.push(fx.cluster.redisClient(i));
    await putOk(fx.lb, KEEPSAKE, 3, { alice: 1 });
    await putOk(fx.lb, KEEPSAKE, 5, { bob: 2 });
    fx.keepsakeView = await getOk(fx.lb, KEEPSAKE);
    fx.keepsakeHash = await fx.hashAtPrimary(KEEPSAKE);
    expect(fx.keepsakeView).to.deep.equal({ rating: 4, choices: [3, 5], clocks: [{ alice: 1 }, { bob: 2 }] });
  });

  after(async function () {
    this.timeout(60_000);
    for (const r of fx.redis) r.disconnect();
    await stopCluster(fx.cluster);
  });
  return fx;
}

/** The file's last tests: every server of the cluster alive, well started, working, and nothing lost or logged as an error. */
export function describeAfterAllThat(fx: ApiCluster): void {
  describe('after all that', function () {
    it('garbage that is not HTTP, and requests abandoned mid-body, crash nothing', async function () {
      for (const port of [fx.lb, fx.db(0), fx.db(1), fx.db(2), fx.layout.qPort]) {
        const reply = await rawTcp(port, 'HELLO\r\nthis is not http\r\n\r\n');
        expect(reply, `reply on ${port}`).to.match(/^HTTP\/1\.1 400/);
        await rawTcp(
          port,
          `PUT /rating/keepsake HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"rating": 1, "clock": {"alice": 9`,
          { end: false, waitMs: 200 },
        );
      }
    });

    it('every process is still running', function () {
      for (const p of allProcesses(fx.cluster!)) expect(isAlive(p), `${p.role} on ${p.port}`).to.equal(true);
    });

    it('every node server runs with the V8 flags the cluster gives its servers', function () {
      const servers = allProcesses(fx.cluster!).filter((p) => p.child.spawnfile === process.execPath);
      expect(servers.map((p) => p.role)).to.include.members(['queue', 'db 0', 'db 1', 'db 2', 'load balancer']);
      for (const p of servers) {
        const argv = readFileSync(`/proc/${p.child.pid}/cmdline`, 'utf8').split('\0');
        for (const flag of NODE_SERVER_FLAGS) expect(argv, p.role).to.include(flag);
      }
    });

    it('a normal PUT and GET still work through the LB and at every DB', async function () {
      expect(await putOk(fx.lb, 'final', 2, { a: 1 })).to.deep.equal({ rating: 2 });
      expect(await putOk(fx.lb, 'final', 4, { b: 1 })).to.deep.equal({ rating: 3 });
      expect(await getOk(fx.lb, 'final')).to.deep.equal({ rating: 3, choices: [2, 4], clocks: [{ a: 1 }, { b: 1 }] });
      for (let i = 0; i < NDB; i++) expect((await getRating(fx.db(i), 'final')).status).to.equal(200);
    });

    it('the tea written before all the bad input is unchanged (loses nothing), at the LB and in Redis', async function () {
      expect(await getOk(fx.lb, KEEPSAKE)).to.deep.equal(fx.keepsakeView);
      expect(await getOk(fx.db(ring.primaryOf(KEEPSAKE)), KEEPSAKE)).to.deep.equal(fx.keepsakeView);
      expect(await fx.hashAtPrimary(KEEPSAKE)).to.deep.equal(fx.keepsakeHash);
    });

    it('started without a secret, as the original harness starts them, each DB and the queue said once that internal routes are open', function () {
      for (const name of ['serverDB0.log', 'serverDB1.log', 'serverDB2.log', 'serverQ0.log']) {
        const lines = readFileSync(join(fx.layout.logDir, name), 'utf8').split('\n').filter((l) => /no secret-file configured: .* open/.test(l));
        expect(lines.length, name).to.equal(1);
      }
    });

    it('no server logged an internal error (no input reached a 500)', function () {
      expectNoInternalErrors(fx.layout.logDir, ['serverLB0.log', 'serverDB0.log', 'serverDB1.log', 'serverDB2.log', 'serverQ0.log']);
    });
  });
}
