import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { expectedConfirmations, Suspicion, suspicionMinTimeout, suspicionTimeout } from '../../src/core/suspicion.js';

describe('suspicion maths', () => {
  test('minimum timeout = mult * max(1, log10(max(n, 1))) * probe interval', () => {
    const table: [mult: number, n: number, interval: number, expected: number][] = [
      [4, 0, 1000, 4000],
      [4, 1, 1000, 4000],
      [4, 10, 1000, 4000],
      [4, 100, 1000, 8000],
      [4, 1000, 1000, 12000],
      [4, 10_000, 1000, 16000],
      [3, 5, 200, 600],
      [6, 100, 5000, 60000],
    ];
    for (const [mult, n, interval, expected] of table) {
      assert.equal(suspicionMinTimeout(mult, n, interval), expected, `mult ${mult} n ${n}`);
    }
  });

  test('expected confirmations k = mult - 2, or 0 when the cluster cannot supply them', () => {
    assert.equal(expectedConfirmations(4, 100), 2);
    assert.equal(expectedConfirmations(4, 4), 2);
    assert.equal(expectedConfirmations(4, 3), 0);
    assert.equal(expectedConfirmations(3, 3), 1);
    assert.equal(expectedConfirmations(1, 100), 0);
  });

  test('timeout shrinks on a log scale from max to min as confirmations arrive', () => {
    // Same cases as memberlist suspicion_test.go (elapsed = 0): max - log(c+1)/log(k+1) * (max - min).
    const table: [c: number, k: number, min: number, max: number, expected: number][] = [
      [0, 3, 2000, 30000, 30000],
      [1, 3, 2000, 30000, 16000],
      [2, 3, 2000, 30000, 7810],
      [3, 3, 2000, 30000, 2000],
      [4, 3, 2000, 30000, 2000],
      [5, 3, 2000, 30000, 2000],
      [0, 0, 2000, 30000, 2000],
      [1, 2, 4000, 24000, 11381],
    ];
    for (const [c, k, min, max, expected] of table) {
      assert.equal(suspicionTimeout(c, k, min, max), expected, `c ${c} k ${k}`);
    }
  });
});

describe('Suspicion', () => {
  test('the first accuser does not confirm its own suspicion', () => {
    const s = new Suspicion(7, 1000, 'a', 3, 2000, 30000);
    assert.equal(s.deadline(), 31000);
    assert.equal(s.confirm('a'), false);
    assert.equal(s.confirmations, 0);
  });

  test('distinct accusers confirm once each, up to k', () => {
    const s = new Suspicion(7, 1000, 'a', 2, 4000, 24000);
    assert.equal(s.confirm('b'), true);
    assert.equal(s.confirm('b'), false);
    assert.equal(s.deadline(), 1000 + 11381);
    assert.equal(s.confirm('c'), true);
    assert.equal(s.deadline(), 1000 + 4000);
    assert.equal(s.confirm('d'), false, 'k reached');
    assert.equal(s.confirmations, 2);
  });

  test('with k = 0 the suspicion lasts the minimum and takes no confirmations', () => {
    const s = new Suspicion(1, 0, 'a', 0, 600, 3600);
    assert.equal(s.deadline(), 600);
    assert.equal(s.confirm('b'), false);
  });
});
