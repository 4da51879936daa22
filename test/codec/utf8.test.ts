import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { isWellFormedUtf16, strictUtf8Length, utf8Length, writeUtf8 } from '../../src/codec/utf8.js';

const encoder = new TextEncoder();
/** Any UTF-16 code units, lone surrogates included. */
const rawUtf16 = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 40 });
const isWellFormed = (s: string): boolean => (s as unknown as { isWellFormed(): boolean }).isWellFormed();

describe('utf8 helpers agree with the platform', () => {
  test('utf8Length equals TextEncoder length, lone surrogates too', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 60 }), rawUtf16), (s) => {
        assert.equal(utf8Length(s), encoder.encode(s).length);
      }),
      { numRuns: 1000 },
    );
  });

  test('isWellFormedUtf16 equals String.prototype.isWellFormed', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 20 }), rawUtf16), (s) => {
        assert.equal(isWellFormedUtf16(s), isWellFormed(s));
      }),
      { numRuns: 1000 },
    );
    assert.equal(isWellFormedUtf16('\uDC00\uD800'), false);
    assert.equal(isWellFormedUtf16('a\uD83D'), false);
    assert.equal(isWellFormedUtf16('😀'), true);
  });

  test('strictUtf8Length is the TextEncoder length of a well-formed string and -1 for a lone surrogate', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 60 }), rawUtf16), (s) => {
        assert.equal(strictUtf8Length(s), isWellFormed(s) ? encoder.encode(s).length : -1);
      }),
      { numRuns: 1000 },
    );
    assert.equal(strictUtf8Length('a\uD83D'), -1);
    assert.equal(strictUtf8Length('\uDC00b'), -1);
    assert.equal(strictUtf8Length('😀é'), 6);
  });

  test('writeUtf8 writes what TextEncoder writes, at an offset, and returns the end', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 60 }), fc.integer({ min: 0, max: 5 }), (s, offset) => {
        const expected = encoder.encode(s);
        const out = new Uint8Array(offset + expected.length + 2).fill(0xaa);
        assert.equal(writeUtf8(out, offset, s), offset + expected.length);
        assert.deepEqual(out.subarray(offset, offset + expected.length), expected);
        assert.deepEqual([...out.subarray(0, offset), ...out.subarray(offset + expected.length)], new Array<number>(offset + 2).fill(0xaa));
      }),
      { numRuns: 1000 },
    );
  });
});
