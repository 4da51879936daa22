// The checked-in, shipped wasm/swimring.wasm is the build of wasm/*.ts (npm run wasm:check, as CI runs it),
// and it is the file the agent loads.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { wasmStatus } from '../../src/placement/wasm.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

test('npm run wasm:check passes: wasm/swimring.wasm is the build of wasm/*.ts', () => {
  const res = spawnSync('npm', ['run', '--silent', 'wasm:check'], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  assert.equal(res.status, 0, `wasm:check failed:\n${res.stderr}${res.stdout}`);
});

test('the loader loads that file', () => {
  if (process.env['SWIMRING_WASM'] === '0') return;
  assert.ok(wasmStatus.loaded, JSON.stringify(wasmStatus));
  assert.equal(wasmStatus.path, fileURLToPath(new URL('../../wasm/swimring.wasm', import.meta.url)));
});
