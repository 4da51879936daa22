// The WebAssembly lookup (wasm/lookup.ts, shipped as wasm/swimring.wasm) gives the reference answers:
// XXH64 against the BigInt reference on random keys of any UTF-16 (lone surrogates hash as U+FFFD, as
// TextEncoder encodes them), jump against the paper's loop, the shared vectors and the placement vector
// file. The module ships in the package, so it must load here: a missing or broken build fails this test.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { hashKeyInto, hashOut } from '../../src/placement/key-hash.js';
import { jumpUnchecked, MAX_JUMP_BUCKETS } from '../../src/placement/jump.js';
import { xxh64 } from '../../src/placement/xxh64-reference.js';
import { buildTable } from '../../src/placement/index.js';
import { wasm, wasmLookup, wasmShard, wasmShardFor, wasmStatus } from '../../src/placement/wasm.js';
import { fastPath, fastPathDescription } from '../../src/placement/fast-path.js';
import { readSharedVectors } from './shared-vectors.js';

const rawUtf16 = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 400 });
const latin1 = fc.string({ unit: fc.integer({ min: 0, max: 0xff }).map((c) => String.fromCharCode(c)), maxLength: 80 });
const anyKey = fc.oneof(rawUtf16, latin1, fc.string({ unit: 'grapheme', maxLength: 60 }), fc.string({ maxLength: 100 }));
const buckets = fc.oneof(fc.integer({ min: 1, max: 1 << 20 }), fc.integer({ min: 1, max: MAX_JUMP_BUCKETS }));

const hex = (hi: number, lo: number): string => (hi >>> 0).toString(16).padStart(8, '0') + (lo >>> 0).toString(16).padStart(8, '0');
const encoder = new TextEncoder();

/** The oracle: BigInt XXH64 of TextEncoder's bytes, then the JS jump (itself checked against the vectors). */
function referenceShard(key: string, n: number): number {
  const h = xxh64(encoder.encode(key));
  return jumpUnchecked(Number(h >> 32n), Number(h & 0xffffffffn), n);
}

interface PlacementVectors {
  cases: { shards: number; routes: { key: string; xxh64: string; shard: number }[] }[];
}

