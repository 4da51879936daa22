// The bin's code-cache loader (src/cli/code-cache.ts) on a small CommonJS bundle: whatever the cache
// file holds (nothing, a cache that fits, garbage, a damaged payload, one made under other V8 flags),
// the bundle runs, the state says what happened, and save() writes a cache the next start accepts.
// Each start is a fresh process: the loader sets a V8 flag and a global, as the bin does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const LOADER = fileURLToPath(new URL('../../src/cli/code-cache.ts', import.meta.url));

/** A bundle as esbuild writes one: a hashbang, CommonJS, node's require, and enough functions to cache. */
const BUNDLE = `#!/usr/bin/env node
"use strict";
const path = require('node:path');
function fib(n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }
const helpers = Array.from({ length: 50 }, (_, i) => (x) => x * i + fib(10));
globalThis.bundleRan = { fib: fib(15), helpers: helpers.reduce((s, f) => s + f(1), 0), base: path.basename(__filename), dir: __dirname };
module.exports = { ran: true };
`;

interface StartResult {
  state: string;
  save: string;
  ran: { fib: number; helpers: number; base: string; dir: string };
}

function start(dir: string, nodeArgs: string[] = [], cacheFile = join(dir, 'main.cjs.cache')): StartResult {
  // tsx, which runs this probe, turns source maps on; the bin's process has them on only if asked.
  const probe = `
process.setSourceMapsEnabled(${String(nodeArgs.includes('--enable-source-maps'))});
import { runBundle } from ${JSON.stringify(LOADER)};
const cache = runBundle(${JSON.stringify(join(dir, 'main.cjs'))}, { useCache: true, cacheFile: ${JSON.stringify(cacheFile)} });
console.log(JSON.stringify({ state: cache.state, save: cache.save(), ran: globalThis.bundleRan }));
`;
  const res = spawnSync(process.execPath, [...nodeArgs, '--import', 'tsx', '--input-type=module', '-e', probe], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  assert.equal(res.status, 0, res.stderr);
  return JSON.parse(res.stdout.trim().split('\n').pop() ?? '{}') as StartResult;
}

function bundleDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'swimring-code-cache-'));
  writeFileSync(join(dir, 'main.cjs'), BUNDLE);
  return dir;
}

function assertRan(dir: string, r: StartResult): void {
  assert.deepEqual(r.ran, { fib: 610, helpers: 50 * 55 + 1225, base: 'main.cjs', dir });
}

test('no cache: the bundle runs, save() writes one, and the next start accepts it and keeps it', (t) => {
  const dir = bundleDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const first = start(dir);
  assertRan(dir, first);
  assert.equal(first.state, 'absent');
  assert.equal(first.save, 'written');
  assert.ok(existsSync(join(dir, 'main.cjs.cache')));
  const second = start(dir);
  assertRan(dir, second);
  assert.equal(second.state, 'accepted');
  assert.equal(second.save, 'kept');
});

test('a cache that is garbage, damaged inside, or made under other V8 flags is rejected; the bundle runs and save() replaces it', (t) => {
  const dir = bundleDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const cacheFile = join(dir, 'main.cjs.cache');
  assert.equal(start(dir).save, 'written');
  const good = readFileSync(cacheFile);

  writeFileSync(cacheFile, Buffer.from('not a V8 code cache at all'));
  const garbage = start(dir);
  assertRan(dir, garbage);
  assert.equal(garbage.state, 'rejected');
  assert.equal(garbage.save, 'written');
  assert.equal(start(dir).state, 'accepted');

  // Same length and header, bytes flipped in the payload: only V8's checksum, which the loader turns on, sees it.
  const damaged = Buffer.from(good);
  for (let i = damaged.length >> 1; i < damaged.length; i += 97) damaged[i] = (damaged[i] ?? 0) ^ 0x5a;
  writeFileSync(cacheFile, damaged);
  const flipped = start(dir);
  assertRan(dir, flipped);
  assert.equal(flipped.state, 'rejected');

  // A cache another configuration made (standing in for another V8): V8 records its flags.
  rmSync(cacheFile);
  assert.equal(start(dir, ['--no-lazy-feedback-allocation']).save, 'written');
  const otherFlags = start(dir);
  assertRan(dir, otherFlags);
  assert.equal(otherFlags.state, 'rejected');
});

test('where the cache cannot be written, the bundle still runs and save() says why', (t) => {
  const dir = bundleDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // A directory that is not there fails the write as a read-only one does (this test may run as root).
  const r = start(dir, [], join(dir, 'not-there', 'main.cjs.cache'));
  assertRan(dir, r);
  assert.equal(r.state, 'absent');
  assert.match(r.save, /^failed: .*ENOENT/);
  assert.ok(!existsSync(join(dir, 'not-there')));
});

test('with source maps asked for, node loads the bundle itself (it maps stacks only for what it loads): no cache', (t) => {
  const dir = bundleDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const r = start(dir, ['--enable-source-maps']);
  assertRan(dir, r);
  assert.equal(r.state, 'off');
  assert.equal(r.save, 'kept');
  assert.ok(!existsSync(join(dir, 'main.cjs.cache')));
});
