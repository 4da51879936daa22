// Connections to the control plane are bounded per caller address and in all, so a flood of open
// sockets cannot hold a session each without end; callers under the bounds are served as before.
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { encodeRequest, rawCall, startTestServer } from './helpers.js';

type Outcome = { readonly socket: net.Socket; readonly accepted: boolean };

/** Opens a TCP connection from `localAddress`: accepted when the server speaks first (HTTP/2 SETTINGS), refused when it closes it. */
function open(port: number, localAddress: string): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port, localAddress });
    const timer = setTimeout(() => reject(new Error(`no answer on a connection from ${localAddress} within 5 s`)), 5000);
    socket.once('data', () => {
      clearTimeout(timer);
      resolve({ socket, accepted: true });
    });
    socket.once('close', () => {
      clearTimeout(timer);
      resolve({ socket, accepted: false });
    });
    socket.on('error', () => undefined);
  });
}

test('connections are bounded per caller address and in all; a closed one frees its place', async () => {
  const t = await startTestServer({ connections: { perHost: 3, total: 5 } });
  const port = t.server.port;
  const sockets: net.Socket[] = [];
  try {
    const fromA: Outcome[] = [];
    for (let i = 0; i < 4; i++) fromA.push(await open(port, '127.0.0.2'));
    sockets.push(...fromA.map((o) => o.socket));
    assert.deepEqual(fromA.map((o) => o.accepted), [true, true, true, false], 'the fourth from one address is closed');

    const fromB: Outcome[] = [];
    for (let i = 0; i < 3; i++) fromB.push(await open(port, '127.0.0.3'));
    sockets.push(...fromB.map((o) => o.socket));
    assert.deepEqual(fromB.map((o) => o.accepted), [true, true, false], 'five open in all: the sixth is closed whatever its address');

    const reasons = t.recorded.rejections.filter((r) => r.rpc === 'connection').map((r) => r.detail);
    assert.equal(reasons.length, 2);
    assert.match(reasons[0] ?? '', /connection from 127\.0\.0\.2 closed: over 3 open connections from one address/);
    assert.match(reasons[1] ?? '', /connection from 127\.0\.0\.3 closed: over 5 open connections/);

    // Closing the flood frees the places: a real call is served again.
    for (const s of sockets) s.destroy();
    const ping = encodeRequest('Ping', { header: { protocolVersion: 1, label: '', sender: '' } });
    let answered = false;
    for (let attempt = 0; attempt < 20 && !answered; attempt++) {
      answered = (await rawCall(t.addr, 'Ping', ping)).err === null;
      if (!answered) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(answered, true, 'a call after the flood closed is served');
  } finally {
    for (const s of sockets) s.destroy();
    await t.server.close();
  }
});

test('the default bounds follow the cluster size: every member of the largest cluster can call', async () => {
  const { connectionLimitsFor, DEFAULT_CONNECTIONS_PER_HOST } = await import('../../src/grpc/connection-limit.js');
  assert.deepEqual(connectionLimitsFor(8192), { perHost: DEFAULT_CONNECTIONS_PER_HOST, total: 8192 });
  assert.equal(connectionLimitsFor(16).total, 1024, 'never fewer than 1,024 in all');
});
