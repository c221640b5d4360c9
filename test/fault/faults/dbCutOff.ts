/** Phase f: a partition: the proxied DB cut off from the LB, the queue and its peers for 15 s, then healed. */
import { PROXIED, PhaseFactory } from '../cluster';

export const dbCutOff: PhaseFactory = ({ proxies }, report) => ({
  key: 'f',
  title: `partition: cut db${PROXIED} off (LB, queue, peers) for 15 s under load, heal`,
  repairs: `db${PROXIED}`,
  faults: () => [
    {
      what: `db${PROXIED} cut off`,
      inject: async () => proxies.forEach((p) => p.cut()),
      holdMs: 15_000,
      restore: async () => {
        proxies.forEach((p) => p.heal());
        report.checkCut(`(f) the cut held back connections to db${PROXIED}, from db${PROXIED} to the queue and to its peers`, proxies);
      },
    },
  ],
});
