// The agent's heap tuning: applied by default, left alone when the operator sized the young generation;
// compaction after a burst is off until the agent enables it, then a real full collection, and the main
// context still has no global gc() for library code to find.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { getHeapSpaceStatistics } from 'node:v8';
import { AGENT_V8_FLAGS, compactHeap, enableHeapCompaction, tuneHeapForAgent, youngGenerationSetByHand } from '../../src/runtime/heap-tuning.js';

test('a hand-set young generation (flags or NODE_OPTIONS) is respected', () => {
  assert.equal(youngGenerationSetByHand(['--max-semi-space-size=8'], undefined), true);
  assert.equal(youngGenerationSetByHand([], '--enable-source-maps --max_semi_space_size=4'), true);
  assert.equal(youngGenerationSetByHand(['--import', 'tsx'], '--enable-source-maps'), false);
  assert.deepEqual(tuneHeapForAgent(['--semi-space-growth-factor=2'], undefined), ['--no-sparkplug', '--no-concurrent-recompilation']);
  assert.deepEqual(tuneHeapForAgent(['--semi-space-growth-factor=2', '--sparkplug'], undefined), ['--no-concurrent-recompilation']);
  assert.deepEqual(tuneHeapForAgent(['--semi-space-growth-factor=2', '--sparkplug'], '--concurrent_recompilation'), []);
});

test('applied, the young generation stays at its initial size under allocation pressure', () => {
  const newSpace = (): number => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0;
  const initial = newSpace();
  assert.deepEqual(tuneHeapForAgent([], undefined), AGENT_V8_FLAGS);
  let keep: object[] = [];
  for (let round = 0; round < 100; round++) {
    const batch: object[] = [];
    for (let i = 0; i < 20_000; i++) batch.push({ i, s: `x${i}` });
    keep = batch;
  }
  assert.ok(keep.length > 0);
  assert.ok(newSpace() <= Math.max(initial, 4 * 1024 * 1024), `new space grew to ${newSpace()} bytes (initial ${initial})`);
});

test('compactHeap does nothing until enabled, then collects unreachable objects', async () => {
  assert.equal(compactHeap(), false);
  enableHeapCompaction();
  enableHeapCompaction();
  let garbage: object | null = { big: new Array(100_000).fill(1) };
  const ref = new WeakRef(garbage);
  garbage = null;
  // A WeakRef's target is kept until the job that created it ends.
  await nextTurn();
  assert.equal(compactHeap(), true);
  assert.equal(ref.deref(), undefined);
  assert.equal(typeof (globalThis as { gc?: unknown }).gc, 'undefined');
});
