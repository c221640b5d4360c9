/** Phase c: SIGKILL the queue under load and restart it; then the same with the queue's Redis. */
import { killProcess } from '../../../tools/cluster/processes';
import type { PhaseFactory } from '../cluster';

export const queueKilled: PhaseFactory = ({ cluster }) => ({
  key: 'c',
  title: "SIGKILL the queue under load, restart it; then SIGKILL the queue's Redis, restart it",
  faults: () => [
    {
      what: 'queue down',
      inject: () => killProcess(cluster.queue!),
      holdMs: 3000,
      restore: async () => void (await cluster.startQueue()),
    },
    {
      what: "queue's Redis down",
      inject: () => killProcess(cluster.queueRedis!),
      holdMs: 3000,
      restore: async () => void (await cluster.startQueueRedis()),
    },
  ],
});
