// A `moves` event applied to the library's table (client/src/apply-moves.ts): a hand-made table whose
// every shard changes a different way (owner and replica moves, a member removed and two added, entrants
// at non-default slots), the sidecar's own summaries of random changes, replica counts changing included
// (the applied table equals the one built for the new member set), and each reason it refuses and
// leaves the table to a load.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { applyMoves, type MovesWatchEvent } from '../../client/src/apply-moves.js';
import { RingTable } from '../../client/src/table.js';
import { buildTable } from '../../src/placement/index.js';
import { movesPatch, summarizeMoves } from '../../src/runtime/table-moves.js';
import { ringTableOf, testOwner as owner } from '../support/ring-table.js';

/** Owner then replicas per shard, by member name. */
function rows(t: RingTable): string[][] {
  return Array.from({ length: t.shards }, (_, s) => [t.owner(s)?.name ?? '-', ...t.replicas(s).map((m) => m.name)]);
}

// a, b, c; two replicas. Per shard: owner | replicas.
const before = new RingTable({
  version: 'v1',
  shards: 6,
  replicaCount: 2,
  members: ['a', 'b', 'c'].map(owner),
  tableMembers: 3,
  ownerIndex: Int32Array.from([0, 1, 2, 0, 1, 0]),
  replicaIndex: Int32Array.from([1, 2, 2, 0, 0, 1, 2, 1, 0, 2, 1, 2]),
  claims: new Map(),
});

// c leaves, d and e join, in one table change. The version is that of the new member set and options.
const placement = { replicas: 2, vnodes: 16, boundedLoad: null };
const change: MovesWatchEvent = {
  type: 'moves',
  version: buildTable(['a', 'b', 'd', 'e'], { shards: 6, ...placement }).version,
  previousVersion: 'v1',
  ownerMoves: 2,
  replicaMoves: 8,
  moves: [
    { role: 'replica', from: 'c', to: 'd', count: 4, ranges: [[0, 1], [4, 5]] },
    { role: 'owner', from: 'c', to: 'a', count: 1, ranges: [[2, 2]] },
    { role: 'replica', from: 'a', to: 'd', count: 1, ranges: [[2, 2]] },
    { role: 'owner', from: 'a', to: 'd', count: 1, ranges: [[3, 3]] },
    { role: 'replica', from: 'c', to: 'a', count: 1, ranges: [[3, 3]] },
    { role: 'replica', from: 'b', to: 'e', count: 1, ranges: [[5, 5]] },
  ],
  patch: { added: [owner('e'), owner('d')], removed: ['c'], replicas: 2, placement, slots: [{ slots: [0], count: 2, ranges: [[0, 0], [3, 3]] }] },
};

test('a hand-made change: owners, replicas at their slots, members removed and added', () => {
  assert.deepEqual(rows(before), [
    ['a', 'b', 'c'],
    ['b', 'c', 'a'],
    ['c', 'a', 'b'],
    ['a', 'c', 'b'],
    ['b', 'a', 'c'],
    ['a', 'b', 'c'],
  ]);
  const after = applyMoves(before, change);
  assert.ok(after instanceof RingTable, String(after));
  assert.equal(after.version, change.version);
  assert.deepEqual(after.members.map((m) => m.name), ['a', 'b', 'd', 'e', 'c'], 'table order, then the member that left (known by name for claims)');
  assert.equal(after.tableMembers, 4);
  assert.deepEqual(rows(after), [
    ['a', 'd', 'b'], // c's slot went to d, placed first (slots [0])
    ['b', 'a', 'd'], // the entrant at the last slot
    ['a', 'b', 'd'], // owner c -> a, which left the replica list; d last
    ['d', 'a', 'b'], // d above a: a moved to the first replica slot (slots [0]), c's gone
    ['b', 'a', 'd'],
    ['a', 'e', 'd'], // two entrants, ordered as the slots they replace were (b's then c's)
  ]);
  assert.deepEqual(after.owner(3), owner('d'), "an added member is named by the patch's answer object");
  assert.deepEqual(rows(before)[0], ['a', 'b', 'c'], 'the installed table is untouched');
});

