// The swimring-client package as an app installs it: built by `npm run build:client` (client/dist; `npm test` builds it), ESM with
// types, no runtime dependencies, and importing nothing but Node built-ins and its own files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jumpHash } from '../../src/placement/index.js';

const CLIENT = fileURLToPath(new URL('../../client/', import.meta.url));
const pkg = JSON.parse(readFileSync(join(CLIENT, 'package.json'), 'utf8')) as {
  name: string;
  type: string;
  engines: { node: string };
  exports: { '.': { types: string; default: string } };
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
};

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

test('package.json: swimring-client, ESM, Node >= 20, no dependencies', () => {
  assert.equal(pkg.name, 'swimring-client');
  assert.equal(pkg.type, 'module');
  assert.equal(pkg.engines.node, '>=20');
  assert.deepEqual(pkg.dependencies ?? {}, {});
  assert.equal(pkg.peerDependencies, undefined);
});

test('the built package exports connect with types and imports only node: built-ins and its own files', async () => {
  const entry = join(CLIENT, pkg.exports['.'].default);
  assert.ok(existsSync(entry), `${entry} missing: run npm run build:client`);
  assert.ok(existsSync(join(CLIENT, pkg.exports['.'].types)));
  const mod = (await import(entry)) as { connect?: unknown; shardOf?: (key: string, shards: number) => number };
  assert.equal(typeof mod.connect, 'function');
  // XXH64("cart-1") = cc365a101f2d70d9 (docs/placement.md).
  assert.equal(mod.shardOf?.('cart-1', 262_144), jumpHash(0xcc365a10, 0x1f2d70d9, 262_144));
  for (const file of files(join(CLIENT, 'dist')).filter((f) => f.endsWith('.js'))) {
    for (const m of readFileSync(file, 'utf8').matchAll(/\bfrom\s+['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]/g)) {
      const spec = m[1] ?? m[2] ?? '';
      assert.ok(spec.startsWith('node:') || spec.startsWith('.'), `${file} imports ${spec}`);
    }
  }
});

test('the built package carries the sidecar\'s WebAssembly module where its lookup loads it', () => {
  const shipped = join(CLIENT, 'dist', 'wasm', 'swimring.wasm');
  assert.ok(existsSync(shipped), `${shipped} missing: run npm run build:client`);
  assert.deepEqual(readFileSync(shipped), readFileSync(fileURLToPath(new URL('../../wasm/swimring.wasm', import.meta.url))));
  // The built library, imported in a process of its own, reports the module as loaded.
  const probe = `import(${JSON.stringify(join(CLIENT, 'dist', 'src', 'placement', 'wasm.js'))}).then((m) => console.log(JSON.stringify(m.wasmStatus)))`;
  const res = spawnSync(process.execPath, ['--input-type=module', '-e', probe], { encoding: 'utf8' });
  assert.equal(res.status, 0, res.stderr);
  assert.equal((JSON.parse(res.stdout) as { loaded: boolean }).loaded, true, res.stdout);
});
