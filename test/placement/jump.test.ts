import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { jumpHash, MAX_JUMP_BUCKETS } from '../../src/placement/index.js';
import { mulHi } from '../../src/placement/xxh64-fast.js';
import { naiveJump } from './naive.js';
import { readSharedVectors } from './shared-vectors.js';

interface JumpVector {
  key: string;
  buckets: number;
  bucket: number;
}

const halves = (key: bigint): [number, number] => [Number(key >> 32n), Number(key & 0xffffffffn)];
const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });

describe('jump consistent hash', () => {
  const vectors = readSharedVectors<JumpVector>('jump-hash.json');

  test('matches every shared vector', () => {
    for (const v of vectors) {
      const [hi, lo] = halves(BigInt(v.key));
      assert.equal(jumpHash(hi, lo, v.buckets), v.bucket, `key ${v.key}, ${v.buckets} buckets`);
    }
  });

  test('the vectors include 2^31 - 1 buckets and keys at and above 2^63', () => {
    assert.ok(vectors.some((v) => v.buckets === MAX_JUMP_BUCKETS));
    assert.ok(vectors.some((v) => BigInt(v.key) === 1n << 63n));
    assert.ok(vectors.some((v) => BigInt(v.key) > 1n << 63n));
  });

  test('the paper\'s well-known answers', () => {
    assert.equal(jumpHash(0, 42, 57), 43);
    assert.equal(jumpHash(0, 0xdead10cc, 666), 361);
    assert.equal(jumpHash(0, 256, 1024), 520);
  });

  test('equals the BigInt reference loop for any key and bucket count', () => {
    fc.assert(
      fc.property(u64, fc.oneof(fc.integer({ min: 1, max: 5000 }), fc.integer({ min: 1, max: MAX_JUMP_BUCKETS })), (key, buckets) => {
        const [hi, lo] = halves(key);
        assert.equal(jumpHash(hi, lo, buckets), naiveJump(key, buckets));
      }),
      { numRuns: 3000 },
    );
  });

  test('mulHi is the high word of the 64-bit product', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 0xffffffff }), (a, b) => {
        assert.equal(mulHi(a | 0, b | 0) >>> 0, Number((BigInt(a) * BigInt(b)) >> 32n));
      }),
      { numRuns: 5000 },
    );
    assert.equal(mulHi(-1, -1) >>> 0, 0xfffffffe);
  });

  test('buckets only ever grow by moving keys into the new bucket (monotonicity)', () => {
    fc.assert(
      fc.property(u64, fc.integer({ min: 1, max: 100000 }), (key, buckets) => {
        const [hi, lo] = halves(key);
        const before = jumpHash(hi, lo, buckets);
        const after = jumpHash(hi, lo, buckets + 1);
        assert.ok(after === before || after === buckets);
      }),
      { numRuns: 2000 },
    );
  });

  test('rejects bucket counts and halves out of range with RangeError', () => {
    for (const b of [0, -1, 1.5, MAX_JUMP_BUCKETS + 1, Number.NaN]) assert.throws(() => jumpHash(0, 0, b), RangeError);
    for (const [hi, lo] of [[-1, 0], [0, 2 ** 32], [0.5, 0]] as const) assert.throws(() => jumpHash(hi, lo, 10), RangeError);
  });
});
