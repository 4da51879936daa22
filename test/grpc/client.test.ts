// The control-plane client over real gRPC: timeouts, IPv6, refusing bad replies, argument checks and
// the channel cache (bounded, idle eviction on an injected clock).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { ControlPlaneClient, ControlPlaneCallError } from '../../src/grpc/client.js';
import { membersToProto } from '../../src/grpc/convert.js';
import { controlPlaneDefinition } from '../../src/grpc/proto.js';
import { member, rejectionOf, startTestServer } from './helpers.js';
import { closedAddresses } from '../support/closed-addresses.js';

/** A plain grpc-js server with the generated ControlPlane definition and hand-written handlers. */
async function startRawServer(impl: grpc.UntypedServiceImplementation): Promise<{ addr: string; stop(): void }> {
  const server = new grpc.Server();
  server.addService(controlPlaneDefinition(), impl);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return { addr: `127.0.0.1:${port}`, stop: () => server.forceShutdown() };
}

function canBindIPv6Loopback(): Promise<string | null> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', (err) => resolve(err.message));
    probe.listen(0, '::1', () => probe.close(() => resolve(null)));
  });
}

describe('control plane client', () => {
  test('a peer that never answers rejects with DEADLINE_EXCEEDED and a clear message', async () => {
    const unanswered: grpc.sendUnaryData<unknown>[] = [];
    const raw = await startRawServer({ Ping: (_call: unknown, callback: grpc.sendUnaryData<unknown>) => unanswered.push(callback) });
    const client = new ControlPlaneClient();
    try {
      const err = await rejectionOf(client.ping(raw.addr, 150));
      assert.ok(err instanceof ControlPlaneCallError);
      assert.equal(err.code, grpc.status.DEADLINE_EXCEEDED);
      assert.equal(err.codeName, 'DEADLINE_EXCEEDED');
      assert.equal(err.rpc, 'Ping');
      assert.equal(err.addr, raw.addr);
      assert.match(err.message, new RegExp(`^Ping to ${raw.addr} timed out after 150 ms`));
      assert.equal(unanswered.length, 1, 'the request reached the server');
    } finally {
      client.close();
      raw.stop();
    }
  });

  test('nothing listening rejects with UNAVAILABLE', async () => {
    // Bind and release a port so that nothing listens on it.
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const address = s.address();
        s.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
      });
    });
    const client = new ControlPlaneClient();
    try {
      const err = await rejectionOf(client.closing(`127.0.0.1:${port}`, 'me', 1, 5000));
      assert.ok(err instanceof ControlPlaneCallError);
      assert.equal(err.code, grpc.status.UNAVAILABLE);
      assert.match(err.message, /^Closing to 127\.0\.0\.1:\d+ failed: UNAVAILABLE/);
    } finally {
      client.close();
    }
  });

  test('works over IPv6 loopback [::1]', async (t) => {
    const why = await canBindIPv6Loopback();
    if (why !== null) {
      console.log(`skipping IPv6 case: cannot bind ::1 on this machine (${why})`);
      t.skip(`no ::1: ${why}`);
      return;
    }
    const server = await startTestServer({ bind: '[::1]:0' });
    const client = new ControlPlaneClient();
    try {
      assert.equal(server.addr, `[::1]:${server.server.port}`);
      assert.equal((await client.ping(server.addr, 5000)).name, 'member-0');
      assert.deepEqual(await client.negotiate(server.addr, [member(4)], true, 5000), [member(0)]);
      assert.match(server.recorded.negotiations[0]?.context.peer ?? '', /::1/);
    } finally {
      client.close();
      await server.server.close();
    }
  });

  test('a reply with an invalid record is refused, naming the field', async () => {
    const bad = { ...membersToProto([member(1)])[0], name: '' };
    const raw = await startRawServer({
      Negotiate: (_call: unknown, callback: grpc.sendUnaryData<unknown>) => callback(null, { members: [bad] }),
    });
    const client = new ControlPlaneClient();
    try {
      const err = await rejectionOf(client.negotiate(raw.addr, [member(2)], false, 5000));
      assert.ok(err instanceof ControlPlaneCallError);
      assert.equal(err.code, grpc.status.INVALID_ARGUMENT);
      assert.match(err.message, new RegExp(`^Negotiate reply from ${raw.addr} refused: members\\[0\\]\\.name: is empty`));
    } finally {
      client.close();
      raw.stop();
    }
  });

  test('a reply with more members than maxMembers is refused RESOURCE_EXHAUSTED before decoding', async () => {
    const raw = await startRawServer({
      Negotiate: (_call: unknown, callback: grpc.sendUnaryData<unknown>) =>
        callback(null, { members: membersToProto(Array.from({ length: 6 }, (_, i) => member(i))) }),
    });
    const client = new ControlPlaneClient({ limits: { maxMembers: 5 } });
    try {
      const err = await rejectionOf(client.negotiate(raw.addr, [], false, 5000));
      assert.equal(err.code, grpc.status.RESOURCE_EXHAUSTED);
      assert.match(err.message, /refused: members: 6 member records, limit 5/);
    } finally {
      client.close();
      raw.stop();
    }
  });

  test('a Ping reply with an invalid name or time is refused', async () => {
    let reply: object = { name: '', unixTimeMs: 1 };
    const raw = await startRawServer({ Ping: (_call: unknown, callback: grpc.sendUnaryData<unknown>) => callback(null, reply) });
    const client = new ControlPlaneClient();
    try {
      assert.match((await rejectionOf(client.ping(raw.addr, 5000))).message, /refused: name: is empty/);
      reply = { name: 'ok', unixTimeMs: '9007199254740993' };
      assert.match((await rejectionOf(client.ping(raw.addr, 5000))).message, /refused: unixTimeMs: 9007199254740993 is not a safe integer/);
    } finally {
      client.close();
      raw.stop();
    }
  });

  test('bad arguments reject without a network call', async () => {
    const client = new ControlPlaneClient();
    try {
      const noPort = await rejectionOf(client.ping('10.0.0.1', 1000));
      assert.equal(noPort.code, grpc.status.INVALID_ARGUMENT);
      assert.match(noPort.message, /^Ping: bad peer address: "10\.0\.0\.1": missing ":port"/);
      const bareV6 = await rejectionOf(client.ping('::1:7947', 1000));
      assert.match(bareV6.message, /\[addr\]:port/);
      const badTimeout = await rejectionOf(client.ping('127.0.0.1:1', 0));
      assert.match(badTimeout.message, /timeout 0 ms is not a positive number/);
      assert.deepEqual(client.cachedAddresses(), []);
    } finally {
      client.close();
    }
  });

  test('a closed client rejects calls', async () => {
    const client = new ControlPlaneClient();
    client.close();
    const err = await rejectionOf(client.ping('127.0.0.1:1', 1000));
    assert.equal(err.code, grpc.status.CANCELLED);
    assert.match(err.message, /client is closed/);
  });

  test('bad options throw at construction', () => {
    assert.throws(() => new ControlPlaneClient({ maxChannels: 0 }), /maxChannels must be a positive integer/);
    assert.throws(() => new ControlPlaneClient({ limits: { maxMembers: -1 } }), /maxMembers must be an integer/);
    assert.throws(() => new ControlPlaneClient({ sender: 'a\u0000b' }), /sender: contains a control character/);
  });
});

