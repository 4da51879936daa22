// The package as a user gets it: `npm pack`, the tarball installed into an empty folder with
// `npm install --omit=dev`, and `npx swimring agent` run from there, on a machine without a C++ compiler:
// install and agent run with a PATH of node, npm, npx and sh alone. Catches files the agent reads at run
// time that package.json's "files" leaves out (the OpenAPI document was one), and checks the agent runs
// the shipped WebAssembly lookup (wasm/swimring.wasm), not the JS fallback, and that the package carries
// no compiled addon (one built for the packer's Node would not load on another).
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomPortBase, waitFor } from './harness.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'swimring-pack-'));
const installDir = join(work, 'app');
const bareBin = join(work, 'bin');
/** The user's environment: PATH holds node, npm, npx and sh, and no compiler. */
const bareEnv = { ...process.env, PATH: bareBin };

/** Where `tool` is on this process's PATH. */
function which(tool: string): string {
  const res = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' });
  assert.equal(res.status, 0, `${tool} is not on PATH`);
  return res.stdout.trim();
}

function npm(args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): string {
  const res = spawnSync('npm', args, { cwd, encoding: 'utf8', timeout: 240_000, env });
  assert.equal(res.status, 0, `npm ${args.join(' ')} failed (${res.status ?? res.signal}):\n${res.stdout}\n${res.stderr}`);
  return res.stdout;
}

before(() => {
  const packed = npm(['pack', '--silent', '--pack-destination', work], ROOT).trim().split('\n').pop() ?? '';
  assert.match(packed, /^swimring-.*\.tgz$/, `npm pack named no tarball: ${packed}`);
  mkdirSync(installDir, { recursive: true });
  mkdirSync(bareBin);
  symlinkSync(process.execPath, join(bareBin, 'node'));
  for (const tool of ['npm', 'npx', 'sh']) symlinkSync(which(tool), join(bareBin, tool));
  writeFileSync(join(installDir, 'package.json'), JSON.stringify({ name: 'pack-check', private: true }));
  // --prefer-offline: the clean install before the tests filled npm's cache with the same dependencies.
  npm(['install', '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline', join(work, packed)], installDir, bareEnv);
});

after(() => rmSync(work, { recursive: true, force: true }));

test('the user\'s PATH has no C++ compiler; the package ships the wasm module and no addon', () => {
  const compilers = spawnSync('sh', ['-c', 'command -v cc c++ g++ gcc clang'], { encoding: 'utf8', env: bareEnv });
  assert.notEqual(compilers.status, 0);
  assert.equal(compilers.stdout.trim(), '', 'compilers found on the bare PATH');
  const installed = join(installDir, 'node_modules', 'swimring');
  assert.ok(existsSync(join(installed, 'wasm', 'swimring.wasm')), 'wasm/swimring.wasm is in the tarball');
  assert.ok(existsSync(join(installed, 'dist', 'main.js')));
  const addons = (readdirSync(installed, { recursive: true, encoding: 'utf8' }) as string[]).filter((f) => f.endsWith('.node'));
  assert.deepEqual(addons, [], 'no compiled addon in the package (a dist/native/ left by an older build? remove it)');
});

test('the installed tarball runs `npx swimring agent` on the wasm lookup and serves the API, the ops listener and the OpenAPI document', async (t) => {
  const p = randomPortBase();
  const host = '127.0.0.9';
  // detached: npx runs the bin as its own child; the whole group we started is ended below, by its PID.
  const child = spawn(
    'npx',
    ['--no', 'swimring', 'agent', '--name', 'packed-0',
      '--gossip-addr', `${host}:${p}`, '--grpc-addr', `${host}:${p + 1}`, '--http-addr', `${host}:${p + 2}`,
      '--ops-addr', `${host}:${p + 3}`, '--advertise-host', host, '--profile', 'local', '--shards', '1024'],
    { cwd: installDir, stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: bareEnv },
  );
  const logs: string[] = [];
  child.stdout.on('data', (c: Buffer) => logs.push(c.toString()));
  child.stderr.on('data', (c: Buffer) => logs.push(c.toString()));
  const exited = once(child, 'exit');
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null && child.pid) process.kill(-child.pid, 'SIGKILL');
    await exited;
  });

  const api = `http://${host}:${p + 2}`;
  const ops = `http://${host}:${p + 3}`;
  const route = await waitFor('the packed agent answers a route', 30_000, async () => {
    const res = await fetch(`${api}/v1/route/cart-42`, { signal: AbortSignal.timeout(2_000) });
    return res.status === 200 ? ((await res.json()) as { owner: { name: string } }) : undefined;
  }).catch((err: unknown) => assert.fail(`${String(err)}\n${logs.join('')}`));
  assert.equal(route.owner.name, 'packed-0');
  const running = logs.join('').split('\n').find((line) => line.includes('swimring is running'));
  assert.ok(running !== undefined, `no start-up line in:\n${logs.join('')}`);
  assert.match((JSON.parse(running) as { lookup?: string }).lookup ?? '', /^wasm\b/, running);
  // The code cache the build wrote ships in the package, and fits the node that packed it (this one).
  assert.equal((JSON.parse(running) as { codeCache?: string }).codeCache, 'accepted', running);
  // A batch too: answered by the wasm writer.
  const batch = await fetch(`${api}/v1/route?format=compact`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ keys: ['cart-42', 'user-7'] }),
    signal: AbortSignal.timeout(5_000),
  });
  const batchText = await batch.text();
  assert.equal(batch.status, 200, batchText);
  const routes = (JSON.parse(batchText) as { routes: { key: string; shard: number }[] }).routes;
  assert.deepEqual(routes.map((r) => r.key), ['cart-42', 'user-7']);

  const livez = await fetch(`${ops}/livez`, { signal: AbortSignal.timeout(5_000) });
  assert.equal(livez.status, 200, await livez.text());

  const doc = await fetch(`${api}/v1/openapi.json`, { signal: AbortSignal.timeout(5_000) });
  const text = await doc.text();
  assert.equal(doc.status, 200, text);
  const parsed = JSON.parse(text) as { openapi?: string; paths?: Record<string, unknown> };
  assert.match(parsed.openapi ?? '', /^3\./);
  assert.ok(parsed.paths?.['/v1/route/{key}'], 'the served document describes GET /v1/route/{key}');
});
