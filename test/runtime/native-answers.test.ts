// The native answer writer (src/placement/native/answers.cc via RouteIndex.writeAnswerRun for batches and
// RouteIndex.answerText for single answers) writes the same bytes as the JS writer, in both layouts,
// whatever the keys: it takes the plain ones and hands back escapes, long keys, tails not cached yet and
// a full buffer, which the serializers write in JS.
// test/placement/native.test.ts fails when the addon should have been built and was not; here the tests
// need it.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { buildTable } from '../../src/placement/index.js';
import { nativeAnswers, nativeLookup } from '../../src/placement/native.js';
import { MAX_CACHED_TAILS, RouteIndex } from '../../src/runtime/route-index.js';
import type { RouteEncoder } from '../../src/runtime/view.js';
import { serializeEncodedBatch, serializeRouteAnswer } from '../../src/http/serialize.js';
import { serializeCompactEncodedBatch } from '../../src/http/serialize-compact.js';
import type { BatchBufferSource } from '../../src/http/json-bytes.js';
import { recordsOf } from './route-fixtures.js';

/** The same encoder without its native writer: every answer written by the serializers' JS loop. */
function jsOnly(index: RouteIndex): RouteEncoder {
  return {
    version: index.version,
    shardOf: (key) => index.shardOf(key),
    tailOf: (key, shard) => index.tailOf(key, shard),
    answerText: (key) => serializeRouteAnswer(index.route(key)),
    memberCount: index.memberCount,
    memberJson: (m) => index.memberJson(m),
    compactTailRoom: index.compactTailRoom,
    writeCompactTail: (shard, out, at) => index.writeCompactTail(shard, out, at),
  };
}

function bothLayouts(encoder: RouteEncoder, keys: readonly string[], buffers?: BatchBufferSource): [string, string] {
  return [serializeEncodedBatch(encoder, keys, buffers).body.toString('utf8'), serializeCompactEncodedBatch(encoder, keys, buffers).body.toString('utf8')];
}

const plainKey = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 40 });
/** Keys the native writer must hand back: escapes, Latin-1 (one-byte in V8, two bytes in UTF-8), emoji, past its bound. */
const otherKey = fc.oneof(
  fc.string({ unit: fc.constantFrom('a', '"', '\\', '\n', '\u007f', 'é', 'ÿ', '😀', '\ud800'), minLength: 1, maxLength: 12 }),
  fc.constantFrom('x'.repeat(257), 'y'.repeat(256), 'é'.repeat(300)),
);
const keysArb = fc.array(fc.oneof({ weight: 4, arbitrary: plainKey }, { weight: 1, arbitrary: otherKey }), { minLength: 1, maxLength: 60 });

const nativeShard = (key: string, buckets: number): number => nativeLookup!.shard(key, buckets);

