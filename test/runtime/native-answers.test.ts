// The addon's answer writer API (src/placement/native/answers.cc): what it refuses and hands back.
// Its answers through RouteIndex, byte for byte against the JS writer: test/runtime/answer-writers.test.ts.
// test/placement/native.test.ts fails when the addon should have been built and was not; here the tests
// need it.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { nativeAnswers, nativeLookup } from '../../src/placement/native.js';

const nativeShard = (key: string, buckets: number): number => nativeLookup!.shard(key, buckets);

describe('native answers', () => {
  // Without the addon there is nothing to compare; test/placement/native.test.ts fails if it should be there.
  if (nativeAnswers === null) return;
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
