// A start that cannot bind its ops listener (127.0.0.153, the port held by this test): the app API has
// already listened by then (it listens first), and the agent must still give up cleanly: exit 1, say
// why, and leave neither listener behind.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { connect, createServer } from 'node:net';
import { test } from 'node:test';
import { MAIN } from './harness.js';

const HOST = '127.0.0.153';
const PORT = 27_100;

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: HOST, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });
}

test('ops address taken: exit 1 with "could not start", the app API closed again', { timeout: 60_000 }, async () => {
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(PORT + 3, HOST, resolve));
  try {
    const args = [MAIN, 'agent', '--name', 'start-failure', '--gossip-addr', `${HOST}:${PORT}`, '--grpc-addr', `${HOST}:${PORT + 1}`, '--http-addr', `${HOST}:${PORT + 2}`, '--ops-addr', `${HOST}:${PORT + 3}`, '--advertise-host', HOST, '--profile', 'local', '--shards', '1024'];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SWIMRING_LOG_LEVEL: 'info' } });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 45_000);
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    clearTimeout(timer);
    assert.equal(code, 1, output);
    const fatal = output.split('\n').filter((l) => l.includes('could not start'));
    assert.equal(fatal.length, 1, output);
    assert.match(fatal[0]!, /EADDRINUSE/);
    assert.ok(!output.includes('swimring is running'), output);
    assert.ok(await refused(PORT + 2), 'the app API port is free again');
  } finally {
    await new Promise<void>((resolve) => blocker.close(() => resolve()));
  }
});
