// The table worker: coalesced requests end on the newest member set, never on a stale one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TableBuilder, type BuiltTable } from '../../src/runtime/table-builder.js';
import { buildTable } from '../../src/placement/index.js';

function collect(): { builder: TableBuilder; built: BuiltTable[]; next: () => Promise<BuiltTable> } {
  const built: BuiltTable[] = [];
  const waiters: ((b: BuiltTable) => void)[] = [];
  const builder = new TableBuilder(
    { shards: 4096, replicas: 2 },
    (b) => {
      built.push(b);
      waiters.shift()?.(b);
    },
    (message) => assert.fail(message),
  );
  return { builder, built, next: () => new Promise((r) => waiters.push(r)) };
}

test('builds the table the placement module builds, with grouped moves', async () => {
  const { builder, next } = collect();
  try {
    builder.request(['b', 'a', 'c']);
    const first = await next();
    const expected = buildTable(['a', 'b', 'c'], { shards: 4096, replicas: 2 });
    assert.equal(first.table.version, expected.version);
    assert.deepEqual([...first.table.ownerIndex], [...expected.ownerIndex]);
    builder.request(['a', 'b', 'c', 'd']);
    const second = await next();
    const toD = second.moves.groups.filter((g) => g.role === 'owner' && g.to === 'd');
    assert.ok(toD.length > 0, 'shards moved to the new member');
    assert.ok(second.moves.groups.every((g) => g.role !== 'owner' || g.to === 'd'), 'owners move only to the joiner');
    assert.equal(second.moves.ownerMoves, toD.reduce((n, g) => n + g.shards.length, 0));
  } finally {
    await builder.close();
  }
});

test('requests while a build runs coalesce to the newest set, even when it is asked for twice', async () => {
  const { builder, built, next } = collect();
  try {
    builder.request(['a']);
    builder.request(['a', 'b']);
    builder.request(['a', 'b']);
    await next();
    await next();
    const last = built.at(-1)!;
    assert.deepEqual(last.table.members, ['a', 'b']);
    // Back to a set asked for before: built again, not taken for "already there".
    builder.request(['a']);
    const again = await next();
    assert.deepEqual(again.table.members, ['a']);
  } finally {
    await builder.close();
  }
});
