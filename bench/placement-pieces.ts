// Instruction counts of the pieces of one WebAssembly lookup, under callgrind (see
// bench/placement-instructions.ts for the method: a run with REPS=0 and a run with one piece repeated;
// the difference of the totals over reps x 50,000 is that piece's instructions per key). The pieces, in
// REPS order:
//
//   0 whole      wasmShard(key, 2^18): the key copy, the call, XXH64 and jump (what tables run)
//   1 copy       writeKey alone (a charCodeAt loop for short ASCII keys, else TextEncoder.encodeInto)
//   2 module     the module's shard() on key bytes already in its memory: call + XXH64 + jump at 2^18
//   3 hash       the same at 1 bucket: call + XXH64, jump's first round only
//   4 encodeInto TextEncoder.encodeInto into the module's memory alone, whatever the key's length
//
//   npx esbuild bench/placement-pieces.ts --bundle --platform=node --format=esm --outfile=node_modules/.cache/pp.mjs
//   REPS=0 valgrind --tool=callgrind --smc-check=all-non-file --callgrind-out-file=/dev/null node --single-threaded node_modules/.cache/pp.mjs
//   REPS=0,0,20 valgrind ... (same)      # the module piece: (total - first total) / (20 x 50,000)
//
// KEY_BYTES=64 for 64-byte keys (16 by default). Without the module (it did not load) the script says so
// and exits 1, as the pieces would not be the wasm path's.
import { keyAddress, wasm, wasmAlloc, wasmShard, writeKey } from '../src/placement/wasm.js';
import * as placementWasm from '../src/placement/wasm.js';

const module = wasm;
const shard = wasmShard;
if (module === null || shard === null) {
  process.stderr.write('placement-pieces: the wasm module did not load (run from two folders below the repository)\n');
  process.exit(1);
}
const N = 50_000;
const BUCKETS = 262_144;
const KEY_BYTES = Number(process.env['KEY_BYTES'] ?? '16');
const keys = JSON.parse(JSON.stringify(Array.from({ length: N }, (_, i) => `key:${i.toString(36)}:`.padEnd(KEY_BYTES, 'q')))) as string[];

// Every key's bytes side by side in the module's memory, for the pieces that skip the copy.
const region = wasmAlloc(module, N * KEY_BYTES);
const encoder = new TextEncoder();
keys.forEach((key, i) => encoder.encodeInto(key, placementWasm.heap.subarray(region + i * KEY_BYTES, region + (i + 1) * KEY_BYTES)));
writeKey(module, 'x'.repeat(KEY_BYTES)); // places the key buffer before the view below is taken
const keyView = placementWasm.heap.subarray(keyAddress(), keyAddress() + KEY_BYTES * 3);

function whole(): number {
  let acc = 0;
  for (let i = 0; i < N; i++) acc = (acc + shard!(keys[i]!, BUCKETS)) | 0;
  return acc;
}

function copy(): number {
  let acc = 0;
  for (let i = 0; i < N; i++) acc = (acc + writeKey(module!, keys[i]!)) | 0;
  return acc;
}

function inModule(buckets: number): number {
  let acc = 0;
  const m = module!;
  for (let i = 0; i < N; i++) acc = (acc + m.shard(region + i * KEY_BYTES, KEY_BYTES, buckets)) | 0;
  return acc;
}

function encodeInto(): number {
  let acc = 0;
  for (let i = 0; i < N; i++) acc = (acc + encoder.encodeInto(keys[i]!, keyView).written) | 0;
  return acc;
}

const runs = [whole, copy, (): number => inModule(BUCKETS), (): number => inModule(1), encodeInto];
let acc = 0;
for (let w = 0; w < 6; w++) for (const run of runs) acc ^= run(); // warm up: optimized code
const reps = (process.env['REPS'] ?? '0').split(',').map(Number);
runs.forEach((run, i) => {
  for (let r = 0; r < (reps[i] ?? 0); r++) acc ^= run();
});
if (acc === 0x5eed) process.stdout.write('\n'); // keeps the result observable
