// The agent's heap tuning: applied by default, left alone when the operator sized the young generation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getHeapSpaceStatistics } from 'node:v8';
import { AGENT_V8_FLAGS, tuneHeapForAgent, youngGenerationSetByHand } from '../../src/runtime/heap-tuning.js';

test('a hand-set young generation (flags or NODE_OPTIONS) is respected', () => {
  assert.equal(youngGenerationSetByHand(['--max-semi-space-size=8'], undefined), true);
  assert.equal(youngGenerationSetByHand([], '--enable-source-maps --max_semi_space_size=4'), true);
  assert.equal(youngGenerationSetByHand(['--import', 'tsx'], '--enable-source-maps'), false);
  assert.deepEqual(tuneHeapForAgent(['--semi-space-growth-factor=2'], undefined), []);
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
