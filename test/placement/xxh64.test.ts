import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { keyHash, xxh64 } from '../../src/placement/index.js';
import { hashOut, xxh64Into, xxh64ShortAscii } from '../../src/placement/xxh64-fast.js';
import { readSharedVectors } from './shared-vectors.js';

interface XxhVector {
  key: string;
  xxh64: string;
}

const encoder = new TextEncoder();
const hex = (hi: number, lo: number): string => (hi >>> 0).toString(16).padStart(8, '0') + (lo >>> 0).toString(16).padStart(8, '0');
const fastOf = (bytes: Uint8Array): string => {
  xxh64Into(bytes, bytes.length);
  return hex(hashOut[0]!, hashOut[1]!);
};
/** Any UTF-16 code units, lone surrogates included. */
const rawUtf16 = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 80 });

describe('XXH64, seed 0', () => {
  const vectors = readSharedVectors<XxhVector>('xxh64.json');

  test('the BigInt reference matches every shared vector', () => {
    for (const v of vectors) assert.equal(xxh64(encoder.encode(v.key)).toString(16).padStart(16, '0'), v.xxh64, JSON.stringify(v.key));
  });

  test('the 32-bit-halves version matches every shared vector, on bytes and on strings', () => {
    for (const v of vectors) {
      assert.equal(fastOf(encoder.encode(v.key)), v.xxh64, JSON.stringify(v.key));
      const { hi, lo } = keyHash(v.key);
      assert.equal(hex(hi, lo), v.xxh64, JSON.stringify(v.key));
    }
  });

  test('the vectors cover every length 0..69 and keys of 32 bytes and more', () => {
    const lengths = new Set(vectors.map((v) => encoder.encode(v.key).length));
    for (let n = 0; n < 70; n++) assert.ok(lengths.has(n), `no vector of ${n} bytes`);
  });

  test('halves equal BigInt on random bytes of every length class', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        assert.equal(fastOf(bytes), xxh64(bytes).toString(16).padStart(16, '0'));
      }),
      { numRuns: 1000 },
    );
  });

  test('halves read only the prefix they are given', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), fc.uint8Array({ minLength: 1, maxLength: 40 }), (bytes, junk) => {
        const buffer = new Uint8Array(bytes.length + junk.length);
        buffer.set(bytes);
        buffer.set(junk, bytes.length);
        xxh64Into(buffer, bytes.length);
        assert.equal(hex(hashOut[0]!, hashOut[1]!), xxh64(bytes).toString(16).padStart(16, '0'));
      }),
      { numRuns: 500 },
    );
  });

  test('key hashing is XXH64 of the UTF-8 bytes (lone surrogates as U+FFFD), for any string', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 80 }), fc.string({ unit: 'binary', maxLength: 80 }), rawUtf16), (key) => {
        const { hi, lo } = keyHash(key);
        assert.equal(hex(hi, lo), xxh64(encoder.encode(key)).toString(16).padStart(16, '0'));
      }),
      { numRuns: 1000 },
    );
  });

  test('the short-ASCII path equals BigInt at every length 0..31, and declines any non-ASCII character', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.integer({ min: 0, max: 0x7f }).map((c) => String.fromCharCode(c)), maxLength: 31 }), (key) => {
        assert.equal(xxh64ShortAscii(key), true);
        assert.equal(hex(hashOut[0]!, hashOut[1]!), xxh64(encoder.encode(key)).toString(16).padStart(16, '0'));
      }),
      { numRuns: 1000 },
    );
    // A character above U+007F in each place: an 8-byte block, the 4-byte block, the byte tail.
    for (let len = 1; len < 32; len++) {
      for (let at = 0; at < len; at++) {
        for (const odd of ['\u0080', '\u00ff', '\u0100', '\ud83d', '\uffff']) {
          const key = 'k'.repeat(at) + odd + 'k'.repeat(len - at - 1);
          assert.equal(xxh64ShortAscii(key), false, `${len} ${at} ${odd.charCodeAt(0)}`);
          const { hi, lo } = keyHash(key);
          assert.equal(hex(hi, lo), xxh64(encoder.encode(key)).toString(16).padStart(16, '0'));
        }
      }
    }
  });

  test('keys longer than the reused buffer, ASCII and not, hash correctly', () => {
    for (const key of ['a'.repeat(5000), 'é'.repeat(3000), `${'x'.repeat(700)}🙂`]) {
      const { hi, lo } = keyHash(key);
      assert.equal(hex(hi, lo), xxh64(encoder.encode(key)).toString(16).padStart(16, '0'));
    }
  });
});