describe('wasm lookup', () => {
  test('loads (it ships in the package), unless switched off', () => {
    if (process.env['SWIMRING_WASM'] === '0') {
      assert.equal(wasmStatus.loaded, false);
      return;
    }
    assert.equal(wasmStatus.loaded, true, JSON.stringify(wasmStatus));
    assert.equal(fastPath, 'wasm');
    assert.equal(fastPathDescription(), 'wasm');
  });

  const lookup = wasmLookup;
  if (lookup === null) return;

  test('matches every shared XXH64 and jump vector, and the placement vector file', () => {
    for (const v of readSharedVectors<{ key: string; xxh64: string }>('xxh64.json')) {
      const [hi, lo] = lookup.hash(v.key);
      assert.equal(hex(hi, lo), v.xxh64, JSON.stringify(v.key));
    }
    for (const v of readSharedVectors<{ key: string; buckets: number; bucket: number }>('jump-hash.json')) {
      const key = BigInt(v.key);
      const [hi, lo] = [Number(key >> 32n), Number(key & 0xffffffffn)];
      assert.equal(lookup.jump(hi, lo, v.buckets), v.bucket, `key ${v.key}, ${v.buckets} buckets`);
      assert.equal(lookup.jumpReference(hi, lo, v.buckets), v.bucket, `key ${v.key}, ${v.buckets} buckets (paper's loop)`);
    }
    const file = JSON.parse(readFileSync(new URL('../vectors/placement.json', import.meta.url), 'utf8')) as PlacementVectors;
    let routes = 0;
    for (const c of file.cases) {
      for (const r of c.routes) {
        const [hi, lo] = lookup.hash(r.key);
        assert.equal(hex(hi, lo), r.xxh64, JSON.stringify(r.key));
        assert.equal(wasmShard!(r.key, c.shards), r.shard, JSON.stringify(r.key));
        routes++;
      }
    }
    assert.ok(routes > 100, `${routes} routes checked`);
  });

  test('the jump loop it runs gives the paper\'s values for any 64-bit key and bucket count', () => {
    const word = fc.integer({ min: 0, max: 0xffffffff });
    fc.assert(
      fc.property(word, word, buckets, (hi, lo, n) => {
        assert.equal(lookup.jump(hi, lo, n), lookup.jumpReference(hi, lo, n));
        assert.equal(lookup.jump(hi, lo, n), jumpUnchecked(hi, lo, n));
      }),
      { numRuns: 50_000 },
    );
  });

  test('the jump loop gives the paper\'s values when a round\'s product is a whole number (a power-of-two divisor)', () => {
    // key' = key * M + 1 (mod 2^64), so the key before a wanted key' is (key' - 1) * M^-1.
    const M = 2862933555777941757n;
    const MOD = 1n << 64n;
    let inverse = 1n;
    for (let i = 0; i < 6; i++) inverse = (inverse * (2n - M * inverse)) % MOD; // Newton: 2^(2^6) bits
    inverse = (inverse + MOD) % MOD;
    assert.equal((M * inverse) % MOD, 1n);
    const before = (next: bigint): bigint => (((next - 1n) * inverse) % MOD + MOD) % MOD;
    let cases = 0;
    for (let k = 0; k <= 31; k++) {
      // (key' >> 33) + 1 = 2^k: the round's quotient is 2^(31 - k) and c * q an integer, in the first round
      // and (one key earlier) in the second.
      for (const low of [0n, 12345n, (1n << 33n) - 1n]) {
        const next = ((((1n << BigInt(k)) - 1n) << 33n) | low) % MOD;
        for (const key of [before(next), before(before(next))]) {
          const [hi, lo] = [Number(key >> 32n), Number(key & 0xffffffffn)];
          for (const n of [1, 2, 3, 1 << 10, 262_144, 1 << 20, MAX_JUMP_BUCKETS]) {
            const expected = jumpUnchecked(hi, lo, n);
            assert.equal(lookup.jumpReference(hi, lo, n), expected);
            assert.equal(lookup.jump(hi, lo, n), expected, `key ${key}, ${n} buckets`);
            assert.equal(wasm!.jump2(key, 5n, n), expected, `jump2, first key ${key}, ${n} buckets`);
            wasm!.jump2(5n, key, n);
            assert.equal(wasm!.jump2Second(), expected, `jump2, second key ${key}, ${n} buckets`);
            cases++;
          }
        }
      }
    }
    assert.equal(cases, 32 * 3 * 2 * 7);
  });

  test('jump2 (two keys side by side, as batch answers run it) gives each key\'s jump', () => {
    const module = wasm!;
    const word64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
    fc.assert(
      fc.property(word64, word64, buckets, (a, b, n) => {
        const first = module.jump2(a, b, n);
        const second = module.jump2Second();
        const half = (k: bigint): [number, number] => [Number(k >> 32n), Number(k & 0xffffffffn)];
        assert.equal(first, jumpUnchecked(...half(a), n));
        assert.equal(second, jumpUnchecked(...half(b), n));
      }),
      { numRuns: 20_000 },
    );
    // Either key may finish first, or both in the same round.
    assert.deepEqual([module.jump2(7n, 7n, 262_144), module.jump2Second()], [module.jump(7n, 262_144), module.jump(7n, 262_144)]);
  });

  test('XXH64 of any key\'s UTF-8 bytes equals the reference: ASCII, Latin-1, emoji, lone surrogates, long keys', () => {
    fc.assert(
      fc.property(anyKey, (key) => {
        const h = xxh64(encoder.encode(key));
        assert.equal(hex(...lookup.hash(key)), h.toString(16).padStart(16, '0'), JSON.stringify(key));
      }),
      { numRuns: 3000 },
    );
    for (const key of ['\ud800', 'a\udfffb', '\udbff\udfff', 'é'.repeat(24), 'x'.repeat(24) + '😀', '€'.repeat(5000)]) {
      assert.equal(hex(...lookup.hash(key)), xxh64(encoder.encode(key)).toString(16).padStart(16, '0'), JSON.stringify(key));
    }
  });

  test('shard, wasmShard and wasmShardFor: the reference shard for any key and bucket count; tables use it for every key', () => {
    fc.assert(
      fc.property(anyKey, buckets, (key, n) => {
        const expected = referenceShard(key, n);
        assert.equal(lookup.shard(key, n), expected);
        assert.equal(wasmShard!(key, n), expected);
        assert.equal(wasmShardFor(n)!(key), expected);
        hashKeyInto(key); // the JS path agrees too
        assert.equal(jumpUnchecked(hashOut[0]!, hashOut[1]!, n), expected);
      }),
      { numRuns: 3000 },
    );
    assert.equal(wasmShardFor(4096), wasmShardFor(4096));
    assert.notEqual(wasmShardFor(4096), wasmShardFor(4097));
    const table = buildTable(['a', 'b', 'c'], { shards: 4096, replicas: 1 });
    for (const key of ['cart-42', 'x'.repeat(300), '€'.repeat(2000), '\ud800']) assert.equal(table.shardOf(key), referenceShard(key, 4096));
  });

  test('short keys, copied four characters at a time while ASCII: every length, and a non-ASCII unit in every place', () => {
    let checked = 0;
    for (let length = 0; length <= 40; length++) {
      const ascii = Array.from({ length }, (_, i) => String.fromCharCode(33 + ((i * 7) % 90))).join('');
      assert.equal(wasmShard!(ascii, 262_144), referenceShard(ascii, 262_144), JSON.stringify(ascii));
      checked++;
      for (let at = 0; at < length; at++) {
        for (const unit of ['\u0080', '\u00e9', '\u20ac', '\ud800', '\udfff']) {
          const key = ascii.slice(0, at) + unit + ascii.slice(at + 1);
          assert.equal(wasmShard!(key, 262_144), referenceShard(key, 262_144), JSON.stringify(key));
          checked++;
        }
      }
    }
    assert.equal(checked, 41 + 5 * ((40 * 41) / 2));
  });

  test('refuses what it cannot answer, with an error instead of a wrong shard', () => {
    assert.throws(() => lookup.shard('k', 0), RangeError);
    assert.throws(() => lookup.shard('k', 2 ** 31), RangeError);
    assert.throws(() => lookup.shard('k', 1.5), RangeError);
    assert.throws(() => wasmShardFor(0), RangeError);
    assert.throws(() => (lookup.shard as (k: unknown, n: number) => number)(42, 8), TypeError);
    assert.throws(() => lookup.jump(-1, 0, 8), TypeError);
    assert.throws(() => lookup.jump(0, 2 ** 32, 8), TypeError);
  });
});
