// summarizeMoves over built tables must group exactly as placement's diffTables does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { buildTable, diffTables } from '../../src/placement/index.js';
import { runSteps } from '../../src/placement/steps.js';
import { shardsOfRanges, summarizeBuiltSteps, summarizeGeneric, summarizeMoves } from '../../src/runtime/table-moves.js';

const names = fc.uniqueArray(fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'), { maxLength: 8 });

test('built tables: same groups, shards and counts as the diffTables reference', () => {
  fc.assert(
    fc.property(names, names, fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 }), (before, after, rb, ra) => {
      const b = buildTable(before, { shards: 256, replicas: rb });
      const a = buildTable(after, { shards: 256, replicas: ra });
      // replicaSlots: the watch's patch, beyond what diffTables says (test/client/apply-moves.test.ts).
      const { replicaSlots: _, ...groups } = summarizeMoves(b, a);
      assert.deepEqual(groups, summarizeGeneric(b, a));
    }),
    { numRuns: 150 },
  );
});

test('an owner that left with nobody to take over is a move to null', () => {
  const s = summarizeMoves(buildTable(['a'], { shards: 64, replicas: 1 }), buildTable([], { shards: 64, replicas: 1 }));
  assert.equal(s.ownerMoves, 64);
  assert.deepEqual(s.groups.map((g) => [g.role, g.from, g.to, g.count, g.ranges]), [['owner', 'a', null, 64, [[0, 63]]]]);
});

test('ranges list exactly the shards diffTables moves, ascending, disjoint and not adjacent', () => {
  fc.assert(
    fc.property(names, names, fc.integer({ min: 0, max: 3 }), (before, after, r) => {
      const b = buildTable(before, { shards: 512, replicas: r });
      const a = buildTable(after, { shards: 512, replicas: r });
      const expected = new Map<string, number[]>();
      for (const m of diffTables(b, a)) {
        const key = `${m.role} ${m.from ?? '-'} ${m.to ?? '-'}`;
        expected.set(key, [...(expected.get(key) ?? []), m.shard]);
      }
      const got = new Map(summarizeMoves(b, a).groups.map((g) => [`${g.role} ${g.from ?? '-'} ${g.to ?? '-'}`, g]));
      assert.deepEqual([...got.keys()].sort(), [...expected.keys()].sort());
      for (const [key, g] of got) {
        assert.deepEqual(shardsOfRanges(g.ranges), expected.get(key));
        assert.equal(g.count, expected.get(key)!.length);
        for (let i = 0; i < g.ranges.length; i++) {
          assert.ok(g.ranges[i]![0] <= g.ranges[i]![1]);
          if (i > 0) assert.ok(g.ranges[i]![0] > g.ranges[i - 1]![1] + 1, 'neighbouring ranges are merged');
        }
      }
    }),
    { numRuns: 100 },
  );
});

test("one member's death at the default 2^18 shards is a small moves event", () => {
  // The shard-list form was ~2.3 MB of JSON for 3 members; the watch buffers a stream's events.
  for (const n of [3, 10]) {
    const members = Array.from({ length: n }, (_, i) => `member-${i}`);
    const s = summarizeMoves(buildTable(members, { shards: 262_144, replicas: 2 }), buildTable(members.slice(1), { shards: 262_144, replicas: 2 }));
    const bytes = JSON.stringify(s.groups).length;
    assert.ok(bytes < 256 * 1024, `${n} members: ${bytes} bytes`);
    assert.equal(s.groups.reduce((sum, g) => sum + g.count, 0), s.ownerMoves + s.replicaMoves);
  }
});

test('counts only: the counts of the grouped summary, no groups, flagged', () => {
  fc.assert(
    fc.property(names, names, fc.integer({ min: 0, max: 3 }), (before, after, replicas) => {
      const opts = { shards: 512, replicas };
      const a = buildTable(before, opts);
      const b = buildTable(after, opts);
      const grouped = runSteps(summarizeBuiltSteps(a, b));
      const counted = runSteps(summarizeBuiltSteps(a, b, false));
      assert.deepEqual(counted, { groups: [], ownerMoves: grouped.ownerMoves, replicaMoves: grouped.replicaMoves, countsOnly: true });
      assert.equal(grouped.countsOnly, undefined);
    }),
    { numRuns: 200 },
  );
});
