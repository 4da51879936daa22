// Builds after a few joins and leaves patch the previous build's ring lists (ring-cache.ts). They must
// give exactly what a build from scratch gives, however the changes chain.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { buildTable, DEFAULT_REPLICAS, DEFAULT_SHARDS, type PlacementOptions, type PlacementTable } from '../../src/placement/index.js';
import { memberSeeds } from '../../src/placement/points.js';
import { bypassRingCache, clearRingCache, lastRankPath, listsSteps } from '../../src/placement/ring-cache.js';
import { runSteps } from '../../src/placement/steps.js';
import { releaseRingScratch, ringWalkScratchInts } from '../../src/placement/ring-rank.js';
import { memberName, podNames } from './arbitraries.js';

function sameAnswers(patched: PlacementTable, fresh: PlacementTable): void {
  assert.equal(patched.version, fresh.version);
  // Replicas in the same order too, not just the same set (which is all diffTables looks at).
  assert.ok(sameInts(patched.ownerIndex, fresh.ownerIndex), 'owners differ');
  assert.ok(sameInts(patched.replicaIndex, fresh.replicaIndex), 'replicas differ');
}

function sameInts(a: ArrayBufferView, b: ArrayBufferView): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

/** A step: remove the members at these positions (mod size), add these names. */
const step = fc.record({
  leave: fc.array(fc.nat(), { maxLength: 3 }),
  join: fc.uniqueArray(memberName, { maxLength: 3 }),
});

function chain(start: string[], steps: { leave: number[]; join: string[] }[], opts: PlacementOptions): void {
  clearRingCache();
  let members = [...new Set(start)];
  buildTable(members, opts);
  for (const { leave, join } of steps) {
    const next = members.filter((_, i) => !leave.some((l) => l % members.length === i));
    for (const j of join) if (!next.includes(j)) next.push(j);
    const patched = buildTable(next, opts);
    const fresh = bypassRingCache(() => buildTable(next, opts));
    sameAnswers(patched, fresh);
    members = next;
  }
}

describe('patched builds equal fresh builds', () => {
  test('random chains of joins and leaves, small shapes where lists fill and spill', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(memberName, { minLength: 1, maxLength: 30 }),
        fc.array(step, { minLength: 1, maxLength: 8 }),
        fc.record({
          shards: fc.constantFrom(1, 7, 64, 300),
          replicas: fc.integer({ min: 0, max: 3 }),
          vnodes: fc.constantFrom(1, 4, 16, 64),
        }),
        (start, steps, opts) => chain(start, steps, opts),
      ),
      { numRuns: 120 },
    );
  });

  test('the default shape at 300 members, a few joins and leaves', () => {
    fc.assert(
      fc.property(podNames(300), fc.array(step, { minLength: 3, maxLength: 3 }), (start, steps) =>
        chain(start, steps, { shards: DEFAULT_SHARDS, replicas: DEFAULT_REPLICAS }),
      ),
      { numRuns: 1 },
    );
  });

  test('joins one at a time into sparse lists (records added as gaps first get points) equal fresh builds', () => {
    const opts = { shards: DEFAULT_SHARDS, replicas: DEFAULT_REPLICAS };
    clearRingCache();
    let members = ['pod-a', 'pod-b'];
    buildTable(members, opts);
    for (const name of ['pod-c', 'pod-d', 'pod-e', 'pod-f']) {
      members = [...members, name];
      const patched = buildTable(members, opts);
      assert.equal(lastRankPath(), 'patched');
      sameAnswers(patched, bypassRingCache(() => buildTable(members, opts)));
    }
    // And leaves back down, through gaps left with empty records.
    for (let i = 0; i < 3; i++) {
      members = members.slice(1);
      const patched = buildTable(members, opts);
      assert.equal(lastRankPath(), 'patched');
      sameAnswers(patched, bypassRingCache(() => buildTable(members, opts)));
    }
  });

  test('one join or leave is patched, a wholesale change is rebuilt, no change reuses the lists', () => {
    const opts = { shards: 1024, replicas: 2, vnodes: 16 };
    const names = Array.from({ length: 40 }, (_, i) => `m${i}`);
    clearRingCache();
    buildTable(names, opts);
    assert.equal(lastRankPath(), 'fresh');
    buildTable([...names, 'new'], opts);
    assert.equal(lastRankPath(), 'patched');
    buildTable(names.slice(1), opts);
    assert.equal(lastRankPath(), 'patched');
    buildTable(names.slice(1), opts);
    assert.equal(lastRankPath(), 'reused');
    buildTable(names.map((n) => `${n}x`), opts);
    assert.equal(lastRankPath(), 'fresh');
    buildTable(names, { ...opts, vnodes: 32 });
    assert.equal(lastRankPath(), 'fresh');
  });
});

describe('ring scratch memory', () => {
  test('the gap lists hold one record per gap holding points, not one per shard', () => {
    clearRingCache();
    const names = ['a', 'b', 'c'].map((n) => new TextEncoder().encode(n));
    const lists = runSteps(listsSteps({ names, seeds: memberSeeds(names), shards: DEFAULT_SHARDS, vnodes: 1024, depth: DEFAULT_REPLICAS + 1 }, true));
    const points = names.length * 1024;
    assert.ok(lists.used > 0 && lists.used <= points, `${lists.used} records for ${points} points`);
    assert.ok(lists.records.length <= points * lists.stride, `${lists.records.length} ints for ${points} points`);
    clearRingCache();
  });

  test('the walk lists take one record per gap holding points, not one per shard', () => {
    releaseRingScratch();
    clearRingCache();
    const members = ['a', 'b', 'c'];
    const table = bypassRingCache(() => buildTable(members, { shards: DEFAULT_SHARDS, replicas: DEFAULT_REPLICAS }));
    const stride = 2 + 6 * (DEFAULT_REPLICAS + 1);
    // At most one gap per point holds points: 3 members x the default vnodes.
    const points = members.length * table.vnodes;
    assert.ok(points < DEFAULT_SHARDS / 4, 'the case must leave most gaps empty');
    assert.ok(ringWalkScratchInts() > 0);
    assert.ok(ringWalkScratchInts() <= points * stride, `walk scratch ${ringWalkScratchInts()} ints for ${points} points`);
  });
});
