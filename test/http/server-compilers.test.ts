// The HTTP servers validate and serialize with zod's compilers alone: fastify is handed them at
// creation, so it never loads its default ones (ajv, fast-json-stringify's compiler; fastify's own error
// serializer, fast-json-stringify/lib/serializer.js, is always loaded), which the bundle leaves out
// (scripts/build-bundle.mjs). Checked in a fresh process, where nothing else has loaded them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

const PROBE = `
import { createRequire } from 'node:module';
import { z } from 'zod';
import { createServer } from './src/http/server.ts';
import { createMetrics } from './src/metrics.ts';
const app = createServer({ metrics: createMetrics(), maxParamLength: 100, maxIssues: 5 });
app.post('/echo', { schema: { body: z.object({ n: z.number().int() }), response: { 200: z.object({ twice: z.number() }) } } },
  async (req) => ({ twice: req.body.n * 2 }));
await app.ready();
const ok = await app.inject({ method: 'POST', url: '/echo', payload: { n: 21 } });
const bad = await app.inject({ method: 'POST', url: '/echo', payload: { n: 'x' } });
const loaded = Object.keys(createRequire(import.meta.url).cache).filter((p) => /node_modules[\\\\/](@fastify[\\\\/]ajv-compiler[\\\\/]|ajv[\\\\/]|@fastify[\\\\/]fast-json-stringify-compiler[\\\\/]|fast-json-stringify[\\\\/]index\\.js)/.test(p));
console.log(JSON.stringify({ ok: [ok.statusCode, ok.json()], bad: bad.statusCode, loaded }));
await app.close();
`;

test('a server validates and serializes with zod, and fastify loads neither ajv nor fast-json-stringify', () => {
  const res = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', PROBE], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  assert.equal(res.status, 0, res.stderr);
  const out = JSON.parse(res.stdout.trim().split('\n').pop() ?? '{}') as { ok: [number, unknown]; bad: number; loaded: string[] };
  assert.deepEqual(out.ok, [200, { twice: 42 }]);
  assert.equal(out.bad, 400);
  assert.deepEqual(out.loaded, []);
});
