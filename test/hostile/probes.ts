/**
 * The probes of issue 16, items 1-6: requests a hostile but realistic client,
 * or anything on the host that reaches the internal routes, can send. Each
 * probe sends its input, watches the cluster meanwhile (latency of GETs of
 * other teas, whether a tea written during it reaches every DB) and returns
 * what it saw. The hostile suite (hostile.test.ts) asserts on these
 * observations; `node dist/test/hostile/report.js` prints them.
 */
export * from './support';
export * from './dataProbes';
export * from './routeProbes';
export { getRating, putRating } from '../support/http';
