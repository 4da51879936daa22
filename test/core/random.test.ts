import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { seededRandom, shuffleInPlace } from '../../src/core/random.js';

describe('seededRandom', () => {
  test('same seed replays the same sequence, different seeds differ', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const c = seededRandom(43);
    const seqA = Array.from({ length: 20 }, () => a.next());
    const seqB = Array.from({ length: 20 }, () => b.next());
    const seqC = Array.from({ length: 20 }, () => c.next());
    assert.deepEqual(seqA, seqB);
    assert.notDeepEqual(seqA, seqC);
  });

  test('next is in [0, 1) and int(n) in [0, n)', () => {
    fc.assert(
      fc.property(fc.integer(), fc.integer({ min: 1, max: 1_000_000 }), (seed, n) => {
        const r = seededRandom(seed);
        for (let i = 0; i < 50; i++) {
          const x = r.next();
          const k = r.int(n);
          if (!(x >= 0 && x < 1)) return false;
          if (!(Number.isInteger(k) && k >= 0 && k < n)) return false;
        }
        return true;
      }),
    );
  });

  test('int(n) hits every bucket roughly evenly', () => {
    const r = seededRandom(7);
    const counts = new Array<number>(10).fill(0);
    for (let i = 0; i < 100_000; i++) counts[r.int(10)]!++;
    for (const c of counts) assert.ok(c > 9_000 && c < 11_000, `bucket count ${c}`);
  });

  test('int of zero or less is 0', () => {
    assert.equal(seededRandom(1).int(0), 0);
  });
});

describe('shuffleInPlace', () => {
  test('is a permutation', () => {
    fc.assert(
      fc.property(fc.array(fc.integer()), fc.integer(), (items, seed) => {
        const copy = [...items];
        shuffleInPlace(copy, seededRandom(seed));
        assert.deepEqual([...copy].sort((a, b) => a - b), [...items].sort((a, b) => a - b));
      }),
    );
  });
});