describe('native answers', () => {
  // Without the addon there is nothing to compare; test/placement/native.test.ts fails if it should be there.
  if (nativeAnswers === null) return;
  test('the same bytes as the JS writer, both layouts, on a fresh index and on a warm one', () => {
    const names = ['a', 'b', 'c', 'd"quoted', 'é-member'];
    fc.assert(
      fc.property(keysArb, (keys) => {
        const index = new RouteIndex(buildTable(names, { shards: 4096, replicas: 2 }), recordsOf(names));
        const fresh = bothLayouts(index, keys); // every combination seen for the first time is encoded in JS
        const warm = bothLayouts(index, keys);
        const expected = bothLayouts(jsOnly(new RouteIndex(buildTable(names, { shards: 4096, replicas: 2 }), recordsOf(names))), keys);
        assert.deepEqual(fresh, expected);
        assert.deepEqual(warm, expected);
        JSON.parse(warm[0]);
        JSON.parse(warm[1]);
      }),
      { numRuns: 300 },
    );
  });

  test('on a warm index it writes every plain key itself, and stops at the first key it must hand back', () => {
    const names = ['a', 'b', 'c'];
    const index = new RouteIndex(buildTable(names, { shards: 4096, replicas: 1 }), recordsOf(names));
    const keys = Array.from({ length: 2000 }, (_, i) => `key-${i}`);
    bothLayouts(index, keys); // caches every tail these keys meet
    for (const layout of ['full', 'compact'] as const) {
      const out = Buffer.alloc(1 << 20);
      assert.equal(index.writeAnswerRun(layout, keys, 0, out, 0), keys.length);
      const text = `[${out.subarray(0, index.runEnd).toString()}]`;
      assert.deepEqual(
        (JSON.parse(text) as { key: string }[]).map((a) => a.key),
        keys,
      );
      const mixed = ['plain-1', 'plain-2', 'needs "escape"', 'plain-3'];
      bothLayouts(index, mixed);
      assert.equal(index.writeAnswerRun(layout, mixed, 0, out, 0), 2);
      assert.equal(index.writeAnswerRun(layout, mixed, 3, out, index.runEnd), 4);
    }
  });

  test('a buffer that runs short mid-batch: it hands the key back, the serializer grows the buffer', () => {
    const names = ['a', 'b', 'c', 'd'];
    const index = new RouteIndex(buildTable(names, { shards: 1024, replicas: 2 }), recordsOf(names));
    // The first key sizes the buffer for all; the long ones after it overflow it.
    const keys = ['k', ...Array.from({ length: 300 }, (_, i) => `${'long-key-'.repeat(20)}${i}`)];
    bothLayouts(index, keys);
    const grown: number[] = [];
    const buffers: BatchBufferSource = { acquire: (n) => (grown.push(n), Buffer.allocUnsafe(n)), release: () => {} };
    const native = bothLayouts(index, keys, buffers);
    assert.ok(grown.length > 2, `the buffer should have grown (acquired ${grown.join(', ')})`);
    assert.deepEqual(native, bothLayouts(jsOnly(index), keys));
  });

  test('more combinations than the cache holds: the uncached ones are written in JS, the bytes are the same', () => {
    const names = Array.from({ length: 60 }, (_, i) => `m${i}`);
    const table = buildTable(names, { shards: 32_768, replicas: 3 });
    const index = new RouteIndex(table, recordsOf(names));
    const keys = Array.from({ length: 10_000 }, (_, i) => `key-${i}`);
    const warmUp = Array.from({ length: 40_000 }, (_, i) => `warm-${i}`);
    bothLayouts(index, warmUp.slice(0, 10_000));
    bothLayouts(index, warmUp.slice(10_000, 20_000));
    bothLayouts(index, warmUp.slice(20_000, 30_000));
    bothLayouts(index, warmUp.slice(30_000));
    assert.deepEqual(bothLayouts(index, keys), bothLayouts(jsOnly(new RouteIndex(table, recordsOf(names))), keys));
    assert.ok(MAX_CACHED_TAILS < 40_000);
  });

  test('single answers: the same text as the JS serializer, written natively for plain keys once their tail is cached', () => {
    const names = ['a', 'b', 'c', 'd"quoted', 'é-member'];
    const addon = nativeAnswers!;
    const original = addon.answerText;
    let written = 0;
    addon.answerText = (...args) => {
      const text = original(...args);
      if (text !== undefined) written++;
      return text;
    };
    try {
      fc.assert(
        fc.property(keysArb, (keys) => {
          const index = new RouteIndex(buildTable(names, { shards: 4096, replicas: 2 }), recordsOf(names));
          const reference = new RouteIndex(buildTable(names, { shards: 4096, replicas: 2 }), recordsOf(names));
          const expected = keys.map((k) => serializeRouteAnswer(reference.route(k)));
          assert.deepEqual(keys.map((k) => index.answerText(k)), expected, 'fresh index');
          written = 0;
          assert.deepEqual(keys.map((k) => index.answerText(k)), expected, 'warm index');
          const plain = keys.filter((k) => k.length <= 256 && /^[\x20-\x7e]*$/.test(k) && !/["\\]/.test(k));
          assert.equal(written, plain.length, 'every plain key of a warm index is written natively');
        }),
        { numRuns: 200 },
      );
    } finally {
      addon.answerText = original;
    }
  });

  test('the addon hands back single answers it cannot write, and checks its arrays', () => {
    const addon = nativeAnswers!;
    const tails = new Uint16Array(16).fill(1);
    const offsets = Uint32Array.from([0, 4]);
    const arena = Buffer.from('TAIL');
    assert.match(addon.answerText('k', tails, offsets, arena) ?? '', /^\{"key":"k","shard":\d{1,2}TAIL$/);
    assert.equal(addon.answerText('x'.repeat(256), tails, offsets, arena)?.length, '{"key":"","shard":'.length + 256 + String(nativeShard('x'.repeat(256), 16)).length + 4);
    for (const key of ['x'.repeat(257), 'needs "escape"', 'back\\slash', 'é', '\u007f', '😀', 42 as unknown as string]) {
      assert.equal(addon.answerText(key, tails, offsets, arena), undefined, JSON.stringify(key));
    }
    // A tail not cached, a tail id past the offsets, offsets past the arena, a tail too long for one answer.
    assert.equal(addon.answerText('k', new Uint16Array(16), offsets, arena), undefined);
    assert.equal(addon.answerText('k', new Uint16Array(16).fill(9), offsets, arena), undefined);
    assert.equal(addon.answerText('k', tails, Uint32Array.from([0, 400]), arena), undefined);
    assert.equal(addon.answerText('k', tails, Uint32Array.from([0, 9000]), Buffer.alloc(9000, 0x41)), undefined);
    assert.equal(addon.answerText('k', tails, Uint32Array.from([0, 4000]), Buffer.alloc(4000, 0x41))?.length, '{"key":"k","shard":'.length + String(nativeShard('k', 16)).length + 4000);
    assert.throws(() => addon.answerText('k', new Uint32Array(16) as unknown as Uint16Array, offsets, arena), TypeError);
    assert.throws(() => addon.answerText('k', new Uint16Array(0), offsets, arena), TypeError);
    assert.throws(() => addon.answerText('k', tails, new Uint32Array(0), arena), TypeError);
  });

  test('the addon refuses bad runs: wrong arrays throw, answers outside a run or past the buffer are handed back', () => {
    const addon = nativeAnswers!;
    assert.equal(addon.answer('k', 0), -1, 'no run begun');
    const tails = new Uint16Array(16).fill(1);
    const offsets = Uint32Array.from([0, 4]);
    const arena = Buffer.from('TAIL');
    assert.throws(() => addon.answersBegin(new Uint16Array(8) as unknown as Uint8Array, tails, offsets, arena, 0), TypeError);
    assert.throws(() => addon.answersBegin(Buffer.alloc(8), new Uint16Array(0), offsets, arena, 0), TypeError);
    assert.throws(() => addon.answersBegin(Buffer.alloc(8), tails, new Uint32Array(0), arena, 0), TypeError);
    assert.throws(() => addon.answersBegin(Buffer.alloc(8), tails, offsets, arena, -1), TypeError);

    // Room for one answer of key "k" as the writer counts it before writing (a separator and 10 digits
    // whatever the shard), {"key":"k","shard":N + TAIL, and not for two. Bytes after the view stay untouched.
    const backing = Buffer.alloc(64, 0x7e);
    const oneAnswer = 1 + '{"key":"k","shard":'.length + 10 + 'TAIL'.length;
    const out = backing.subarray(0, oneAnswer);
    addon.answersBegin(out, tails, offsets, arena, 0);
    try {
      const end = addon.answer('k', 0);
      assert.ok(end > 0 && end <= oneAnswer, String(end));
      assert.match(out.subarray(0, end).toString(), /^\{"key":"k","shard":\d{1,2}TAIL$/);
      assert.equal(addon.answer('k', end), -1, 'no room for a second answer');
      assert.equal(addon.answer('k', 1000), -1, 'a position past the buffer');
      assert.equal(addon.answer(42 as unknown as string, 0), -1, 'not a string');
    } finally {
      addon.answersEnd();
    }
    assert.ok(backing.subarray(oneAnswer).every((b) => b === 0x7e), 'nothing written past the view');
    assert.equal(addon.answer('k', 0), -1, 'run ended');

    // A tail id past the offsets, or offsets past the arena: handed back, never read out of bounds.
    addon.answersBegin(Buffer.alloc(256), new Uint16Array(16).fill(9), offsets, arena, 0);
    assert.equal(addon.answer('k', 0), -1);
    addon.answersBegin(Buffer.alloc(256), tails, Uint32Array.from([0, 400]), arena, 0);
    assert.equal(addon.answer('k', 0), -1);
    addon.answersEnd();
  });
});
