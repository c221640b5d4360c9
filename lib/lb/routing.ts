/** Where the LB sends a request (docs/protocol.md, "Sharding"). Pure. */
import { Ring } from '../core/ring';

export type Consistency = 'strong' | 'weak';

/** The `consistency` query parameter: absent or `strong` reads the primary, `weak` any DB. */
export function parseConsistency(value: string | string[] | undefined): Consistency | null {
  if (value === undefined || value === 'strong') return 'strong';
  if (value === 'weak') return 'weak';
  return null;
}

/** The DB to read `tea` from. `random` returns a number in [0, 1), like Math.random. */
export function readTarget(ring: Ring, tea: string, consistency: Consistency, random: () => number): number {
  if (consistency === 'strong') return ring.primaryOf(tea);
  return Math.min(ring.size - 1, Math.floor(random() * ring.size));
}
