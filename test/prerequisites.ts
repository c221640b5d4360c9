/** Run before the tests: stop early, saying how to fix it, when redis-server is missing. */
import { requireRedisServer } from '../tools/cluster/processes';

try {
  requireRedisServer();
} catch (e) {
  console.error(`npm test: ${(e as Error).message}`);
  process.exit(1);
}
