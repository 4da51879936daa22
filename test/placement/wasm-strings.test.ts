// Lookups by string reference (src/placement/wasm-strings.ts: the engine writes the key's UTF-16 units into
// the module's memory, wasm/utf16.ts makes them UTF-8) give the reference shard for any key. The path needs
// --experimental-wasm-stringref, so the check runs in a child process started with it; this process,
// started without it, must keep copying keys.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { wasmStatus, wasmTakesStrings } from '../../src/placement/wasm.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

// Counts the keys whose shard by string reference differs from the BigInt reference's; prints JSON.
const PROBE = `
import fc from 'fast-check';
import { wasmShard, wasmTakesStrings } from './src/placement/wasm.ts';
import { xxh64 } from './src/placement/xxh64-reference.ts';
import { jumpUnchecked } from './src/placement/jump.ts';
const encoder = new TextEncoder();
const reference = (key, n) => { const h = xxh64(encoder.encode(key)); return jumpUnchecked(Number(h >> 32n), Number(h & 0xffffffffn), n); };
const rawUtf16 = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 400 });
const surrogates = fc.string({ unit: fc.constantFrom('\\ud800', '\\udbff', '\\udc00', '\\udfff', '\\ud83d\\ude00', 'a', '\\u00e9', '\\u20ac'), maxLength: 40 });
const anyKey = fc.oneof(rawUtf16, surrogates, fc.string({ unit: 'grapheme', maxLength: 60 }), fc.string({ maxLength: 100 }), fc.string({ unit: 'binary', maxLength: 3000 }));
const keys = fc.sample(fc.tuple(anyKey, fc.integer({ min: 1, max: 0x7fffffff })), 20000);
keys.push(['', 7], ['\\ud800', 9], ['x\\ud83d', 9], ['\\ude00x', 9], ['k'.repeat(100000), 262144], ['\\u00e9'.repeat(5000), 1000]);
let differ = 0;
for (const [key, n] of keys) if (wasmShard(key, n) !== reference(key, n)) differ++;
process.stdout.write(JSON.stringify({ takesStrings: wasmTakesStrings, checked: keys.length, differ }));
`;

test('without --experimental-wasm-stringref keys are copied from JS (the module has no string references)', () => {
  if (!wasmStatus.loaded || process.execArgv.includes('--experimental-wasm-stringref')) return;
  assert.equal(wasmTakesStrings, false);
});

test('with --experimental-wasm-stringref lookups take keys by reference and give the reference shard for any key', () => {
  if (process.env['SWIMRING_WASM'] === '0') return;
  const res = spawnSync(process.execPath, ['--experimental-wasm-stringref', '--import', 'tsx', '--input-type=module', '-e', PROBE], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  assert.equal(res.status, 0, res.stderr);
  const out = JSON.parse(res.stdout) as { takesStrings: boolean; checked: number; differ: number };
  assert.equal(out.takesStrings, true);
  assert.ok(out.checked > 20_000, `${out.checked} keys checked`);
  assert.equal(out.differ, 0);
});