test('refused, for a load instead: a gap, no patch, a contradiction, a member it does not know', () => {
  const without = (shard: number): MovesWatchEvent => ({
    ...change,
    moves: change.moves.map((g) => ({ ...g, ranges: g.ranges.filter(([f]) => f !== shard) })),
  });
  assert.equal(applyMoves(before, { ...change, previousVersion: 'v0' }), 'gap');
  const { patch: _, ...noPatch } = change;
  assert.equal(applyMoves(before, noPatch), 'no-patch');
  assert.equal(applyMoves(before, { ...change, patch: { ...change.patch!, replicas: 3 } }), 'mismatch', 'a third replica slot no group fills');
  assert.equal(applyMoves(before, without(4)), 'mismatch', 'c would stay on shard 4');
  assert.equal(applyMoves(before, { ...change, moves: [...change.moves.slice(0, 1), { role: 'owner', from: 'b', to: 'a', count: 1, ranges: [[2, 2]] }, ...change.moves.slice(2)] }), 'mismatch', 'b did not own shard 2');
  assert.equal(applyMoves(before, { ...change, moves: change.moves.map((g) => (g.to === 'e' ? { ...g, to: 'z' } : g)) }), 'unknown-member');
  assert.equal(applyMoves(before, { ...change, version: 'v2' }), 'mismatch', 'not the version of the members it leads to');
  assert.equal(applyMoves(before, { ...change, patch: { ...change.patch!, added: [owner('e'), owner('d'), owner('f')] } }), 'mismatch', 'a member added that the version does not count');
  assert.equal(applyMoves(before, { ...change, patch: { ...change.patch!, slots: [{ slots: [0, 1], count: 1, ranges: [[0, 0]] }] } }), 'mismatch', 'two slots for one entrant');
  assert.equal(applyMoves(before, { ...change, moves: [...change.moves, { role: 'owner', from: 'a', to: 'b', count: 1, ranges: [[9, 9]] }] }), 'mismatch', 'a shard out of range');
  assert.equal(applyMoves(before, { ...change, moves: [{ role: 'owner', from: 'a', to: 'b', count: 1, ranges: 5 as never }] }), 'mismatch', 'not the documented shape');
  assert.equal(applyMoves(before, { ...change, patch: { ...change.patch!, slots: null as never } }), 'mismatch', 'not the documented shape');
});

const names = fc.uniqueArray(fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'ä', '𝔞'), { minLength: 1, maxLength: 8 });

test("the sidecar's summaries of random changes, applied, equal the new member set's table", () => {
  fc.assert(
    fc.property(names, names, fc.integer({ min: 0, max: 3 }), fc.boolean(), (was, now, replicas, bounded) => {
      const options = { shards: 256, replicas, vnodes: 16, ...(bounded ? { boundedLoad: 1.25 } : {}) };
      const b = buildTable(was, options);
      const a = buildTable(now, options);
      fc.pre(a.version !== b.version);
      const moves = summarizeMoves(b, a);
      const patch = movesPatch(b, a, moves, (i) => owner(a.members[i]!));
      // Without bounded loads the members that stay keep their order: every change is expressible but
      // one that adds two replica slots at once (which of the two entrants comes first, no pair tells).
      if (!bounded && a.replicaCount <= b.replicaCount + 1) assert.notEqual(patch, null);
      if (patch === null) return;
      const event: MovesWatchEvent = { type: 'moves', version: a.version, previousVersion: b.version, ownerMoves: moves.ownerMoves, replicaMoves: moves.replicaMoves, moves: moves.groups, ...{ patch } };
      const applied = applyMoves(ringTableOf(b), event);
      assert.ok(applied instanceof RingTable, `${String(applied)}: ${JSON.stringify([was, now, replicas, bounded])}`);
      const loaded = ringTableOf(a);
      assert.deepEqual(rows(applied), rows(loaded));
      assert.deepEqual([applied.version, applied.tableMembers, applied.replicaCount], [loaded.version, loaded.tableMembers, loaded.replicaCount]);
      assert.deepEqual(applied.members.slice(0, applied.tableMembers), loaded.members);
    }),
    { numRuns: 300 },
  );
});

test('a join and a death at the default 2^18 shards and ten members apply exactly', () => {
  const ten = Array.from({ length: 10 }, (_, i) => `member-${i}`);
  const options = { shards: 262_144, replicas: 2 };
  const tables = [buildTable(ten.slice(1), options), buildTable(ten, options), buildTable(ten.filter((n) => n !== 'member-4'), options)];
  let held = ringTableOf(tables[0]!);
  for (let i = 1; i < tables.length; i++) {
    const [b, a] = [tables[i - 1]!, tables[i]!];
    const moves = summarizeMoves(b, a);
    const patch = movesPatch(b, a, moves, (m) => owner(a.members[m]!))!;
    if (i === 1) assert.ok(patch.slots.length > 0, 'a join puts entrants at other slots than the last');
    const next = applyMoves(held, { type: 'moves', version: a.version, previousVersion: b.version, ownerMoves: moves.ownerMoves, replicaMoves: moves.replicaMoves, moves: moves.groups, patch });
    assert.ok(next instanceof RingTable, String(next));
    assert.deepEqual(next.ownerIndex, ringTableOf(a).ownerIndex);
    assert.deepEqual(next.replicaIndex, ringTableOf(a).replicaIndex);
    held = next;
  }
});
