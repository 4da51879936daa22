// The agent's V8 code cache, dist/bundle/main.cjs.cache (src/cli/code-cache.ts): written by one real
// start of the built agent, so it holds the bytecode of everything a start runs, not only the bundle's
// top level. Runs last in `npm run build` (after the bundle, so the start runs the code the installed
// agent runs). The agent alone, bootstrapping, on loopback ports the kernel
// picks; it answers one app API and one /readyz request, writes the cache itself (a start without one
// does, a few seconds after it listens) and is stopped. The cache fits the node that ran the build: the
// image builds with the node it runs; a package installed under another node writes its own at its first
// start (or, where the install is read-only, starts without one).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CACHE = `${ROOT}dist/bundle/main.cjs.cache`;
const GIVE_UP_MS = 60_000;

rmSync(CACHE, { force: true });
const scratch = mkdtempSync(join(tmpdir(), 'swimring-code-cache-'));
const agent = spawn(
  process.execPath,
  [`${ROOT}dist/main.js`, 'agent', '--name', 'code-cache', '--gossip-addr', '127.0.0.1:0', '--grpc-addr', '127.0.0.1:0',
    '--http-addr', '127.0.0.1:0', '--ops-addr', '127.0.0.1:0', '--advertise-host', '127.0.0.1',
    '--admin-token-file', join(scratch, 'admin.token')],
  // Neither the build's SWIMRING_* settings (seeds, say) nor its NODE_OPTIONS: V8 flags there would make
  // a cache for them, not for the agent as the bin runs it.
  { stdio: ['ignore', 'pipe', 'inherit'], cwd: scratch, env: Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SWIMRING_') && k !== 'NODE_OPTIONS')) },
);
const exited = new Promise((resolve) => agent.once('exit', resolve));
let log = '';
agent.stdout.on('data', (chunk) => { log += chunk.toString(); });

/** The listen addresses from the agent's "swimring is running" line. */
function running() {
  for (const line of log.split('\n')) {
    if (!line.includes('"swimring is running"')) continue;
    const entry = JSON.parse(line);
    return { http: entry.http, ops: entry.ops };
  }
  return null;
}

async function get(url) {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  await res.arrayBuffer();
  return res.status;
}

const t0 = Date.now();
let problem = null;
try {
  let addrs = null;
  while ((addrs = running()) === null) {
    if (agent.exitCode !== null) throw new Error(`the agent exited (${agent.exitCode}) before it ran:\n${log}`);
    if (Date.now() - t0 > GIVE_UP_MS) throw new Error('the agent did not start');
    await sleep(20);
  }
  // The first requests compile their handlers: the cache holds them too when they come before it is written.
  await get(`${addrs.http}/v1/members`);
  await get(`${addrs.ops}/readyz`);
  while (!existsSync(CACHE)) {
    if (agent.exitCode !== null) throw new Error(`the agent exited (${agent.exitCode}) before it wrote the cache:\n${log}`);
    if (Date.now() - t0 > GIVE_UP_MS) throw new Error(`no cache written in ${GIVE_UP_MS} ms:\n${log}`);
    await sleep(50);
  }
} catch (err) {
  problem = err instanceof Error ? err.message : String(err);
} finally {
  agent.kill('SIGKILL');
  await exited;
  rmSync(scratch, { recursive: true, force: true });
}
if (problem !== null) {
  // The agent runs without a cache (it compiles from source, and writes one at its first start).
  console.warn(`build-code-cache: no code cache built: ${problem}`);
} else {
  console.log(`build-code-cache: dist/bundle/main.cjs.cache written by one start of the agent (node ${process.version})`);
}
