// summarizeMoves over built tables must group exactly as placement's diffTables does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { buildTable } from '../../src/placement/index.js';
import { summarizeGeneric, summarizeMoves } from '../../src/runtime/table-moves.js';

const names = fc.uniqueArray(fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'), { maxLength: 8 });

test('built tables: same groups, shards and counts as the diffTables reference', () => {
  fc.assert(
    fc.property(names, names, fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 }), (before, after, rb, ra) => {
      const b = buildTable(before, { shards: 256, replicas: rb });
      const a = buildTable(after, { shards: 256, replicas: ra });
      assert.deepEqual(summarizeMoves(b, a), summarizeGeneric(b, a));
    }),
    { numRuns: 150 },
  );
});

test('an owner that left with nobody to take over is a move to null', () => {
  const s = summarizeMoves(buildTable(['a'], { shards: 64, replicas: 1 }), buildTable([], { shards: 64, replicas: 1 }));
  assert.equal(s.ownerMoves, 64);
  assert.deepEqual(s.groups.map((g) => [g.role, g.from, g.to, g.shards.length]), [['owner', 'a', null, 64]]);
});
