// deploy/bin/swimring-hook.mjs, the startupProbe and preStop the manifests run: against a scripted HTTP
// server for each answer it must tell apart, then against a real agent (dist/main.js, built by pretest).
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AddressInfo } from 'node:net';
import { SidecarProcess, randomPortBase, waitFor } from '../integration/harness.js';
import { DEPLOY } from './manifests.js';
import { ReadinessRule } from '../../src/runtime/readiness.js';
import { defaultAdminTokenFile, newAdminToken, writeAdminTokenFile } from '../../src/http/admin-token.js';

const HOOK = join(DEPLOY, 'bin', 'swimring-hook.mjs');

interface HookRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function runHook(args: readonly string[], env: Record<string, string>): Promise<HookRun> {
  return new Promise((resolve) => {
    // Only what the container would have: no SWIMRING_* leaking in from the test's environment.
    execFile(process.execPath, [HOOK, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, timeout: 20_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

interface Seen {
  readonly method: string;
  readonly url: string;
}

/** An HTTP server answering every request with the next scripted reply, recording what it was asked. */
async function scripted(): Promise<{ server: Server; port: number; seen: Seen[]; auth: (string | undefined)[]; reply: (status: number, body: string) => void }> {
  const seen: Seen[] = [];
  const auth: (string | undefined)[] = [];
  let next = { status: 200, body: '{"ok":true}' };
  const server = createServer((req: IncomingMessage, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '' });
    auth.push(req.headers.authorization);
    req.resume();
    req.on('end', () => res.writeHead(next.status, { 'content-type': 'application/json' }).end(next.body));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return { server, port, seen, auth, reply: (status, body) => (next = { status, body }) };
}

describe('startup', async () => {
  const s = await scripted();
  after(() => s.server.close());
  const env = { SWIMRING_OPS_ADDR: `127.0.0.1:${s.port}` };
  const cases: [string, number, string, number][] = [
    ['ready', 200, '{"ok":true}', 0],
    ['joined and settled, only the app not ready yet (it starts after this probe)', 503, '{"ok":false,"reasons":["app not ready: connection refused"]}', 0],
    ['not joined', 503, '{"ok":false,"reasons":["not joined yet: no seed has answered"]}', 1],
    ['app not ready and not settled', 503, '{"ok":false,"reasons":["app not ready: x","member view changed 10 ms ago (settle window 2000 ms)"]}', 1],
    ['leaving', 503, '{"ok":false,"reasons":["leaving the cluster"]}', 1],
    ['503 without reasons', 503, '{"ok":false}', 1],
    ['not JSON', 503, 'Service Unavailable', 1],
    ['a server error', 500, '{"ok":true}', 1],
  ];
  for (const [what, status, body, code] of cases) {
    test(`${what}: exit ${code}`, async () => {
      s.reply(status, body);
      const before = s.seen.length;
      const run = await runHook(['startup'], env);
      assert.equal(run.code, code, run.stderr);
      assert.deepEqual(s.seen.slice(before), [{ method: 'GET', url: '/readyz' }]);
    });
  }

  test('a wildcard ops address is dialled on loopback', async () => {
    s.reply(200, '{"ok":true}');
    const run = await runHook(['startup'], { SWIMRING_OPS_ADDR: `0.0.0.0:${s.port}` });
    assert.equal(run.code, 0, run.stderr);
  });

  test('nobody listening: exit 1 with the reason', async () => {
    const closed = await scripted();
    closed.server.close();
    await once(closed.server, 'close');
    const run = await runHook(['startup'], { SWIMRING_OPS_ADDR: `127.0.0.1:${closed.port}` });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /startup: /);
  });
});

describe('leave', async () => {
  const s = await scripted();
  after(() => s.server.close());
  const env = { SWIMRING_HTTP_ADDR: `127.0.0.1:${s.port}` };

  test('POSTs /v1/leave; 202 is success', async () => {
    s.reply(202, '{"leaving":true}');
    const before = s.seen.length;
    const run = await runHook(['leave'], env);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(s.seen.slice(before), [{ method: 'POST', url: '/v1/leave' }]);
  });

  test('sends the admin token: from the agent\'s default file, SWIMRING_ADMIN_TOKEN, or an explicit file; never SWIMRING_HTTP_TOKEN', async () => {
    s.reply(202, '{"leaving":true}');
    const dir = mkdtempSync(join(tmpdir(), 'swimring-hook-'));
    try {
      const token = newAdminToken();
      // The file the agent named "pod/1" writes in this TMPDIR (the name percent-encoded).
      await writeAdminTokenFile(defaultAdminTokenFile('pod/1', dir), token);
      let run = await runHook(['leave'], { ...env, TMPDIR: dir, POD_NAME: 'pod/1' });
      assert.equal(run.code, 0, run.stderr);
      assert.equal(s.auth.at(-1), `Bearer ${token}`);
      run = await runHook(['leave'], { ...env, SWIMRING_ADMIN_TOKEN: 'admin-token-0123456789' });
      assert.equal(s.auth.at(-1), 'Bearer admin-token-0123456789');
      run = await runHook(['leave'], { ...env, TMPDIR: dir, POD_NAME: 'pod/1', SWIMRING_HTTP_TOKEN: 'http-token-0123456789' });
      assert.equal(s.auth.at(-1), `Bearer ${token}`, 'the HTTP token is not the admin token');
      run = await runHook(['leave'], { ...env, SWIMRING_ADMIN_TOKEN_FILE: defaultAdminTokenFile('pod/1', dir) });
      assert.equal(s.auth.at(-1), `Bearer ${token}`);
      run = await runHook(['leave'], { ...env, TMPDIR: dir, POD_NAME: 'another-pod' });
      assert.equal(s.auth.at(-1), undefined, 'no token file for that name: no header (the agent answers 401)');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('--wait-ms holds the hook after the request', async () => {
    s.reply(202, '{"leaving":true}');
    const run = await runHook(['leave', '--wait-ms', '50'], env);
    assert.equal(run.code, 0, run.stderr);
  });

  test('any other answer is a failure, reported', async () => {
    s.reply(503, '{}');
    const run = await runHook(['leave'], env);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /503/);
  });

  test('bad arguments and addresses are usage errors', async () => {
    assert.equal((await runHook(['leave', '--wait-ms', 'soon'], env)).code, 2);
    assert.equal((await runHook(['leave'], { SWIMRING_HTTP_ADDR: 'nonsense' })).code, 2);
    assert.equal((await runHook(['restart'], env)).code, 2);
    assert.equal((await runHook([], env)).code, 2);
  });
});

test('the readiness reason startup ignores is the one the agent gives for its app', async () => {
  const { startupPasses } = (await import(pathToFileURL(HOOK).href)) as { startupPasses: (status: number, body: unknown) => boolean };
  const hook = readFileSync(HOOK, 'utf8');
  assert.match(hook, /STARTUP_IGNORED_REASONS = \['app not ready'\]/);
  const only = new ReadinessRule(2000).check({
    now: 60_000,
    stopped: false,
    leaving: false,
    joinedAt: 0,
    tableCurrent: true,
    appReady: false,
    appReason: 'connect ECONNREFUSED',
    lastViewChangeAt: 0,
    peersAlive: 0,
    peersUnreachable: 0,
  });
  assert.equal(only.reasons.length, 1);
  assert.ok(startupPasses(503, only), only.reasons.join());
});

test('against a real agent: startup passes once it has bootstrapped; leave turns /readyz 503; SIGTERM exits 0', async () => {
  const agent = new SidecarProcess({
    name: 'hook-test',
    host: '127.0.0.41',
    portBase: randomPortBase(),
    seeds: [],
    extraArgs: ['--shards', '4096', '--leave-timeout-ms', '1000'],
  });
  try {
    const env = { SWIMRING_OPS_ADDR: agent.opsBase.slice('http://'.length), SWIMRING_HTTP_ADDR: agent.httpBase.slice('http://'.length) };
    await waitFor('the startup hook to pass', 20_000, async () => (await runHook(['startup'], env)).code === 0, 200);
    // Without the admin token the agent refuses, even on loopback.
    const refused = await runHook(['leave'], env);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /401/);
    // The hook runs in the sidecar's container: same name, same TMPDIR, so it finds the agent's token file.
    const run = await runHook(['leave'], { ...env, SWIMRING_NAME: 'hook-test', TMPDIR: tmpdir() });
    assert.equal(run.code, 0, run.stderr);
    const ready = await agent.json<{ ok: boolean; reasons?: string[] }>('/readyz');
    assert.equal(ready.status, 503);
    assert.ok(ready.body.reasons?.some((r) => r.startsWith('leaving')), JSON.stringify(ready.body));
    // The app API still answers while leaving (the app may still be draining); with its only member
    // gone this one has no owner to give, but says so in JSON rather than refusing the connection.
    const route = await agent.json<Record<string, unknown>>('/v1/route/some-key');
    assert.equal(typeof route.body, 'object', String(route.body));
    agent.signal('SIGTERM');
    await agent.exited;
    assert.equal(agent.exitCode, 0, agent.logs.slice(-20).join('\n'));
  } finally {
    await agent.stop();
  }
});
