// What `npm pack` ships: the files the agent reads at run time besides dist/ (the status page, the
// OpenAPI document it serves, the protos).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './manifests.js';

test('the package ships ui/status.html, docs/openapi.json and proto/', () => {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const files = new Set((JSON.parse(out) as { files: { path: string }[] }[])[0]?.files.map((f) => f.path));
  for (const path of ['ui/status.html', 'docs/openapi.json', 'proto/swimring/v1/control_plane.proto', 'package.json']) assert.ok(files.has(path), `${path} is not in the package`);
});

test('the bin is the bundled agent, shipped with its code cache, table worker and source maps, needing no dev dependency', () => {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const files = new Set((JSON.parse(out) as { files: { path: string }[] }[])[0]?.files.map((f) => f.path));
  for (const path of ['dist/main.cjs', 'dist/main.js', 'dist/bundle/main.cjs', 'dist/bundle/main.cjs.cache', 'dist/bundle/main.cjs.map', 'dist/bundle/table-worker.js']) assert.ok(files.has(path), `${path} is not in the package`);
  // The bin is src/bin.ts alone: it imports node's modules and nothing from dist/ but the bundle it runs.
  const bin = readFileSync(join(ROOT, 'dist/main.js'), 'utf8');
  assert.match(bin, /new URL\("\.\/bundle\/main\.cjs", import\.meta\.url\)/);
  assert.deepEqual([...bin.matchAll(/^import .* from "([^"]+)";$/gm)].map((m) => m[1]).filter((from) => !from?.startsWith('node:')), []);
  // The package's bin is the same program as CommonJS: node runs it without loading its ESM loader.
  const cjsBin = readFileSync(join(ROOT, 'dist/main.cjs'), 'utf8');
  assert.match(cjsBin, /new URL\("\.\/bundle\/main\.cjs", __swimringBinUrl\)/);
  assert.doesNotMatch(cjsBin, /import\.meta|^import /m);
  assert.deepEqual([...cjsBin.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]).filter((from) => !from?.startsWith('node:')), []);
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string>; dependencies: Record<string, string>; devDependencies: Record<string, string> };
  assert.equal(pkg.bin['swimring'], 'dist/main.cjs');
  assert.equal(pkg.dependencies['esbuild'], undefined, 'esbuild builds the bundle; the package does not run it');
  assert.ok(pkg.devDependencies['esbuild']);
});

test('the bundle leaves out what the agent never runs: the .proto parser, fastify\'s default compilers, zod\'s translations', () => {
  const dir = join(ROOT, 'dist/bundle');
  const sources = readdirSync(dir)
    .filter((f) => f.endsWith('.js.map') || f.endsWith('.cjs.map'))
    .flatMap((f) => (JSON.parse(readFileSync(join(dir, f), 'utf8')) as { sources: string[] }).sources);
  assert.ok(sources.some((s) => s.includes('node_modules/fastify/')), 'the bundle has the dependencies');
  assert.ok(sources.some((s) => s.includes('src/grpc/generated/control_plane_codec.ts')), 'the generated codecs are in');
  const unwanted = sources.filter((s) =>
    /node_modules\/(@grpc\/proto-loader|@fastify\/ajv-compiler|ajv|@fastify\/fast-json-stringify-compiler)\/|node_modules\/protobufjs\/src\/parse\.js|node_modules\/zod\/v4\/locales\/(?!en\.js)/.test(s),
  );
  assert.deepEqual(unwanted, []);
});
