import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Awareness } from '../../src/core/awareness.js';

describe('Awareness', () => {
  test('starts healthy and scales timeouts by score + 1', () => {
    const a = new Awareness(8);
    assert.equal(a.score, 0);
    assert.equal(a.scale(500), 500);
    a.applyDelta(2);
    assert.equal(a.scale(500), 1500);
  });

  test('score stays within [0, max - 1]', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 16 }), fc.array(fc.integer({ min: -5, max: 5 })), (max, deltas) => {
        const a = new Awareness(max);
        for (const d of deltas) {
          a.applyDelta(d);
          if (a.score < 0 || a.score > max - 1) return false;
        }
        return true;
      }),
    );
  });

  test('a max multiplier of 1 turns awareness off', () => {
    const a = new Awareness(1);
    a.applyDelta(5);
    assert.equal(a.score, 0);
    assert.equal(a.scale(100), 100);
  });
});
