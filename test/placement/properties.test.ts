// The placement properties, as property-based tests: minimal movement, the fraction moved on
// one join or leave, and balance with the default shard count and vnodes. Sizes are kept so the file
// runs in seconds; the benchmark (bench/placement.ts) reports the same measures over more sets.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { buildTable, DEFAULT_REPLICAS, DEFAULT_SHARDS, diffTables, type OwnershipTable } from '../../src/placement/index.js';
import { memberName, memberSet, podNames, smallShape } from './arbitraries.js';

const defaults = { shards: DEFAULT_SHARDS, replicas: DEFAULT_REPLICAS };

/** Shards whose owner differs between the tables: [shard, before, after]. */
function ownerChanges(a: OwnershipTable, b: OwnershipTable): [number, string | null, string | null][] {
  return diffTables(a, b)
    .filter((m) => m.role === 'owner')
    .map((m) => [m.shard, m.from, m.to]);
}

describe('minimal movement', () => {
  test('a join moves shards only to the new member; its leave moves back exactly those (small shapes)', () => {
    fc.assert(
      fc.property(memberSet(1, 10), memberName, smallShape, (members, joiner, shape) => {
        fc.pre(!members.includes(joiner));
        const before = buildTable(members, shape);
        const after = buildTable([...members, joiner], shape);
        for (const [, , to] of ownerChanges(before, after)) assert.equal(to, joiner);
        for (let s = 0; s < shape.shards; s++) if (after.ownerOf(s) !== joiner) assert.equal(after.ownerOf(s), before.ownerOf(s));
        // Leaving is the same pair read backwards: only the leaver's shards move.
        for (const [, from] of ownerChanges(after, before)) assert.equal(from, joiner);
      }),
      { numRuns: 200 },
    );
  });

  for (const n of [10, 50, 200]) {
    test(`with the defaults at ${n} members: join and leave move only the joiner's / leaver's shards, at most 1.1 x 1/n of the keys`, () => {
      fc.assert(
        fc.property(podNames(n), (names) => {
          const joiner = names[n - 1]!;
          const without = names.slice(0, n - 1);
          const withJoiner = buildTable(names, defaults);
          const before = buildTable(without, defaults);
          const joined = ownerChanges(before, withJoiner);
          for (const [, , to] of joined) assert.equal(to, joiner);
          // Keys map to shards uniformly (jump hash), so the share of keys moved is the share of shards.
          const joinFraction = joined.length / DEFAULT_SHARDS;
          assert.ok(joinFraction <= 1.1 / n, `join at n=${n} moved ${joinFraction.toFixed(5)} > ${(1.1 / n).toFixed(5)}`);
          // Leave: a member other than the joiner leaves the n-member set.
          const leaver = names[0]!;
          const left = buildTable(names.slice(1), defaults);
          const leftMoves = ownerChanges(withJoiner, left);
          for (const [, from] of leftMoves) assert.equal(from, leaver);
          assert.equal(leftMoves.length, withJoiner.shardsPerMember()[leaver]);
          const leaveFraction = leftMoves.length / DEFAULT_SHARDS;
          assert.ok(leaveFraction <= 1.1 / n, `leave at n=${n} moved ${leaveFraction.toFixed(5)} > ${(1.1 / n).toFixed(5)}`);
        }),
        { numRuns: n === 200 ? 3 : 4 },
      );
    });
  }
});

describe('balance', () => {
  test('max/mean shards per member is at most 1.10 at 50 members with the default shard count and vnodes', () => {
    fc.assert(
      fc.property(podNames(50), (names) => {
        const counts = Object.values(buildTable(names, defaults).shardsPerMember());
        const mean = DEFAULT_SHARDS / 50;
        const ratio = Math.max(...counts) / mean;
        assert.ok(ratio <= 1.1, `max/mean ${ratio.toFixed(4)}`);
      }),
      { numRuns: 8 },
    );
  });

  test('a fixed, named 50-member set balances the same way', () => {
    const names = Array.from({ length: 50 }, (_, i) => `swimring-${i}`);
    const counts = Object.values(buildTable(names, defaults).shardsPerMember());
    const mean = DEFAULT_SHARDS / 50;
    assert.ok(Math.max(...counts) / mean <= 1.1);
    assert.ok(Math.min(...counts) / mean >= 0.9);
  });
});
