// The answer writer RouteIndex uses (the WebAssembly module's, wasm/answers.ts via
// src/runtime/wasm-answers.ts; RouteIndex.writeAnswerRun for batches and RouteIndex.answerText for single
// answers) writes the same bytes as the JS writer, in both layouts, whatever the keys: it takes the plain
// ones and hands back escapes, keys past its bound, tails not cached yet and a full buffer, which the
// serializers write in JS. The module ships in the package and must be here.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { buildTable } from '../../src/placement/index.js';
import { MAX_CACHED_TAILS, RouteIndex } from '../../src/runtime/route-index.js';
import { wasmAnswerWriter, type AnswerWriter } from '../../src/runtime/answer-writer.js';
import type { RouteEncoder } from '../../src/runtime/view.js';
import { serializeEncodedBatch, serializeRouteAnswer } from '../../src/http/serialize.js';
import { serializeCompactEncodedBatch } from '../../src/http/serialize-compact.js';
import type { BatchBufferSource } from '../../src/http/json-bytes.js';
import { recordsOf } from './route-fixtures.js';

/** The same encoder without its writer: every answer written by the serializers' JS loop. */
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
/** Keys a writer must hand back: escapes, Latin-1 (one-byte in V8, two bytes in UTF-8), emoji; and long ones. */
const otherKey = fc.oneof(
  fc.string({ unit: fc.constantFrom('a', '"', '\\', '\n', '\u007f', 'é', 'ÿ', '😀', '\ud800'), minLength: 1, maxLength: 12 }),
  fc.constantFrom('x'.repeat(257), 'y'.repeat(256), 'é'.repeat(300)),
);
const keysArb = fc.array(fc.oneof({ weight: 4, arbitrary: plainKey }, { weight: 1, arbitrary: otherKey }), { minLength: 1, maxLength: 60 });
const isPlain = (k: string): boolean => /^[\x20-\x7e]*$/.test(k) && !/["\\]/.test(k);

const writers: { name: string; writer: AnswerWriter | null; maxUnits: number }[] = [
  { name: 'wasm', writer: wasmAnswerWriter, maxUnits: 4096 },
];

test('the wasm writer is there (the module ships in the package)', () => {
  if (process.env['SWIMRING_WASM'] === '0') return;
  assert.notEqual(wasmAnswerWriter, null);
});

for (const { name, writer: maybeWriter, maxUnits } of writers) {
  describe(`${name} answers`, () => {
    if (maybeWriter === null) return;
    const writer = maybeWriter;
    const index = (names: readonly string[], shards: number, replicas: number, w: AnswerWriter | null = writer): RouteIndex =>
      new RouteIndex(buildTable(names, { shards, replicas }), recordsOf(names), w);

    test('the same bytes as the JS writer, both layouts, on a fresh index and on a warm one', () => {
      const names = ['a', 'b', 'c', 'd"quoted', 'é-member'];
      fc.assert(
        fc.property(keysArb, (keys) => {
          const ix = index(names, 4096, 2);
          const fresh = bothLayouts(ix, keys); // every combination seen for the first time is encoded in JS
          const warm = bothLayouts(ix, keys);
          const expected = bothLayouts(jsOnly(index(names, 4096, 2, null)), keys);
          assert.deepEqual(fresh, expected);
          assert.deepEqual(warm, expected);
          JSON.parse(warm[0]);
          JSON.parse(warm[1]);
        }),
        { numRuns: 300 },
      );
    });

    test('on a warm index it writes every plain key itself, and stops at the first key it must hand back', () => {
      const ix = index(['a', 'b', 'c'], 4096, 1);
      const keys = Array.from({ length: 2000 }, (_, i) => `key-${i}`);
      bothLayouts(ix, keys); // caches every tail these keys meet
      for (const layout of ['full', 'compact'] as const) {
        const out = Buffer.alloc(1 << 20);
        assert.equal(ix.writeAnswerRun(layout, keys, 0, out, 0), keys.length);
        const text = `[${out.subarray(0, ix.runEnd).toString()}]`;
        assert.deepEqual(
          (JSON.parse(text) as { key: string }[]).map((a) => a.key),
          keys,
        );
        const mixed = ['plain-1', 'plain-2', 'needs "escape"', 'plain-3'];
        bothLayouts(ix, mixed);
        assert.equal(ix.writeAnswerRun(layout, mixed, 0, out, 0), 2);
        assert.equal(ix.writeAnswerRun(layout, mixed, 3, out, ix.runEnd), 4);
      }
    });

    test('a buffer that runs short mid-batch: it hands the key back, the serializer grows the buffer', () => {
      const ix = index(['a', 'b', 'c', 'd'], 1024, 2);
      // The first key sizes the buffer for all; the long ones after it overflow it.
      const keys = ['k', ...Array.from({ length: 300 }, (_, i) => `${'long-key-'.repeat(20)}${i}`)];
      bothLayouts(ix, keys);
      const grown: number[] = [];
      const buffers: BatchBufferSource = { acquire: (n) => (grown.push(n), Buffer.allocUnsafe(n)), release: () => {} };
      const written = bothLayouts(ix, keys, buffers);
      assert.ok(grown.length > 2, `the buffer should have grown (acquired ${grown.join(', ')})`);
      assert.deepEqual(written, bothLayouts(jsOnly(ix), keys));
    });

    test('more combinations than the cache holds: the uncached ones are written in JS, the bytes are the same', () => {
      const names = Array.from({ length: 60 }, (_, i) => `m${i}`);
      const ix = index(names, 32_768, 3);
      const keys = Array.from({ length: 10_000 }, (_, i) => `key-${i}`);
      for (let part = 0; part < 4; part++) bothLayouts(ix, Array.from({ length: 10_000 }, (_, i) => `warm-${part}-${i}`));
      assert.deepEqual(bothLayouts(ix, keys), bothLayouts(jsOnly(index(names, 32_768, 3, null)), keys));
      assert.ok(MAX_CACHED_TAILS < 40_000);
    });

    test('single answers: the same text as the JS serializer, written by the writer for plain keys once their tail is cached', () => {
      const names = ['a', 'b', 'c', 'd"quoted', 'é-member'];
      let written = 0;
      const counting: AnswerWriter = {
        ...writer,
        answerText(store, key) {
          const text = writer.answerText(store, key);
          if (text !== undefined) written++;
          return text;
        },
      };
      fc.assert(
        fc.property(keysArb, (keys) => {
          const ix = index(names, 4096, 2, counting);
          const reference = index(names, 4096, 2, null);
          const expected = keys.map((k) => serializeRouteAnswer(reference.route(k)));
          assert.deepEqual(keys.map((k) => ix.answerText(k)), expected, 'fresh index');
          written = 0;
          assert.deepEqual(keys.map((k) => ix.answerText(k)), expected, 'warm index');
          const plain = keys.filter((k) => k.length <= maxUnits && isPlain(k));
          assert.equal(written, plain.length, 'every plain key of a warm index is written by the writer');
        }),
        { numRuns: 200 },
      );
    });
  });
}
