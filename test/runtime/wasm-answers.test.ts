// The WebAssembly answer writer's own edges (src/runtime/wasm-answers.ts, wasm/answers.ts): tail caches in
// the module's memory stay right when that memory grows, and what it cannot write it hands back without
// writing outside its room. Its answers through RouteIndex: test/runtime/answer-writers.test.ts.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as tick } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { buildTable } from '../../src/placement/index.js';
import { memoryGeneration, wasm, wasmShard } from '../../src/placement/wasm.js';
import { wasmAnswerWriter } from '../../src/runtime/answer-writer.js';
import { RouteIndex } from '../../src/runtime/route-index.js';
import { WasmTailStore } from '../../src/runtime/tail-store.js';
import { wasmAnswerRun, wasmAnswerText } from '../../src/runtime/wasm-answers.js';
import { serializeEncodedBatch } from '../../src/http/serialize.js';
import { serializeCompactEncodedBatch } from '../../src/http/serialize-compact.js';
import { recordsOf } from './route-fixtures.js';

describe('wasm answers', () => {
  const module = wasm;
  const writer = wasmAnswerWriter;
  if (module === null || writer === null) return; // test/runtime/answer-writers.test.ts fails when it should be here

  test('an index keeps answering the same bytes after the module memory grows under it', () => {
    const names = ['a', 'b', 'c'];
    const table = buildTable(names, { shards: 4096, replicas: 2 });
    const index = new RouteIndex(table, recordsOf(names), writer);
    const reference = new RouteIndex(table, recordsOf(names), null);
    const keys = Array.from({ length: 3000 }, (_, i) => `key-${i}`);
    const answers = (ix: RouteIndex): string[] => [
      serializeEncodedBatch(ix, keys).body.toString(),
      serializeCompactEncodedBatch(ix, keys).body.toString(),
      ...keys.slice(0, 50).map((k) => ix.answerText(k)),
    ];
    const before = answers(index);
    assert.deepEqual(before, answers(reference));
    const generation = memoryGeneration;
    // Other indexes' tail caches, enough to make the module grow its memory (2 MB of tail ids each).
    const others = Array.from({ length: 8 }, () => new WasmTailStore(module, 1 << 20, {}));
    assert.ok(memoryGeneration > generation, 'the memory grew');
    assert.deepEqual(answers(index), before);
    assert.equal(others.length, 8);
  });

  test('the tail caches of collected indexes are released: the module memory does not grow with each new index', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const names = ['a', 'b', 'c'];
    const table = buildTable(names, { shards: 1 << 20, replicas: 1 }); // 2 MB of tail ids per index
    const records = recordsOf(names);
    const expected = new RouteIndex(table, records, null).answerText('k');
    const cycle = async (): Promise<void> => {
      // As the agent does on every view change: a new index answers, the old one is dropped.
      assert.equal(new RouteIndex(table, records, writer).answerText('k'), expected);
      gc();
      await tick(); // finalizers run after the collection, as tasks
    };
    for (let i = 0; i < 5; i++) await cycle(); // the memory reaches its working size
    const before = module.memory.buffer.byteLength;
    const indexes = 40;
    for (let i = 0; i < indexes; i++) await cycle();
    const grewMb = (module.memory.buffer.byteLength - before) / 2 ** 20;
    assert.ok(grewMb < 16, `the module memory grew by ${grewMb} MB while ${indexes} indexes of 2 MB each came and went`);
  });

  test('hands back what it cannot write: a tail not cached, ids past the offsets, no room; writes nothing past its room', () => {
    const store = new WasmTailStore(module, 16, {});
    const text = (key: string): string | undefined => wasmAnswerText(module, store, key);
    assert.equal(text('k'), undefined, 'no tail cached');
    store.append(1, Buffer.from('TAIL'), Buffer.from('T'));
    store.ids().fill(1);
    const shard = wasmShard!('k', 16);
    assert.equal(text('k'), `{"key":"k","shard":${shard}TAIL`);
    for (const key of ['needs "escape"', 'back\\slash', 'é', '\u007f', '😀', '\n']) assert.equal(text(key), undefined, JSON.stringify(key));
    // Longer keys take another copy (encodeInto): the same answers, the same keys handed back.
    const long = 'long-key-'.repeat(8);
    assert.equal(text(long), `{"key":"${long}","shard":${wasmShard!(long, 16)}TAIL`);
    for (const key of [`${long}"`, `${long}\\`, `${long}é`, `é${long}`, `${long}\u007f`, `${long}😀`, `${long}\ud800`, 'x'.repeat(20_000)]) {
      assert.equal(text(key), undefined, JSON.stringify(key.slice(-3)));
    }
    store.ids().fill(2); // a tail id past the offsets
    assert.equal(text('k'), undefined);
    store.ids().fill(1);

    const backing = Buffer.alloc(64, 0x7e);
    const oneAnswer = `{"key":"k","shard":${shard}TAIL`.length;
    // Room for one answer, and for a second as written but not as the writer counts it before writing
    // (a separator, the key, then ","shard": and 10 digits whatever the shard).
    const out = backing.subarray(0, oneAnswer + 1 + '{"key":"k'.length + 20 - 1);
    const end = { at: -1 };
    assert.equal(wasmAnswerRun(module, store, 'full', ['k', 'k'], 0, out, 0, end), 1);
    assert.equal(out.subarray(0, end.at).toString(), `{"key":"k","shard":${shard}TAIL`);
    assert.ok(backing.subarray(out.length).every((b) => b === 0x7e), 'nothing written past the view');
    assert.equal(wasmAnswerRun(module, store, 'full', ['k'], 0, Buffer.alloc(8), 0, end), 0, 'no room at all');
    assert.equal(wasmAnswerRun(module, store, 'compact', ['k', 'k', 'x"'], 0, Buffer.alloc(256), 0, end), 2, 'stops at the key to escape');
    const compact = Buffer.alloc(256);
    assert.equal(wasmAnswerRun(module, store, 'compact', ['k', 'k'], 1, compact, 0, end), 2);
    assert.equal(compact.subarray(0, end.at).toString(), `,{"key":"k","shard":${shard}T`, 'a separator before every answer but the batch\'s first');
  });

  test('a batch: every ASCII character at every place of a key (in an 8-byte word or after the last) is written iff plain', () => {
    const store = new WasmTailStore(module, 16, {});
    store.append(1, Buffer.from('TAIL'), Buffer.from('T'));
    store.ids().fill(1);
    const shardOf = (key: string): number => wasmShard!(key, 16);
    const out = Buffer.alloc(1 << 16);
    const end = { at: -1 };
    let checked = 0;
    for (let c = 0; c < 0x80; c++) {
      const plain = c >= 0x20 && c <= 0x7e && c !== 0x22 && c !== 0x5c;
      for (const length of [1, 7, 8, 9, 16, 19]) {
        for (let at = 0; at < length; at++) {
          const key = 'k'.repeat(at) + String.fromCharCode(c) + 'k'.repeat(length - at - 1);
          // Plain keys before and after it in the same chunk: the run stops exactly at a key it must hand back.
          const keys = ['before', key, 'after'];
          const written = wasmAnswerRun(module, store, 'compact', keys, 0, out, 0, end);
          assert.equal(written, plain ? 3 : 1, `${JSON.stringify(key)}`);
          const expected = keys.slice(0, written).map((k) => `{"key":"${k}","shard":${shardOf(k)}T`).join(',');
          assert.equal(out.subarray(0, end.at).toString('latin1'), expected);
          checked++;
        }
      }
    }
    assert.equal(checked, 128 * (1 + 7 + 8 + 9 + 16 + 19));
  });

  test('a batch whose keys are not all ASCII: the run stops at the first that is not, the answers before it are right', () => {
    const store = new WasmTailStore(module, 16, {});
    store.append(1, Buffer.from('TAIL'), Buffer.from('T'));
    store.ids().fill(1);
    const shardOf = (key: string): number => wasmShard!(key, 16);
    const out = Buffer.alloc(4096);
    const end = { at: -1 };
    for (const other of ['é', 'ÿ', '€', '😀', '\ud800', 'abcdefgh\u0100', 'abcdefghé', 'Ā'.repeat(9)]) {
      const keys = ['one', 'two-plain', other, 'three'];
      assert.equal(wasmAnswerRun(module, store, 'full', keys, 0, out, 0, end), 2, JSON.stringify(other));
      assert.equal(out.subarray(0, end.at).toString(), keys.slice(0, 2).map((k) => `{"key":"${k}","shard":${shardOf(k)}TAIL`).join(','));
      assert.equal(wasmAnswerRun(module, store, 'full', keys, 3, out, 0, end), 4, 'and goes on after it');
      assert.equal(out.subarray(0, end.at).toString(), `,{"key":"three","shard":${shardOf('three')}TAIL`);
    }
  });
});
