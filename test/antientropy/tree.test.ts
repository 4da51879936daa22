import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { DIGEST_FANOUT, DigestTree, hashHex, sameHash } from '../../src/antientropy/tree.js';
import { xxh64 } from '../../src/placement/index.js';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('DigestTree', () => {
  test('equal sets give equal roots whatever the insertion order', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.tuple(fc.string({ minLength: 1 }), fc.string()), { selector: ([k]) => k, maxLength: 200 }), fc.integer(), (entries, seed) => {
        const a = new DigestTree(256);
        const b = new DigestTree(256);
        for (const [k, v] of entries) a.set(k, bytes(v));
        const shuffled = [...entries].sort((x, y) => ((hash(x[0]) ^ seed) >>> 0) - ((hash(y[0]) ^ seed) >>> 0));
        for (const [k, v] of shuffled) b.set(k, bytes(v));
        assert.ok(sameHash(a.root(), b.root()));
        assert.equal(a.size, entries.length);
      }),
      { numRuns: 100 },
    );
  });

  test('one changed entry changes exactly its bucket, and every node above it', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.string({ minLength: 1 }), { minLength: 1, maxLength: 300 }), fc.nat(), (keys, pick) => {
        const a = new DigestTree(4096);
        const b = new DigestTree(4096);
        for (const k of keys) {
          a.set(k, bytes(`v:${k}`));
          b.set(k, bytes(`v:${k}`));
        }
        const changed = keys[pick % keys.length]!;
        b.set(changed, bytes(`other:${changed}`));
        const bucket = a.bucketOf(changed);
        const differing: number[] = [];
        for (let leaf = 0; leaf < a.leaves; leaf++) if (!sameHash(a.node(a.depth, leaf), b.node(b.depth, leaf))) differing.push(leaf);
        assert.deepEqual(differing, [bucket]);
        for (let level = a.depth - 1, i = bucket >>> 4; level >= 0; level--, i >>>= 4) {
          assert.ok(!sameHash(a.node(level, i), b.node(level, i)), `level ${level} node ${i} differs`);
        }
      }),
      { numRuns: 60 },
    );
  });

  test('removing what was added returns to the empty root (zero), and to the earlier root', () => {
    const t = new DigestTree(256);
    assert.equal(hashHex(t.root()), '0000000000000000');
    t.set('a', bytes('1'));
    const withA = t.root();
    t.set('b', bytes('2'));
    t.set('b', bytes('3'));
    assert.ok(!sameHash(withA, t.root()));
    t.set('b', null);
    assert.ok(sameHash(withA, t.root()));
    t.set('a', null);
    assert.equal(hashHex(t.root()), '0000000000000000');
    assert.equal(t.set('a', null), false, 'removing an absent key changes nothing');
  });

  test('setting the same bytes again is not a change', () => {
    const t = new DigestTree(16);
    assert.equal(t.set('k', bytes('v')), true);
    assert.equal(t.set('k', bytes('v')), false);
  });

  test('a leaf hash is the sum mod 2^64 of XXH64 of its entries', () => {
    const t = new DigestTree(16);
    const keys = ['x', 'y', 'z', 'w', 'q'].filter((k) => t.bucketOf(k) === t.bucketOf('x'));
    let sum = 0n;
    for (const k of keys) {
      t.set(k, bytes(`value-${k}`));
      sum = (sum + xxh64(bytes(`value-${k}`))) & ((1n << 64n) - 1n);
    }
    assert.equal(hashHex(t.node(1, t.bucketOf('x'))), sum.toString(16).padStart(16, '0'));
  });

  test('keysIn lists exactly the keys of a bucket', () => {
    const t = new DigestTree(256);
    const keys = Array.from({ length: 500 }, (_, i) => `key-${i}`);
    for (const k of keys) t.set(k, bytes(k));
    let total = 0;
    for (let b = 0; b < t.leaves; b++) {
      for (const k of t.keysIn(b)) assert.equal(t.bucketOf(k), b);
      total += t.keysIn(b).length;
    }
    assert.equal(total, keys.length);
  });

  test('shapes other than powers of 16 are refused', () => {
    assert.throws(() => new DigestTree(100), RangeError);
    assert.throws(() => new DigestTree(1), RangeError);
    assert.equal(new DigestTree(DIGEST_FANOUT ** 3).depth, 3);
  });
});

function hash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return h;
}
