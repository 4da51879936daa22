#!/usr/bin/env node
// Builds swimring-client into client/dist: its sources and the sidecar's placement code it routes with
// (tsc -p client/tsconfig.json), plus the sidecar's WebAssembly module where that code looks for it
// (dist/src/placement/wasm.js reads ../../wasm/swimring.wasm).
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const res = spawnSync(process.execPath, [tsc, '-p', 'client/tsconfig.json'], { cwd: root, stdio: 'inherit' });
if (res.status !== 0) process.exit(res.status ?? 1);
mkdirSync(new URL('../client/dist/wasm/', import.meta.url), { recursive: true });
copyFileSync(new URL('../wasm/swimring.wasm', import.meta.url), new URL('../client/dist/wasm/swimring.wasm', import.meta.url));
