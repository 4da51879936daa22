// What `npm pack` ships: the files the agent reads at run time besides dist/ (the status page, the
// OpenAPI document it serves, the protos).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './manifests.js';

test('the package ships ui/status.html, docs/openapi.json and proto/', () => {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const files = new Set((JSON.parse(out) as { files: { path: string }[] }[])[0]?.files.map((f) => f.path));
  for (const path of ['ui/status.html', 'docs/openapi.json', 'proto/swimring/v1/control_plane.proto', 'package.json']) assert.ok(files.has(path), `${path} is not in the package`);
});

test('the bin is the bundled agent, shipped with its table worker and source maps, needing no dev dependency', () => {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const files = new Set((JSON.parse(out) as { files: { path: string }[] }[])[0]?.files.map((f) => f.path));
  for (const path of ['dist/main.js', 'dist/bundle/main.js', 'dist/bundle/main.js.map', 'dist/bundle/table-worker.js']) assert.ok(files.has(path), `${path} is not in the package`);
  assert.match(readFileSync(join(ROOT, 'dist/main.js'), 'utf8'), /^import '\.\/bundle\/main\.js';$/m);
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
  assert.equal(pkg.dependencies['esbuild'], undefined, 'esbuild builds the bundle; the package does not run it');
  assert.ok(pkg.devDependencies['esbuild']);
});
