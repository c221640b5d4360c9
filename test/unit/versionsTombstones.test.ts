/**
 * Deletes in lib/core/versions.ts: deleteAll, tombstones burying old
 * versions, mergeTombstone, and mergeState carrying a tombstone over.
 */
import { expect } from 'chai';
import { canonicalKey } from '../../lib/core/clock';
import { EMPTY, deleteAll, holds, mergeState, mergeTombstone, mergeVersion, rating } from '../../lib/core/versions';
import { choices, fromJson, v } from './helpers';

describe('core/versions', () => {
  describe('tombstones and deleteAll', () => {
    it('deleteAll moves every version into the tombstone', () => {
      let s = mergeVersion(EMPTY, v(1, '{"a":1}'));
      s = mergeVersion(s, v(2, '{"b":3}'));
      const d = deleteAll(s);
      expect(holds(d)).to.equal(false);
      expect(d.versions).to.have.length(0);
      expect(canonicalKey(d.tombstone!)).to.equal('[["a",1],["b",3]]');
      expect(rating(d)).to.equal(0);
    });

    it('deleteAll of a state holding nothing returns it unchanged', () => {
      expect(deleteAll(EMPTY)).to.equal(EMPTY);
      const dead = deleteAll(mergeVersion(EMPTY, v(1, '{"a":1}')));
      expect(deleteAll(dead)).to.equal(dead);
    });

    it('after a delete, an old or equal write is buried but a newer or concurrent one comes back', () => {
      const dead = deleteAll(mergeVersion(EMPTY, v(1, '{"a":2}')));
      expect(mergeVersion(dead, v(5, '{"a":2}'))).to.equal(dead);
      expect(mergeVersion(dead, v(5, '{"a":1}'))).to.equal(dead);
      expect(choices(mergeVersion(dead, v(5, '{"a":3}')))).to.deep.equal([5]);
      expect(choices(mergeVersion(dead, v(6, '{"b":1}')))).to.deep.equal([6]);
    });

    it('a second delete joins into the tombstone', () => {
      let s = deleteAll(mergeVersion(EMPTY, v(1, '{"a":2}')));
      s = deleteAll(mergeVersion(s, v(1, '{"b":4}')));
      expect(canonicalKey(s.tombstone!)).to.equal('[["a",2],["b",4]]');
    });

    it('mergeTombstone drops exactly the versions it buries and keeps the rest in order', () => {
      let s = EMPTY;
      for (const x of [v(1, '{"a":1}'), v(2, '{"b":1}'), v(3, '{"c":1}')]) s = mergeVersion(s, x);
      const t = mergeTombstone(s, fromJson('{"a":1,"c":5}'));
      expect(choices(t)).to.deep.equal([2]);
      expect(canonicalKey(t.tombstone!)).to.equal('[["a",1],["c",5]]');
    });

    it('mergeTombstone with null, or a tombstone already covered, returns the same object', () => {
      const s = mergeTombstone(mergeVersion(EMPTY, v(1, '{"a":1}')), fromJson('{"b":2}'));
      expect(mergeTombstone(s, null)).to.equal(s);
      expect(mergeTombstone(s, fromJson('{"b":1}'))).to.equal(s);
      expect(mergeTombstone(s, fromJson('{"b":2}'))).to.equal(s);
    });

    it('mergeState applies the tombstone of the incoming state too', () => {
      const live = mergeVersion(EMPTY, v(1, '{"a":1}'));
      const dead = deleteAll(live);
      expect(holds(mergeState(live, dead))).to.equal(false);
      expect(holds(mergeState(dead, live))).to.equal(false);
    });
  });
});