describe('control plane client: channel cache', () => {
  test('one channel per address, least recently used evicted beyond maxChannels', async () => {
    const servers = await Promise.all([startTestServer(), startTestServer(), startTestServer()]);
    const [a, b, c] = servers.map((s) => s.addr) as [string, string, string];
    const client = new ControlPlaneClient({ maxChannels: 2 });
    try {
      await client.ping(a, 5000);
      await client.ping(a, 5000);
      assert.deepEqual(client.cachedAddresses(), [a]);
      await client.ping(b, 5000);
      await client.ping(a, 5000); // a is now the most recent
      assert.deepEqual(client.cachedAddresses(), [b, a]);
      await client.ping(c, 5000);
      assert.deepEqual(client.cachedAddresses(), [a, c], 'b, least recently used, evicted');
      await client.ping(b, 5000);
      assert.deepEqual(client.cachedAddresses(), [c, b]);
    } finally {
      client.close();
      await Promise.all(servers.map((s) => s.server.close()));
    }
  });

  test('a channel idle for idleMs is dropped at the next call', async () => {
    const servers = await Promise.all([startTestServer(), startTestServer()]);
    const [a, b] = servers.map((s) => s.addr) as [string, string];
    let now = 1_000_000;
    const client = new ControlPlaneClient({ idleMs: 10_000, now: () => now });
    try {
      await client.ping(a, 5000);
      now += 9_999;
      await client.ping(b, 5000);
      assert.deepEqual(client.cachedAddresses(), [a, b], 'a idle 9,999 ms: kept');
      now += 1;
      await client.ping(b, 5000);
      assert.deepEqual(client.cachedAddresses(), [b], 'a idle 10,000 ms: dropped');
      // A dropped channel is simply rebuilt on the next call.
      assert.equal((await client.ping(a, 5000)).name, 'member-0');
      assert.deepEqual(client.cachedAddresses(), [b, a]);
    } finally {
      client.close();
      await Promise.all(servers.map((s) => s.server.close()));
    }
  });

  test('calls in flight keep their channel: the cache grows past maxChannels rather than cut them off', async () => {
    const held: grpc.sendUnaryData<unknown>[] = [];
    const slow = await startRawServer({ Ping: (_call: unknown, callback: grpc.sendUnaryData<unknown>) => held.push(callback) });
    const fast = await startTestServer();
    const client = new ControlPlaneClient({ maxChannels: 1 });
    try {
      const pending = client.ping(slow.addr, 10_000);
      while (held.length === 0) await new Promise((r) => setImmediate(r));
      await client.ping(fast.addr, 5000);
      assert.deepEqual(client.cachedAddresses(), [slow.addr, fast.addr]);
      held[0]?.(null, { name: 'slow', unixTimeMs: 5 });
      assert.equal((await pending).name, 'slow');
    } finally {
      client.close();
      slow.stop();
      await fast.server.close();
    }
  });
});

