/** Resharding's pure plan and the ownership rules (lib/kv/core/reshardPlan.ts). */
import { expect } from 'chai';
import fc from 'fast-check';
import { Ownership, assignNodes, gainsKeys, ownershipOf, ownsKey, planReshard } from '../../../lib/kv/core/reshardPlan';
import { initialLayout, withMember } from '../../../lib/kv/core/shardMap';

const view = Array.from({ length: 7 }, (_, i) => `10.0.0.${i + 2}:8080`);
const [a, b, c, d, e, f, g] = view;

describe('kv reshard plan', () => {
  it('2 shards of 6 plus a seventh member of shard 1, resharded into 3: 3/2/2, each node kept in its shard while it has room', () => {
    const two = withMember(initialLayout(view.slice(0, 6), 2), 1, g, 1, a);
    expect(two.shards).to.deep.equal([[a, c, e], [b, d, f, g]]);
    const plan = planReshard(two, view, 3, 2, a);
    expect(plan.ok).to.equal(true);
    if (!plan.ok) return;
    expect(plan.layout.shards).to.deep.equal([[a, c, e], [b, d], [f, g]]);
    expect(plan.layout).to.deep.include({ epoch: 2, by: a, settled: false });
    expect(plan.layout.from).to.deep.equal(two.shards);
  });

  it('back from 3 shards to 2: the third shard\'s nodes fill the others', () => {
    expect(assignNodes([[a, c, e], [b, d], [f, g]], view, 2)).to.deep.equal([[a, c, e, f], [b, d, g]]);
  });

  it('nodes no longer in the view are left out; nodes in no shard are placed', () => {
    expect(assignNodes([[a, c], [b, d]], [a, b, c, e], 2)).to.deep.equal([[a, c], [b, e]]);
  });

  it('fewer than two live nodes per shard is refused, as is a count that is not a positive integer', () => {
    expect(planReshard(null, view, 10, 1, a)).to.deep.equal({ ok: false, error: 'not-enough-nodes' });
    expect(planReshard(null, view, 4, 1, a)).to.deep.equal({ ok: false, error: 'not-enough-nodes' });
    expect(planReshard(null, [a], 1, 1, a)).to.deep.equal({ ok: false, error: 'not-enough-nodes' });
    for (const bad of [0, -1, 1.5, NaN]) expect(planReshard(null, view, bad, 1, a)).to.deep.equal({ ok: false, error: 'bad-count' });
  });

  it('a store without shards resharded: round robin over the view, moving keys from everyone', () => {
    const plan = planReshard(null, view.slice(0, 4), 2, 1, a);
    expect(plan.ok && plan.layout.shards).to.deep.equal([[a, c], [b, d]]);
    expect(plan.ok && plan.layout.from).to.deep.equal([view.slice(0, 4)]);
  });

  it('ownership: no shards is every key for a member; a node in no shard or out of the view owns nothing', () => {
    expect(ownershipOf(null, a, true)).to.deep.equal({ count: 1, shard: 0 });
    expect(ownershipOf(null, a, false).shard).to.equal(null);
    expect(ownershipOf(initialLayout([a, b, c, d], 2), d, true)).to.deep.equal({ count: 2, shard: 1 });
    expect(ownershipOf(initialLayout([a, b, c, d], 2), e, true).shard).to.equal(null);
    expect(ownsKey({ count: 1, shard: 0 }, 'any')).to.equal(true);
  });

  it('gainsKeys says whether a change of ownership brings keys not held before (checked key by key)', () => {
    const ownership = fc.record({ count: fc.integer({ min: 1, max: 6 }), shard: fc.option(fc.nat(5)) }).map((o) => ({ count: o.count, shard: o.shard === null ? null : o.shard % o.count }));
    const keys = Array.from({ length: 3000 }, (_, i) => `g${i}`);
    fc.assert(
      fc.property(ownership, ownership, (held: Ownership, now: Ownership) => {
        const gained = keys.some((k) => ownsKey(now, k) && !ownsKey(held, k));
        // gainsKeys may only err on the safe side (a transfer that finds nothing), never miss a gain.
        if (gained) return gainsKeys(held, now);
        return true;
      }),
    );
    expect(gainsKeys({ count: 2, shard: 0 }, { count: 3, shard: 0 }), 'a shard that stays while one is added').to.equal(false);
    expect(gainsKeys({ count: 2, shard: 1 }, { count: 3, shard: 2 }), 'a node moved to the new shard').to.equal(true);
    expect(gainsKeys({ count: 3, shard: 0 }, { count: 2, shard: 0 }), 'shards merged').to.equal(true);
    expect(gainsKeys({ count: 1, shard: 0 }, { count: 5, shard: 4 }), 'it held everything').to.equal(false);
  });
});
