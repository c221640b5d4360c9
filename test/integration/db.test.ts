/**
 * A DB's HTTP API (docs/protocol.md), sent to a DB directly, against a real cluster
 * (Redis, Q, 3 DBs and the LB, each a process from dist/): every error at
 * the DB, and that after all of it the servers are alive and have lost
 * nothing.
 */
import { describeAfterAllThat, useApiCluster } from '../support/apiCluster';
import { describeRatingErrors } from '../support/ratingErrors';

describe('integration: a DB\'s HTTP API on a real cluster (Redis, Q, 3 DBs, LB from dist/)', function () {
  this.timeout(30_000);
  const fx = useApiCluster('db');

  describeRatingErrors('DB 1 directly', () => fx.db(1));

  describeAfterAllThat(fx);
});
