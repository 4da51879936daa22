// The bin's V8 code cache with the real agent (src/cli/code-cache.ts, scripts/build-code-cache.mjs):
// the cache `npm run build` wrote fits the built agent; a damaged one is rejected, logged, the agent
// serves anyway and writes a new cache, which the next start accepts. The damaged case runs on a copy of
// dist/ (other test files start the built agent at the same time).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomPortBase, waitFor } from './harness.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const HOST = '127.0.0.1';

interface Started {
  lines: () => Record<string, unknown>[];
  stop: () => Promise<void>;
  api: string;
}

function startAgent(main: string): Started {
  const p = randomPortBase();
  const child = spawn(process.execPath, [main, 'agent', '--name', 'cache-0', '--gossip-addr', `${HOST}:${p}`, '--grpc-addr', `${HOST}:${p + 1}`,
    '--http-addr', `${HOST}:${p + 2}`, '--ops-addr', `${HOST}:${p + 3}`, '--advertise-host', HOST, '--profile', 'local', '--shards', '1024',
    '--admin-token-file', join(tmpdir(), `swimring-cache-test-${process.pid}-${p}.token`)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => { out += c.toString(); });
  child.stderr.on('data', (c: Buffer) => { out += c.toString(); });
  const exited = once(child, 'exit');
  return {
    lines: () => out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    api: `http://${HOST}:${p + 2}`,
  };
}

async function running(agent: Started): Promise<Record<string, unknown>> {
  await waitFor('the agent to run', 30_000, async () => agent.lines().some((l) => l['msg'] === 'swimring is running'));
  const res = await fetch(`${agent.api}/v1/members`);
  assert.equal(res.status, 200);
  await res.arrayBuffer();
  return agent.lines().find((l) => l['msg'] === 'swimring is running') ?? {};
}

test('the built agent starts from the code cache the build wrote', async (t) => {
  const agent = startAgent(join(ROOT, 'dist/main.js'));
  t.after(() => agent.stop());
  assert.equal((await running(agent))['codeCache'], 'accepted');
});

test('a damaged code cache is rejected and logged, the agent serves, writes a new one, and the next start accepts it', async (t) => {
  const copy = mkdtempSync(join(tmpdir(), 'swimring-code-cache-'));
  t.after(() => rmSync(copy, { recursive: true, force: true }));
  mkdirSync(join(copy, 'dist/bundle'), { recursive: true });
  for (const f of ['dist/main.js', 'dist/bundle/main.cjs', 'dist/bundle/table-worker.js', 'package.json']) copyFileSync(join(ROOT, f), join(copy, f));
  symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'));
  const cacheFile = join(copy, 'dist/bundle/main.cjs.cache');
  // The build's cache with every 101st byte of its second half flipped: same size, same V8 header.
  const damaged = readFileSync(join(ROOT, 'dist/bundle/main.cjs.cache'));
  for (let i = damaged.length >> 1; i < damaged.length; i += 101) damaged[i] = (damaged[i] ?? 0) ^ 0xa5;
  writeFileSync(cacheFile, damaged);

  const first = startAgent(join(copy, 'dist/main.js'));
  t.after(() => first.stop());
  assert.equal((await running(first))['codeCache'], 'rejected');
  await waitFor('the new cache', 30_000, async () => first.lines().some((l) => l['msg'] === 'code cache written: later starts compile less'));
  assert.equal(first.lines().find((l) => l['msg'] === 'code cache written: later starts compile less')?.['was'], 'rejected');
  await first.stop();
  assert.notDeepEqual(readFileSync(cacheFile), damaged);

  const second = startAgent(join(copy, 'dist/main.js'));
  t.after(() => second.stop());
  assert.equal((await running(second))['codeCache'], 'accepted');
});
