// What `npm pack` ships: the files the agent reads at run time besides dist/ (the status page, the
// OpenAPI document it serves, the protos).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { ROOT } from './manifests.js';

test('the package ships ui/status.html, docs/openapi.json and proto/', () => {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const files = new Set((JSON.parse(out) as { files: { path: string }[] }[])[0]?.files.map((f) => f.path));
  for (const path of ['ui/status.html', 'docs/openapi.json', 'proto/swimring/v1/control_plane.proto', 'package.json']) assert.ok(files.has(path), `${path} is not in the package`);
});
