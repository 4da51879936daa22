// The built agent's start order (docs/operations.md, "Start-up"): when its app API starts listening,
// node's http2, https, tls, assert, crypto and fs/promises are not loaded (grpc-js and fastify's unused
// servers are loaded later or never; assert only if a library's assertion fails; crypto and fs/promises
// at their first use after the start), the gRPC port is already bound; afterwards a second member joins through that port, so the
// control plane serves once the start is over. A preload records what node had loaded at each listen.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomPortBase, waitFor } from './harness.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const HOST = '127.0.0.1';
const WATCHED = ['http2', 'https', 'tls', 'assert', 'crypto', 'fs/promises'];

/** Logs, at every listen, the kind of server and which of WATCHED node has loaded by then. */
const PRELOAD = `
const net = require('node:net');
const http = require('node:http');
const emit = net.Server.prototype.emit;
net.Server.prototype.emit = function (event, ...rest) {
  if (event === 'listening') {
    const loaded = new Set(process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice(13)));
    const address = this.address();
    process.stderr.write('LISTEN ' + JSON.stringify({ http: this instanceof http.Server, port: address && address.port, loaded: ${JSON.stringify(WATCHED)}.filter((m) => loaded.has(m)) }) + '\\n');
  }
  return emit.call(this, event, ...rest);
};
`;

interface Listen {
  http: boolean;
  port: number;
  loaded: string[];
}

test('the app API listens before http2, https, tls, assert, crypto and fs/promises are loaded, after the gRPC port is bound; the port serves a join afterwards', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'swimring-start-order-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const preload = join(dir, 'listens.cjs');
  writeFileSync(preload, PRELOAD);
  const p = randomPortBase();
  const children: ReturnType<typeof spawn>[] = [];
  t.after(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await Promise.all(children.map((c) => (c.exitCode === null && c.signalCode === null ? once(c, 'exit') : undefined)));
  });
  const start = (name: string, base: number, extra: string[], node: string[] = []): { out: () => string } => {
    const child = spawn(process.execPath, [...node, join(ROOT, 'dist/main.js'), 'agent', '--name', name, '--gossip-addr', `${HOST}:${base}`, '--grpc-addr', `${HOST}:${base + 1}`,
      '--http-addr', `${HOST}:${base + 2}`, '--ops-addr', `${HOST}:${base + 3}`, '--advertise-host', HOST, '--profile', 'local', '--shards', '1024',
      '--admin-token-file', join(dir, `${name}.token`), ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let out = '';
    child.stdout!.on('data', (c: Buffer) => { out += c.toString(); });
    child.stderr!.on('data', (c: Buffer) => { out += c.toString(); });
    return { out: () => out };
  };
  const seed = start('order-0', p, [], ['--require', preload]);
  await waitFor('the seed to run', 30_000, async () => seed.out().includes('"swimring is running"'));
  const listens = seed.out().split('\n').filter((l) => l.startsWith('LISTEN ')).map((l) => JSON.parse(l.slice(7)) as Listen);
  const app = listens.find((l) => l.port === p + 2);
  const grpcAt = listens.findIndex((l) => l.port === p + 1);
  assert.ok(app, `no listen of the app API among ${JSON.stringify(listens)}`);
  assert.equal(app.http, true);
  assert.deepEqual(app.loaded, [], 'modules loaded before the app API listened');
  assert.ok(grpcAt >= 0 && grpcAt < listens.indexOf(app), `the gRPC port is bound before the app API listens: ${JSON.stringify(listens)}`);
  // The seed's control plane serves: a second member joins through it.
  let q = randomPortBase();
  while (q === p) q = randomPortBase();
  start('order-1', q, ['--seeds', `${HOST}:${p + 1}`]);
  await waitFor('the joiner to see the seed', 30_000, async () => {
    try {
      const res = await fetch(`http://${HOST}:${q + 2}/v1/members`);
      const body = (await res.json()) as { members: { name: string; state: string }[] };
      return body.members.some((m) => m.name === 'order-0' && m.state === 'alive');
    } catch {
      return false;
    }
  });
});
