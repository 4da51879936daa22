// The gossip socket cannot die silently (src/transport/udp.ts): an injected socket error reopens it on
// the same address with a bounded backoff; a reopen that keeps failing is retried, and /livez fails once
// the member has not been receiving for the bound; the failures and reopens are counted in /metrics.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket, type SocketType } from 'node:dgram';
import { pino } from 'pino';
import { wireMetrics } from '../../src/cli/agent.js';
import { buildOpsApi } from '../../src/http/index.js';
import { createMetrics } from '../../src/metrics.js';
import { Agent } from '../../src/runtime/agent.js';
import { loopbackAgentOptions } from '../support/loopback-agent.js';
import { startUdpTransport, type PacketTransport } from '../../src/transport/udp.js';
import { metricValue, waitFor } from '../support/poll.js';

/** A socket factory that keeps every socket it made, so a test can make one fail as the OS would. */
function recordingFactory(): { make: (type: SocketType) => Socket; sockets: Socket[] } {
  const sockets: Socket[] = [];
  return {
    sockets,
    make: (type) => {
      const s = createSocket({ type, reuseAddr: false });
      sockets.push(s);
      return s;
    },
  };
}

function portOf(address: string): number {
  return Number(address.slice(address.lastIndexOf(':') + 1));
}

async function sendTo(port: number, text: string): Promise<void> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve, reject) => s.send(Buffer.from(text), port, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
  s.close();
}

describe('the UDP transport reopens a failed socket', () => {
  const open: PacketTransport[] = [];
  after(async () => {
    await Promise.all(open.map((t) => t.close()));
  });

  test('an error on the socket: reopened on the same port, receiving again, counted once each', async () => {
    const factory = recordingFactory();
    const received: string[] = [];
    const errors: string[] = [];
    const reopened: number[] = [];
    const t = await startUdpTransport({
      bind: '127.0.0.1:0',
      onPacket: (_from, bytes) => received.push(Buffer.from(bytes).toString()),
      onReceiveError: (err) => errors.push(err.message),
      onReopened: (attempts) => reopened.push(attempts),
      createSocket: factory.make,
    });
    open.push(t);
    const port = portOf(t.localAddress);
    await sendTo(port, 'before');
    await waitFor('the first datagram', 5000, async () => received.includes('before'));

    factory.sockets[0]?.emit('error', new Error('injected EIO'));
    // The receive loop sees the error when its pending recv() rejects, a microtask later.
    await Promise.resolve();
    assert.equal(t.health().receiving, false);
    assert.match(t.health().lastError ?? '', /injected EIO/);
    await waitFor('the reopen', 5000, async () => reopened.length === 1);
    assert.deepEqual(t.health(), { receiving: true, downSince: null, lastError: 'injected EIO' });
    assert.equal(factory.sockets.length, 2);
    assert.equal(portOf(t.localAddress), port);

    await sendTo(port, 'after');
    await waitFor('a datagram after the reopen', 5000, async () => received.includes('after'));
    assert.deepEqual(errors, ['injected EIO']);
    assert.deepEqual(reopened, [1]);
  });

  test('a reopen that fails (the port taken meanwhile) is retried with a growing, bounded delay until it succeeds', async () => {
    const factory = recordingFactory();
    const retries: number[] = [];
    const t = await startUdpTransport({
      bind: '127.0.0.1:0',
      onPacket: () => undefined,
      onReceiveError: (_err, retryInMs) => retries.push(retryInMs),
      reopenBackoff: { initialMs: 10, maxMs: 40 },
      createSocket: factory.make,
    });
    open.push(t);
    const port = portOf(t.localAddress);
    factory.sockets[0]?.emit('error', new Error('injected'));
    const blocker = createSocket({ type: 'udp4', reuseAddr: false });
    await new Promise<void>((resolve) => blocker.bind(port, '127.0.0.1', resolve));
    await waitFor('five failed reopens', 5000, async () => retries.length >= 6);
    assert.equal(t.health().receiving, false);
    assert.ok(t.health().downSince !== null);
    assert.match(t.health().lastError ?? '', /EADDRINUSE/);
    assert.deepEqual(retries.slice(0, 5), [10, 20, 40, 40, 40]);
    await new Promise<void>((resolve) => blocker.close(resolve));
    await waitFor('the reopen once the port is free', 5000, async () => t.health().receiving);
  });
});

describe('a running member whose gossip socket fails', () => {
  const logger = pino({ level: 'silent' });
  const agents: Agent[] = [];
  after(async () => {
    await Promise.all(agents.map((a) => a.close()));
  });

  function member(name: string, seeds: string[], createSocket?: (type: SocketType) => Socket): Agent {
    const a = new Agent(
      loopbackAgentOptions(name, logger, {
        seeds,
        bootstrap: false,
        shards: 1024,
        settleMs: 100,
        leaveTimeoutMs: 500,
        joinRetryMaxMs: 500,
        appCheck: { intervalMs: 1000, timeoutMs: 500, failureThreshold: 1, successThreshold: 1 },
        receiveDownLimitMs: 300,
        ...(createSocket ? { udpSocketFactory: createSocket } : {}),
      }),
    );
    agents.push(a);
    return a;
  }

  test('is reopened and hears its peer again; a socket that cannot be reopened fails /livez, which recovers with it; /metrics counts both', async () => {
    const factory = recordingFactory();
    const a = member('a', [], factory.make);
    await a.start();
    const b = member('b', [a.grpcAddr]);
    await b.start();
    const metrics = createMetrics({ defaultMetrics: false });
    wireMetrics(a, metrics);
    const ops = buildOpsApi(a, metrics, { logger });
    await waitFor('b alive on a', 10_000, async () => a.members().members.some((m) => m.name === 'b' && m.state === 'alive'));

    factory.sockets[0]?.emit('error', new Error('injected EIO'));
    await waitFor('the reopen', 5000, async () => a.stats.udpReopens === 1);
    const heard = a.stats.packetsIn;
    await waitFor('packets from b after the reopen', 10_000, async () => a.stats.packetsIn > heard);
    assert.equal((await ops.inject({ method: 'GET', url: '/livez' })).statusCode, 200);

    // The port taken while the socket is down: the reopen keeps failing and /livez says so.
    const port = portOf(a.gossipAddr);
    factory.sockets[1]?.emit('error', new Error('injected again'));
    const blocker = createSocket({ type: 'udp4', reuseAddr: false });
    await new Promise<void>((resolve) => blocker.bind(port, '127.0.0.1', resolve));
    const down = await waitFor('/livez failing', 10_000, async () => {
      const r = await ops.inject({ method: 'GET', url: '/livez' });
      return r.statusCode === 503 ? r.json<{ reasons: string[] }>() : undefined;
    });
    assert.match(down.reasons.join(), /gossip socket not receiving for \d+ ms \(reopen failing: .*EADDRINUSE/);
    await new Promise<void>((resolve) => blocker.close(resolve));
    await waitFor('/livez back', 10_000, async () => (await ops.inject({ method: 'GET', url: '/livez' })).statusCode === 200);

    const text = await metrics.render();
    assert.equal(metricValue(text, 'swimring_udp_socket_reopens_total'), 2);
    assert.ok(metricValue(text, 'swimring_udp_receive_errors_total') >= 3, text);
    await ops.close();
    // b never had to give a up for good.
    await waitFor('a alive on b', 10_000, async () => b.members().members.some((m) => m.name === 'a' && m.state === 'alive'));
  });
});
