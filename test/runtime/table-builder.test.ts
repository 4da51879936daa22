// The table builder: coalesced requests end on the newest member set, never on a stale one; builds run
// on the main thread when cheap and in a worker started on demand otherwise, with the same answers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_TUNING, TableBuilder, type BuiltTable, type TableBuilderTuning } from '../../src/runtime/table-builder.js';
import { buildTable, DEFAULT_SHARDS, type PlacementTable } from '../../src/placement/index.js';
import { bypassRingCache, leaseRing, returnRing } from '../../src/placement/ring-cache.js';
import { summarizeMoves } from '../../src/runtime/table-moves.js';

function collect(
  tuning: Partial<TableBuilderTuning> = {},
  shards = 4096,
): { builder: TableBuilder; built: BuiltTable[]; next: () => Promise<BuiltTable> } {
  const built: BuiltTable[] = [];
  const waiters: ((b: BuiltTable) => void)[] = [];
  const builder = new TableBuilder(
    { shards, replicas: 2 },
    (b) => {
      built.push(b);
      waiters.shift()?.(b);
    },
    (message) => assert.fail(message),
    tuning,
  );
  return { builder, built, next: () => new Promise((r) => waiters.push(r)) };
}

const WORKER: Partial<TableBuilderTuning> = { inlineMaxShards: 0 };

function sameTable(a: PlacementTable, b: PlacementTable): void {
  assert.equal(a.version, b.version);
  assert.deepEqual([...a.ownerIndex], [...b.ownerIndex]);
  assert.deepEqual([...a.replicaIndex], [...b.replicaIndex]);
}

for (const [mode, tuning] of [['inline', {}], ['worker', WORKER]] as const) {
  test(`${mode}: builds the table the placement module builds, with grouped moves`, async () => {
    const { builder, next } = collect(tuning);
    try {
      builder.request(['b', 'a', 'c']);
      const first = await next();
      assert.equal(first.where, mode);
      const expected = buildTable(['a', 'b', 'c'], { shards: 4096, replicas: 2 });
      assert.equal(first.table.version, expected.version);
      assert.deepEqual([...first.table.ownerIndex], [...expected.ownerIndex]);
      builder.request(['a', 'b', 'c', 'd']);
      const second = await next();
      const toD = second.moves.groups.filter((g) => g.role === 'owner' && g.to === 'd');
      assert.ok(toD.length > 0, 'shards moved to the new member');
      assert.ok(second.moves.groups.every((g) => g.role !== 'owner' || g.to === 'd'), 'owners move only to the joiner');
      assert.equal(second.moves.ownerMoves, toD.reduce((n, g) => n + g.count, 0));
    } finally {
      await builder.close();
    }
  });

  test(`${mode}: requests while a build runs coalesce to the newest set, even when it is asked for twice`, async () => {
    const { builder, built, next } = collect(tuning);
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
}

test('a table of one member builds on the main thread above the inline shard count; the worker then gets it as its previous table', async () => {
  const { builder, next } = collect(WORKER);
  try {
    builder.request(['a']);
    const alone = await next();
    assert.equal(alone.where, 'inline');
    assert.equal(builder.workerAlive, false);
    assert.equal(builder.buildsInline, false, 'a trivial build does not change where real ones run');
    builder.request(['a', 'b']);
    const pair = await next();
    assert.equal(pair.where, 'worker');
    builder.request(['a']);
    const back = await next();
    assert.equal(back.where, 'inline');
    assert.equal(back.moves.ownerMoves, summarizeMoves(pair.table, back.table).ownerMoves);
    assert.ok(back.moves.ownerMoves > 0);
    // The worker's own previous table is the pair; the moves must be counted from the one-member table.
    builder.request(['a', 'b']);
    const again = await next();
    assert.equal(again.where, 'worker');
    assert.equal(again.moves.ownerMoves, summarizeMoves(back.table, again.table).ownerMoves);
    assert.ok(again.moves.ownerMoves > 0);
  } finally {
    await builder.close();
  }
});

test('the worker ends after the quiet time, and a new one still reports the moves from the last table', async () => {
  const { builder, next } = collect({ ...WORKER, idleMs: 20 });
  try {
    builder.request(['a', 'b']);
    const first = await next();
    assert.equal(builder.workerAlive, true);
    while (builder.workerAlive) await new Promise((r) => setTimeout(r, 10));
    builder.request(['a', 'b', 'c']);
    const second = await next();
    assert.equal(second.where, 'worker');
    assert.deepEqual(second.moves, summarizeMoves(first.table, second.table));
    assert.ok(second.moves.ownerMoves > 0);
  } finally {
    await builder.close();
  }
});

test('an inline build over its time budget sends later builds to the worker', async () => {
  const { builder, next } = collect({ inlineBudgetMs: -1 });
  try {
    assert.equal(builder.buildsInline, true);
    // Two members: a table of one is a fill, which says nothing of what builds cost.
    builder.request(['a', 'b']);
    assert.equal((await next()).where, 'inline');
    assert.equal(builder.buildsInline, false);
    builder.request(['a', 'b', 'c']);
    const second = await next();
    assert.equal(second.where, 'worker');
    assert.ok(second.moves.ownerMoves > 0, 'moves are against the inline-built table');
  } finally {
    await builder.close();
  }
});

test('the first table of several members goes to the worker above the first-build shard count; its burst stays there, later builds are inline', async () => {
  // 2^14 shards: within the inline shard count, above the first build's.
  const shards = 16_384;
  const { builder, next } = collect({ idleMs: 20, inlineMaxShards: 65_536, firstInlineMaxShards: 8192 }, shards);
  try {
    builder.request(['a']);
    assert.equal((await next()).where, 'inline', 'a table of one member is a fill, built inline');
    assert.equal(builder.buildsInline, false, 'the first table of several members will not be built inline');
    builder.request(['a', 'b']);
    const first = await next();
    assert.equal(first.where, 'worker');
    assert.equal(builder.buildsInline, false, 'while the worker runs, the burst goes to it');
    builder.request(['a', 'b', 'c']);
    const burst = await next();
    assert.equal(burst.where, 'worker');
    assert.deepEqual(burst.moves, summarizeMoves(first.table, burst.table));
    while (builder.workerAlive) await new Promise((r) => setTimeout(r, 10));
    assert.equal(builder.buildsInline, true, 'after the quiet spell builds run inline again');
    builder.request(['a', 'b', 'c', 'd']);
    const later = await next();
    assert.equal(later.where, 'inline');
    assert.deepEqual(later.moves, summarizeMoves(burst.table, later.table));
    assert.equal(builder.workerAlive, false);
  } finally {
    await builder.close();
  }
});

test('at or below the first-build shard count the first table of several members is built inline', async () => {
  const { builder, next } = collect({ firstInlineMaxShards: 8192 }, 8192);
  try {
    builder.request(['a', 'b']);
    assert.equal((await next()).where, 'inline');
    assert.equal(builder.workerAlive, false);
  } finally {
    await builder.close();
  }
});

test('with the default tuning, the first table of several members at the default shard count is built inline, in slices, with no worker', async () => {
  assert.ok(DEFAULT_SHARDS <= DEFAULT_TUNING.inlineMaxShards && DEFAULT_SHARDS <= DEFAULT_TUNING.firstInlineMaxShards);
  const opts = { shards: DEFAULT_SHARDS, replicas: 2 };
  const { builder, next } = collect({}, DEFAULT_SHARDS);
  try {
    builder.request(['a']);
    const alone = await next();
    builder.request(['a', 'b', 'c']);
    const first = await next();
    assert.equal(first.where, 'inline');
    assert.equal(builder.workerAlive, false);
    assert.ok(builder.inlineSlices > 1, `${builder.inlineSlices} slices: the event loop got turns during the build`);
    sameTable(first.table, bypassRingCache(() => buildTable(['a', 'b', 'c'], opts)));
    assert.deepEqual(first.moves, summarizeMoves(alone.table, first.table));
  } finally {
    await builder.close();
  }
});

test('a build started while an inline build waits between slices uses lists of its own; both answer as fresh builds', async () => {
  const opts = { shards: DEFAULT_SHARDS, replicas: 2 };
  const { builder, next } = collect({ sliceMs: 0 }, DEFAULT_SHARDS);
  try {
    builder.request(['a', 'b', 'c']);
    const done = next();
    // Between two of the builder's slices (its first ran in the setImmediate the request scheduled).
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    const meanwhile = buildTable(['x', 'y', 'z', 'w'], opts);
    const built = await done;
    assert.ok(builder.inlineSlices > 2, 'the other build ran while this one was suspended');
    sameTable(built.table, bypassRingCache(() => buildTable(['a', 'b', 'c'], opts)));
    sameTable(meanwhile, bypassRingCache(() => buildTable(['x', 'y', 'z', 'w'], opts)));
  } finally {
    await builder.close();
  }
});

test('closing the builder during an inline build gives the ring cache back to placement', async () => {
  const { builder, next } = collect({ sliceMs: 0 }, DEFAULT_SHARDS);
  builder.request(['a', 'b', 'c']);
  void next();
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r));
  assert.equal(leaseRing(), false, 'the suspended build holds the ring');
  await builder.close();
  assert.equal(leaseRing(), true, 'given back on close');
  returnRing();
});

