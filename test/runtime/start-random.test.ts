// The start's random bytes (src/runtime/start-random.ts): as many as asked, and not the same twice.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startRandomBytes } from '../../src/runtime/start-random.js';

test('startRandomBytes gives the length asked for, and two draws differ', () => {
  for (const n of [0, 1, 4, 8, 32, 4096]) assert.equal(startRandomBytes(n).length, n);
  const a = startRandomBytes(32);
  const b = startRandomBytes(32);
  assert.notDeepEqual(a, b);
  // 32 random bytes are all zero with probability 2^-256: a zero buffer means nothing was read.
  assert.notDeepEqual(a, Buffer.alloc(32));
});