describe('control plane client: a pool sized to the cluster', () => {
  test('fan-outs over 200 peers reuse one channel per peer once the pool fits the cluster', async () => {
    const addrs = await closedAddresses(200);
    const fitted = new ControlPlaneClient();
    const fixed = new ControlPlaneClient();
    fitted.fitPeers(addrs.length);
    try {
      assert.ok(fitted.channelLimit() >= 200);
      for (let round = 0; round < 3; round++) {
        // A fan-out walks every peer in the same order, 8 calls at a time, as the claim announcements do.
        for (let i = 0; i < addrs.length; i += 8) {
          const slice = addrs.slice(i, i + 8);
          await Promise.allSettled(slice.map((a) => fitted.ping(a, 5000)));
          await Promise.allSettled(slice.map((a) => fixed.ping(a, 5000)));
        }
      }
      assert.equal(fitted.channelsOpened(), 200, 'one channel per peer, kept across rounds');
      assert.equal(fixed.channelsOpened(), 600, 'the fixed 64-channel pool reopens a channel on every call');
      fitted.fitPeers(3);
      assert.equal(fitted.channelLimit(), 64, 'never below the configured pool size');
    } finally {
      fitted.close();
      fixed.close();
    }
  });

  test('channelCeiling bounds the fitted pool; retainOnly closes the channels of departed peers', async () => {
    const addrs = await closedAddresses(4);
    const client = new ControlPlaneClient({ maxChannels: 2, channelCeiling: 100 });
    try {
      client.fitPeers(1000);
      assert.equal(client.channelLimit(), 100, 'never above the ceiling');
      client.fitPeers(0);
      assert.equal(client.channelLimit(), 8, 'empty cluster: the headroom, above maxChannels 2');
      await Promise.allSettled(addrs.map((a) => client.ping(a, 5000)));
      assert.deepEqual(client.cachedAddresses(), addrs);
      client.retainOnly(new Set([addrs[1] ?? '', addrs[3] ?? '']));
      assert.deepEqual(client.cachedAddresses(), [addrs[1], addrs[3]], 'channels of addresses not live are closed');
      assert.equal(client.channelsOpened(), 4);
    } finally {
      client.close();
    }
    const low = new ControlPlaneClient({ channelCeiling: 10 });
    assert.equal(low.channelLimit(), 10, 'a ceiling below the default pool size lowers it');
    low.close();
  });
});
