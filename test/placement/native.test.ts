// The native lookup (src/placement/native/lookup.cc) gives the JS path's answers: the shared vectors, and
// any keys and bucket counts. The build compiles it whenever a C++ compiler is on the machine, so here it
// must have loaded if `c++` and Node's headers exist (CI's machine has both): a broken build fails this test instead of
// quietly falling back to the slower JS path.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { hashKeyInto, hashOut } from '../../src/placement/key-hash.js';
import { jumpUnchecked, MAX_JUMP_BUCKETS } from '../../src/placement/jump.js';
import { NATIVE_MAX_KEY_UNITS, nativeLookup, nativeShardFor, nativeStatus, type NativeLookup } from '../../src/placement/native.js';
import { buildTable } from '../../src/placement/index.js';
import { readSharedVectors } from './shared-vectors.js';

/** What scripts/build-native.mjs needs: a C++ compiler and Node's headers next to the node binary. */
function canBuild(): boolean {
  if (!existsSync(join(dirname(process.execPath), '..', 'include', 'node', 'node.h'))) return false;
  try {
    execFileSync(process.env['CXX'] || 'c++', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Any UTF-16 code units, lone surrogates included. */
const rawUtf16 = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: NATIVE_MAX_KEY_UNITS });
const buckets = fc.oneof(fc.integer({ min: 1, max: 1 << 20 }), fc.integer({ min: 1, max: MAX_JUMP_BUCKETS }));
/** The loop lookup-core.h should pick here: the fused one wherever the CPU has FMA (and SSE4.1 on x86-64). */
function expectedJumpLoop(): string {
  if (process.arch === 'arm64') return 'fused';
  if (process.arch !== 'x64') return 'reference';
  const flags = /^flags\s*:(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.split(/\s+/) ?? [];
  return flags.includes('fma') && flags.includes('sse4_1') ? 'fused' : 'reference';
}

const hex = (hi: number, lo: number): string => (hi >>> 0).toString(16).padStart(8, '0') + (lo >>> 0).toString(16).padStart(8, '0');

function jsShard(key: string, n: number): number {
  hashKeyInto(key);
  return jumpUnchecked(hashOut[0]!, hashOut[1]!, n);
}

describe('native lookup', () => {
  test('loaded when the machine has a C++ compiler and Node headers (npm run build compiles it)', () => {
    if (process.env['SWIMRING_NATIVE'] === '0' || process.env['SWIMRING_NATIVE_BUILD'] === '0') {
      assert.equal(nativeStatus.loaded, false, 'switched off by the environment');
      return;
    }
    assert.equal(nativeStatus.loaded, canBuild(), JSON.stringify(nativeStatus));
  });

  // The remaining tests need the addon; the test above fails when it should be there and is not.
  const addon: NativeLookup | null = nativeLookup;
  if (addon === null) return;

  test('matches every shared XXH64 and jump vector', () => {
    for (const v of readSharedVectors<{ key: string; xxh64: string }>('xxh64.json')) {
      if (v.key.length > NATIVE_MAX_KEY_UNITS) continue; // longer keys take the JS path (next test checks the bound)
      const [hi, lo] = addon.hash(v.key);
      assert.equal(hex(hi, lo), v.xxh64, JSON.stringify(v.key));
    }
    for (const v of readSharedVectors<{ key: string; buckets: number; bucket: number }>('jump-hash.json')) {
      const key = BigInt(v.key);
      assert.equal(addon.jump(Number(key >> 32n), Number(key & 0xffffffffn), v.buckets), v.bucket, `key ${v.key}, ${v.buckets} buckets`);
    }
  });

  test('the jump loop it runs gives the paper\'s values for any 64-bit key and bucket count', () => {
    assert.equal(addon.jumpLoop, expectedJumpLoop());
    for (const v of readSharedVectors<{ key: string; buckets: number; bucket: number }>('jump-hash.json')) {
      const key = BigInt(v.key);
      assert.equal(addon.jumpReference(Number(key >> 32n), Number(key & 0xffffffffn), v.buckets), v.bucket, `key ${v.key}, ${v.buckets} buckets`);
    }
    const word = fc.integer({ min: 0, max: 0xffffffff });
    fc.assert(
      fc.property(word, word, buckets, (hi, lo, n) => {
        assert.equal(addon.jump(hi, lo, n), addon.jumpReference(hi, lo, n));
      }),
      { numRuns: 50_000 },
    );
  });

  test('shardFor binds the bucket count: the same shards, one function per count, the same refusals', () => {
    fc.assert(
      fc.property(rawUtf16, buckets, (key, n) => {
        assert.equal(addon.shardFor(n)(key), addon.shard(key, n));
      }),
      { numRuns: 2000 },
    );
    assert.equal(nativeShardFor(4096), nativeShardFor(4096));
    assert.notEqual(nativeShardFor(4096), nativeShardFor(4097));
    const bound = addon.shardFor(8);
    assert.throws(() => bound('€'.repeat(400)), RangeError);
    assert.throws(() => (bound as (k: unknown) => number)(42), TypeError);
    assert.throws(() => addon.shardFor(0), RangeError);
    assert.throws(() => addon.shardFor(2 ** 31), RangeError);
    assert.throws(() => addon.shardFor(1.5), RangeError);
  });

  test('the same shard as the JS path for any key and bucket count', () => {
    fc.assert(
      fc.property(fc.oneof(rawUtf16, fc.string({ unit: 'grapheme', maxLength: 60 })), buckets, (key, n) => {
        assert.equal(addon.shard(key, n), jsShard(key, n));
      }),
      { numRuns: 3000 },
    );
  });

  test('keys up to the bound hash whole, even at 3 UTF-8 bytes per unit; tables answer longer ones in JS', () => {
    const widest = '€'.repeat(NATIVE_MAX_KEY_UNITS); // 768 UTF-8 bytes
    assert.equal(addon.shard(widest, 1 << 18), jsShard(widest, 1 << 18));
    const table = buildTable(['a', 'b', 'c'], { shards: 4096, replicas: 1 });
    for (const key of ['x'.repeat(NATIVE_MAX_KEY_UNITS + 1), '€'.repeat(2000)]) assert.equal(table.shardOf(key), jsShard(key, 4096));
  });

  test('refuses what it cannot answer, with an error instead of a wrong shard', () => {
    assert.throws(() => addon.shard('€'.repeat(400), 8), RangeError); // 1,200 bytes: more than its buffer
    assert.throws(() => addon.shard('k', 0), RangeError);
    assert.throws(() => addon.shard('k', 2 ** 31), RangeError);
    assert.throws(() => addon.shard('k', 1.5), RangeError);
    assert.throws(() => (addon.shard as (k: unknown, n: number) => number)(42, 8), TypeError);
  });
});
