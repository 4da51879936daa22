// The control plane's port bound before its gRPC server exists (src/grpc/listener.ts): a call made
// in between waits and is answered once the server takes the port; a taken port fails at bind time; a
// flood of waiting connections is bounded; close() frees the port; TLS is refused (grpc-js binds it).
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type Socket } from 'node:net';
import { ControlPlaneClient } from '../../src/grpc/client.js';
import { listenForControlPlane, MAX_WAITING_CONNECTIONS, type ControlPlaneListener } from '../../src/grpc/listener.js';
import { startControlPlaneServer, type ControlPlaneHandlers, type ControlPlaneServer } from '../../src/grpc/server.js';
import { serverCredentials, TlsFiles } from '../../src/grpc/tls.js';
import { hasOpenssl, TestPki } from './tls-certs.js';

const handlers: ControlPlaneHandlers = {
  negotiate: () => [],
  closing: () => undefined,
  ping: () => ({ name: 'late-server', members: 1, healthScore: 0, tableVersion: 'v' }),
};

function settled<T>(p: Promise<T>): { done: () => boolean } {
  let done = false;
  void p.then(
    () => (done = true),
    () => (done = true),
  );
  return { done: () => done };
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('control plane listener', () => {
  const servers: ControlPlaneServer[] = [];
  const listeners: ControlPlaneListener[] = [];
  const clients: ControlPlaneClient[] = [];
  after(async () => {
    for (const c of clients) c.close();
    await Promise.all([...servers.map((s) => s.close()), ...listeners.map((l) => l.close())]);
  });

  test('a call made before the server exists is answered once it takes the port', async () => {
    const listener = await listenForControlPlane('127.0.0.1:0');
    const client = new ControlPlaneClient({ sender: 'early-caller' });
    clients.push(client);
    const ping = client.ping(`127.0.0.1:${listener.port}`, 10_000);
    const state = settled(ping);
    // Long enough for the connection and the request to reach the listener, which holds them.
    await pause(300);
    assert.equal(state.done(), false, 'no answer while no server has the port');
    const server = await startControlPlaneServer({ bind: '127.0.0.1:0', listener, handlers });
    servers.push(server);
    assert.equal(server.port, listener.port);
    const reply = await ping;
    assert.equal(reply.name, 'late-server');
    assert.equal(listener.dropped, 0);
  });

  test('a port already taken fails at bind time, naming the address', async () => {
    const first = await listenForControlPlane('127.0.0.1:0');
    listeners.push(first);
    await assert.rejects(listenForControlPlane(`127.0.0.1:${first.port}`), /control plane cannot listen on 127\.0\.0\.1:\d+: .*EADDRINUSE/);
  });

  test('connections beyond the waiting bound are closed and counted; the held ones reach the server under its connection bound', async () => {
    const listener = await listenForControlPlane('127.0.0.1:0');
    const sockets: Socket[] = [];
    const extra = 5;
    for (let i = 0; i < MAX_WAITING_CONNECTIONS + extra; i++) {
      const s = connect({ host: '127.0.0.1', port: listener.port });
      s.on('error', () => undefined);
      sockets.push(s);
    }
    for (let i = 0; i < 200 && listener.dropped < extra; i++) await pause(25);
    assert.equal(listener.dropped, extra);
    const perHost = 100;
    const refused: string[] = [];
    const server = await startControlPlaneServer({
      bind: '127.0.0.1:0',
      listener,
      handlers,
      connections: { perHost, total: 10_000 },
      onReject: (rpc, reason) => refused.push(`${rpc}:${reason}`),
    });
    servers.push(server);
    // The held connections went through the server's bound as they were handed over.
    assert.equal(refused.length, MAX_WAITING_CONNECTIONS - perHost);
    assert.ok(refused.every((r) => r === 'connection:busy'));
    const gone = sockets.map((s) => new Promise<void>((resolve) => (s.destroyed ? resolve() : s.once('close', () => resolve()))));
    for (const s of sockets) s.destroy();
    await Promise.all(gone);
    const client = new ControlPlaneClient({ sender: 'after-flood' });
    clients.push(client);
    assert.equal((await client.ping(`127.0.0.1:${listener.port}`, 10_000)).name, 'late-server');
    assert.equal(listener.dropped, extra);
  });

  test('close() frees the port and closes connections still waiting', async () => {
    const listener = await listenForControlPlane('127.0.0.1:0');
    const socket = connect({ host: '127.0.0.1', port: listener.port });
    socket.on('error', () => undefined);
    const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    await pause(50);
    await listener.close();
    await ended;
    const again = createServer();
    await new Promise<void>((resolve, reject) => {
      again.once('error', reject);
      again.listen({ host: '127.0.0.1', port: listener.port }, () => resolve());
    });
    await new Promise<void>((resolve) => again.close(() => resolve()));
  });
});

describe('control plane listener with TLS', { skip: hasOpenssl() ? false : 'the openssl binary is needed to make test certificates' }, () => {
  test('TLS credentials with a listener bound in advance are refused: TLS binds through grpc-js', async () => {
    const pki = new TestPki();
    pki.makeLeaf('server', 'member-a', 'IP:127.0.0.1');
    const serverFiles = new TlsFiles({ certFile: pki.path('server.crt'), keyFile: pki.path('server.key'), caFile: pki.path('ca.crt'), pollMs: 3_600_000 });
    const listener = await listenForControlPlane('127.0.0.1:0');
    try {
      await assert.rejects(startControlPlaneServer({ bind: '127.0.0.1:0', listener, credentials: serverCredentials(serverFiles), handlers }), /plaintext only/);
    } finally {
      await listener.close();
      serverFiles.close();
      pki.cleanup();
    }
  });
});
