#!/usr/bin/env node
// Compiles the placement fast path (wasm/swimring.ts, AssemblyScript) into wasm/swimring.wasm, which is
// checked in and shipped in the package: users need no compiler, and the same bytes run on every Node
// version and CPU. The build is deterministic, so CI can check the checked-in file is this source's build.
//
//   node scripts/build-wasm.mjs           rebuild wasm/swimring.wasm (npm run wasm)
//   node scripts/build-wasm.mjs --check   build into a temp dir; exit 1 if wasm/swimring.wasm differs
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const SOURCE = join(ROOT, 'wasm', 'swimring.ts');
const TARGET = join(ROOT, 'wasm', 'swimring.wasm');
const ASC = join(dirname(createRequire(import.meta.url).resolve('assemblyscript/package.json')), 'bin', 'asc.js');
// minimal runtime: TLSF allocation for the JS side's buffers (alloc/release), no garbage collector.
const FLAGS = ['-O3', '--noAssert', '--runtime', 'minimal'];

function build(out) {
  const res = spawnSync(process.execPath, [ASC, SOURCE, ...FLAGS, '-o', out], { cwd: ROOT, encoding: 'utf8' });
  if (res.status !== 0) {
    process.stderr.write(`build-wasm: asc failed (${res.status ?? res.signal}):\n${res.stdout}${res.stderr}`);
    process.exit(1);
  }
}

if (process.argv.includes('--check')) {
  const dir = mkdtempSync(join(tmpdir(), 'swimring-wasm-'));
  try {
    const fresh = join(dir, 'swimring.wasm');
    build(fresh);
    let current = null;
    try {
      current = readFileSync(TARGET);
    } catch {
      // missing: reported below
    }
    if (current === null || !readFileSync(fresh).equals(current)) {
      process.stderr.write('build-wasm: wasm/swimring.wasm is not the build of wasm/*.ts; run `npm run wasm` and commit it\n');
      process.exit(1);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
} else {
  build(TARGET);
}
