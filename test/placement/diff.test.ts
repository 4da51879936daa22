import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { buildTable, diffTables, type OwnershipTable, type ShardMove } from '../../src/placement/index.js';
import { memberSet, smallShape } from './arbitraries.js';

/** The same table behind the plain interface, so diffTables takes its generic path. */
function plain(t: OwnershipTable): OwnershipTable {
  return {
    version: t.version,
    shards: t.shards,
    replicas: t.replicas,
    members: t.members,
    shardOf: (k) => t.shardOf(k),
    ownerOf: (s) => t.ownerOf(s),
    replicasOf: (s) => t.replicasOf(s),
    shardsPerMember: () => t.shardsPerMember(),
  };
}

/** Applies moves to `before`'s answers; must give `after`'s (replica sets compared as sets). */
function replay(before: OwnershipTable, moves: readonly ShardMove[]): { owners: (string | null)[]; replicas: Set<string>[] } {
  const owners: (string | null)[] = [];
  const replicas: Set<string>[] = [];
  for (let s = 0; s < before.shards; s++) {
    owners.push(before.ownerOf(s));
    replicas.push(new Set(before.replicasOf(s)));
  }
  for (const m of moves) {
    if (m.role === 'owner') {
      assert.equal(owners[m.shard], m.from);
      owners[m.shard] = m.to;
    } else {
      if (m.from !== null) assert.ok(replicas[m.shard]!.delete(m.from));
      if (m.to !== null) replicas[m.shard]!.add(m.to);
    }
  }
  return { owners, replicas };
}

describe('diffTables', () => {
  test('replaying the moves on the old table gives the new one; no move is a no-op', () => {
    fc.assert(
      fc.property(memberSet(0, 8), memberSet(0, 8), smallShape, fc.integer({ min: 0, max: 4 }), (a, b, shape, replicasAfter) => {
        const before = buildTable(a, shape);
        const after = buildTable(b, { ...shape, replicas: replicasAfter });
        const moves = diffTables(before, after);
        const { owners, replicas } = replay(before, moves);
        for (let s = 0; s < shape.shards; s++) {
          assert.equal(owners[s], after.ownerOf(s));
          assert.deepEqual([...replicas[s]!].sort(), [...after.replicasOf(s)].sort());
        }
        for (const m of moves) assert.notEqual(m.from, m.to);
      }),
      { numRuns: 200 },
    );
  });

  test('the fast path and the generic path give the same moves, in shard order', () => {
    fc.assert(
      fc.property(memberSet(1, 8), memberSet(1, 8), smallShape, (a, b, shape) => {
        const before = buildTable(a, shape);
        const after = buildTable(b, shape);
        const fast = diffTables(before, after);
        assert.deepEqual(fast, diffTables(plain(before), plain(after)));
        for (let i = 1; i < fast.length; i++) assert.ok(fast[i - 1]!.shard <= fast[i]!.shard);
      }),
      { numRuns: 150 },
    );
  });

  test('identical member sets: no moves', () => {
    const a = buildTable(['x', 'y', 'z'], { shards: 512, replicas: 2, vnodes: 16 });
    const b = buildTable(['z', 'y', 'x'], { shards: 512, replicas: 2, vnodes: 16 });
    assert.deepEqual(diffTables(a, b), []);
  });

  test('a join: owner moves all go to the joiner, and every replica move names it or makes room for it', () => {
    const shape = { shards: 2048, replicas: 2, vnodes: 64 };
    const before = buildTable(['a', 'b', 'c', 'd'], shape);
    const after = buildTable(['a', 'b', 'c', 'd', 'e'], shape);
    const moves = diffTables(before, after);
    const owner = moves.filter((m) => m.role === 'owner');
    assert.ok(owner.length > 0);
    for (const m of owner) assert.equal(m.to, 'e');
    for (const m of moves.filter((x) => x.role === 'replica')) {
      // Either e became a replica, or a replica was promoted to owner (making room), or e took the slot.
      assert.ok(m.to === 'e' || m.from === after.ownerOf(m.shard) || m.to === before.ownerOf(m.shard));
    }
  });

  test('from and to an empty table', () => {
    const empty = buildTable([], { shards: 4, replicas: 1 });
    const one = buildTable(['a'], { shards: 4, replicas: 1 });
    assert.deepEqual(diffTables(empty, one), [0, 1, 2, 3].map((shard) => ({ shard, role: 'owner', from: null, to: 'a' })));
    assert.deepEqual(diffTables(one, empty), [0, 1, 2, 3].map((shard) => ({ shard, role: 'owner', from: 'a', to: null })));
  });

  test('different shard counts cannot be diffed', () => {
    assert.throws(() => diffTables(buildTable(['a'], { shards: 4, replicas: 0 }), buildTable(['a'], { shards: 5, replicas: 0 })), RangeError);
  });
});