for (const [mode, tuning] of [['inline', {}], ['worker', WORKER]] as const) {
  test(`${mode}: the after-burst hook runs once per quiet spell, with no worker left`, async () => {
    const calls: boolean[] = [];
    let builder: TableBuilder | null = null;
    const c = collect({ ...tuning, idleMs: 20, afterBurst: () => calls.push(builder?.workerAlive ?? true) });
    builder = c.builder;
    try {
      builder.request(['a']);
      builder.request(['a', 'b']);
      await c.next();
      await c.next();
      while (calls.length === 0) await new Promise((r) => setTimeout(r, 10));
      await new Promise((r) => setTimeout(r, 60));
      assert.deepEqual(calls, [false]);
      builder.request(['a', 'b', 'c']);
      await c.next();
      while (calls.length === 1) await new Promise((r) => setTimeout(r, 10));
      assert.deepEqual(calls, [false, false]);
    } finally {
      await builder.close();
    }
  });
}

test('a build whose moves no one wants grouped counts them alone; the next one asked grouped lists them', async () => {
  let grouped = false;
  const { builder, next } = collect({ groupMoves: () => grouped });
  builder.request(['a', 'b']);
  await next();
  builder.request(['a', 'b', 'c']);
  const counted = await next();
  grouped = true;
  builder.request(['a', 'b', 'c', 'd']);
  const listed = await next();
  await builder.close();
  assert.equal(counted.moves.countsOnly, true);
  assert.deepEqual(counted.moves.groups, []);
  assert.ok(counted.moves.ownerMoves > 0, 'a join moves shards');
  const reference = summarizeMoves(counted.table, listed.table);
  assert.equal(listed.moves.countsOnly, undefined);
  assert.deepEqual(listed.moves.groups, reference.groups);
});
