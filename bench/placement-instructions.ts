// Instruction counts per lookup under callgrind, which are free of the noise that other jobs put on
// wall-clock and CPU-time numbers on a shared machine. Run the script under valgrind with REPS=0,0 and
// REPS=4,0 (swimring) or REPS=0,4 (the FNV-1a + jump baseline); the difference of the two totals over
// 4 x 50,000 is the instructions per lookup (hash + jump + table read, 2^18 shards; KEY_BYTES=64 for
// 64-byte keys, 16 by default):
//
//   npx esbuild bench/placement-instructions.ts --bundle --platform=node --format=esm --outfile=node_modules/.cache/pi.mjs
//   REPS=0,0 valgrind --tool=callgrind --smc-check=all-non-file --callgrind-out-file=/dev/null node --single-threaded node_modules/.cache/pi.mjs
//   REPS=4,0 valgrind ... (same)      # then (total - first total) / 200,000
//
// Bundled, because tsx's module interop adds getter calls; --single-threaded, so V8 optimizes at the
// same point in every run and the two totals differ only by the extra passes. The bundle goes two folders
// below the repository, as src/placement/wasm.ts finds wasm/swimring.wasm from there (elsewhere the
// lookup would take the JS path), and outside dist/, which the package ships.
import { buildTable, DEFAULT_REPLICAS, DEFAULT_SHARDS } from '../src/placement/index.js';
import { jumpUnchecked } from '../src/placement/jump.js';

const N = 50_000;
const members = Array.from({ length: 50 }, (_, i) => `pod-${i}`);
// 64 vnodes: the build is cheaper under valgrind and lookups do not depend on it.
const table = buildTable(members, { shards: DEFAULT_SHARDS, replicas: DEFAULT_REPLICAS, vnodes: 64 });
const owners = Array.from({ length: table.shards }, (_, s) => table.ownerOf(s));
// Distinct ASCII keys of KEY_BYTES bytes, flat strings.
const KEY_BYTES = Number(process.env['KEY_BYTES'] ?? '16');
const keys = JSON.parse(JSON.stringify(Array.from({ length: N }, (_, i) => `key:${i.toString(36)}:`.padEnd(KEY_BYTES, 'q')))) as string[];

function swimring(): number {
  let acc = 0;
  for (let i = 0; i < N; i++) {
    const s = table.shardOf(keys[i]!);
    acc = (acc + s + (table.ownerOf(s) === null ? 1 : 0)) | 0;
  }
  return acc;
}

function fnvJump(): number {
  let acc = 0;
  for (let i = 0; i < N; i++) {
    const key = keys[i]!;
    let h = 0x811c9dc5 | 0;
    for (let c = 0; c < key.length; c++) h = Math.imul(h ^ key.charCodeAt(c), 0x01000193);
    const shard = jumpUnchecked(0, h, table.shards);
    acc = (acc + shard + (owners[shard] === null ? 1 : 0)) | 0;
  }
  return acc;
}

const reps = (process.env['REPS'] ?? '0,0').split(',').map(Number);
const runs = [swimring, fnvJump];
let acc = 0;
for (let w = 0; w < 6; w++) for (const run of runs) acc ^= run(); // warm up: optimized code
runs.forEach((run, i) => {
  for (let r = 0; r < (reps[i] ?? 0); r++) acc ^= run();
});
if (acc === 0x5eed) process.stdout.write('\n'); // keeps the result observable
