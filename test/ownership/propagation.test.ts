// Claim announcements per peer: a hung peer delays only itself, its queue stays bounded (drop-oldest,
// counted), pending records coalesce, suspect peers are skipped. The last test runs over real gRPC
// on loopback, with a peer whose server accepts AnnounceOwnership and never answers.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { ControlPlaneClient } from '../../src/grpc/client.js';
import { controlPlaneDefinition } from '../../src/grpc/proto.js';
import { startControlPlaneServer } from '../../src/grpc/server.js';
import { grpcClaimTransport, ownershipExtraMethods } from '../../src/ownership/grpc.js';
import { Propagation, type PropagationPeer } from '../../src/ownership/propagation.js';
import { ClaimService, type ClaimOptions } from '../../src/ownership/service.js';
import { realClock } from '../../src/shell/real-clock.js';
import type { ClaimRecord } from '../../src/ownership/types.js';
import { waitFor } from '../support/poll.js';
import { testClaimOptions } from './options.js';

function rec(id: string, expiresAtMs: number | null = null, released = false): ClaimRecord {
  return { id, owner: 'a', ownerLifeId: 'LA', ownerIncarnation: 1, claimedAtMs: 10, claimedAtLogical: 0, expiresAtMs, ttlMs: expiresAtMs, fence: 10n << 16n, released };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('Propagation (per-peer queues)', () => {
  test('a peer that never answers does not delay the others; its queue stays bounded and drops are counted', async () => {
    const delivered = new Map<string, string[]>();
    const p = new Propagation({ concurrency: 2, maxPendingPerPeer: 5, maxPerCall: 3 }, (peer, records) => {
      if (peer.name === 'hung') return new Promise<void>(() => undefined);
      delivered.set(peer.name, [...(delivered.get(peer.name) ?? []), ...records.map((r) => r.id)]);
      return new Promise<void>((r) => setImmediate(r));
    });
    const peers: PropagationPeer[] = [
      { name: 'hung', grpcAddr: 'h:1' },
      { name: 'b', grpcAddr: 'b:1' },
    ];
    for (let i = 0; i < 20; i++) {
      p.enqueue(peers, [rec(`id${i}`)]);
      await tick();
    }
    for (let i = 0; i < 10 && p.pendingFor('b') > 0; i++) await tick();
    assert.deepEqual(delivered.get('b'), Array.from({ length: 20 }, (_, i) => `id${i}`), 'the healthy peer got every record, in order');
    assert.equal(delivered.has('hung'), false);
    // The hung peer took its first record into its (endless) call; 19 more queued behind a bound of 5.
    assert.equal(p.pendingFor('hung'), 5);
    assert.equal(p.counters.dropped, 14);
  });

  test('pending records coalesce by id: the newest record is sent once', async () => {
    const sent: ClaimRecord[][] = [];
    let release: () => void = () => undefined;
    const p = new Propagation({ concurrency: 4, maxPendingPerPeer: 100, maxPerCall: 100 }, (_peer, records) => {
      sent.push([...records]);
      return new Promise<void>((r) => (release = r));
    });
    const peers = [{ name: 'b', grpcAddr: 'b:1' }];
    p.enqueue(peers, [rec('first')]); // in flight
    p.enqueue(peers, [rec('x', 100)]);
    p.enqueue(peers, [rec('x', 200)]); // a renewal replaces it
    p.enqueue(peers, [rec('x', 150)]); // older than what waits: ignored
    p.enqueue(peers, [rec('x', 200, true)]); // the release replaces the renewal
    assert.equal(p.pendingFor('b'), 1);
    assert.equal(p.counters.coalesced, 2);
    release();
    await tick();
    await tick();
    assert.deepEqual(sent[1], [rec('x', 200, true)]);
  });

  test('peers queued first take the next call slots, ahead of peers already waiting', async () => {
    const order: string[] = [];
    const p = new Propagation({ concurrency: 1, maxPendingPerPeer: 10, maxPerCall: 10 }, (peer) => {
      order.push(peer.name);
      return new Promise<void>((r) => setImmediate(r));
    });
    const peers = ['a', 'b', 'c'].map((name): PropagationPeer => ({ name, grpcAddr: `${name}:1` }));
    p.enqueue(peers, [rec('x')]);
    p.enqueue([{ name: 'd', grpcAddr: 'd:1' }, { name: 'c', grpcAddr: 'c:1' }], [rec('y')], true);
    await p.idle();
    assert.deepEqual(order, ['a', 'd', 'c', 'b'], 'a was in flight; d and c jump the queue, b waits');
  });

  test('a suspect peer is not called; its queue is kept and sent once it is alive', async () => {
    const called: string[] = [];
    const p = new Propagation({ concurrency: 4, maxPendingPerPeer: 10, maxPerCall: 10 }, (peer) => {
      called.push(peer.name);
      return Promise.resolve();
    });
    p.enqueue([{ name: 'b', grpcAddr: 'b:1', suspect: true }], [rec('x')]);
    await tick();
    assert.deepEqual(called, []);
    assert.equal(p.pendingFor('b'), 1);
    p.setPeers([{ name: 'b', grpcAddr: 'b:1' }]);
    p.enqueue([{ name: 'b', grpcAddr: 'b:1' }], [rec('y')]);
    await tick();
    assert.deepEqual(called, ['b']);
    assert.equal(p.pendingFor('b'), 0);
    // A peer that leaves the view loses its queue, counted as dropped.
    p.enqueue([{ name: 'c', grpcAddr: 'c:1', suspect: true }], [rec('z')]);
    p.setPeers([]);
    assert.equal(p.pendingFor('c'), 0);
    assert.equal(p.counters.dropped, 1);
  });

  test('claims made while a call to a peer is in flight go to it in one call; its store agrees with the claimant\'s', async () => {
    // A peer that answers only when released: the claims of members a and c wait in their queues.
    const calls: { from: string; records: number }[] = [];
    const held: (() => void)[] = [];
    const receiver = new ClaimService({
      self: () => ({ name: 'b', lifeId: 'LB', incarnation: 1, serving: true }),
      peers: () => [],
      memberStatus: () => 'live',
      transport: { call: () => undefined },
      timers: realClock,
      options: testClaimOptions({ maxClaimsPerMember: 1000, maxRecords: 5000 }),
    });
    const claimant = (name: string): ClaimService =>
      new ClaimService({
        self: () => ({ name, lifeId: `L${name}`, incarnation: 1, serving: true }),
        peers: () => [{ name: 'b', grpcAddr: 'b:1' }],
        timers: realClock,
        memberStatus: () => 'live',
        transport: {
          call: (_kind, _peer, _self, records, _timeoutMs, _sentAtMs, answer) => {
            calls.push({ from: name, records: records.length });
            held.push(() => answer({ accepted: true, winners: receiver.receiveClaims(records).winners }));
          },
        },
        options: testClaimOptions({ maxClaimsPerMember: 1000, maxRecords: 5000, announceQueuePerPeer: 1024 }),
      });
    const a = claimant('a');
    const c = claimant('c');
    try {
      // Both claim "race" (a first, so a wins everywhere), then 200 ids each, one claim per window.
      for (const m of [a, c]) {
        assert.equal(m.claim(['race'])[0]?.status, 'claimed');
        m.flush();
      }
      for (let i = 0; i < 200; i++) {
        for (const m of [a, c]) {
          m.claim([`${m === a ? 'a' : 'c'}-${i}`]);
          m.flush();
        }
      }
      assert.deepEqual(calls, [{ from: 'a', records: 1 }, { from: 'c', records: 1 }], 'one call in flight per claimant and peer');
      while (held.length > 0) held.shift()?.();
      await a.drained();
      await c.drained();
      // 402 claims reached b in 4 calls, not 402: the 200 queued behind each call went as one.
      assert.deepEqual(calls.slice(2), [{ from: 'a', records: 200 }, { from: 'c', records: 200 }]);
      for (let i = 0; i < 200; i++) {
        assert.equal(receiver.store.get(`a-${i}`)?.owner, 'a');
        assert.equal(receiver.store.get(`c-${i}`)?.owner, 'c');
      }
      assert.equal(receiver.store.get('race')?.owner, 'a', 'the earlier claim wins, as it does one call per claim');
      assert.equal(a.propagation.counters.dropped + c.propagation.counters.dropped, 0);
    } finally {
      a.close();
      c.close();
      receiver.close();
    }
  });
});

const options: ClaimOptions = testClaimOptions({ maxClaimsPerMember: 1000, maxRecords: 5000, announceWindowMs: 1, announceQueuePerPeer: 8, rpcTimeoutMs: 600_000 });

describe('claim propagation over gRPC with a hung peer', () => {
  test('a healthy peer learns every claim while the hung peer\'s queue stays at its bound', async () => {
    // The hung peer: a real gRPC server that takes AnnounceOwnership calls and never answers them.
    const hungServer = new grpc.Server();
    let hungCalls = 0;
    hungServer.addService(controlPlaneDefinition(), {
      AnnounceOwnership: () => {
        hungCalls++;
      },
    });
    const hungPort = await new Promise<number>((resolve, reject) =>
      hungServer.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))),
    );
    const healthy = new ClaimService({
      timers: realClock,
      self: () => ({ name: 'b', lifeId: 'LB', incarnation: 1, serving: true }),
      peers: () => [],
      memberStatus: () => 'live',
      transport: grpcClaimTransport(new ControlPlaneClient()),
      options,
    });
    const healthyServer = await startControlPlaneServer({
      bind: '127.0.0.1:0',
      handlers: { negotiate: () => [], closing: () => undefined, ping: () => ({ name: 'b', members: 1, healthScore: 0, tableVersion: 'v' }) },
      extraMethods: ownershipExtraMethods({ service: healthy, checkContext: () => undefined, tableVersion: () => 'v', defaultPageSize: 100, onReject: () => undefined }),
    });
    const client = new ControlPlaneClient({ sender: 'a' });
    const peers = [
      { name: 'hung', grpcAddr: `127.0.0.1:${hungPort}` },
      { name: 'b', grpcAddr: `127.0.0.1:${healthyServer.port}` },
    ];
    const claimant = new ClaimService({
      timers: realClock,
      self: () => ({ name: 'a', lifeId: 'LA', incarnation: 1, serving: true }),
      peers: () => peers,
      memberStatus: () => 'live',
      transport: grpcClaimTransport(client),
      options,
    });
    try {
      const ids = Array.from({ length: 40 }, (_, i) => `cart-${i}`);
      for (const id of ids) {
        assert.equal(claimant.claim([id])[0]?.status, 'claimed');
        claimant.flush();
        await new Promise((r) => setTimeout(r, 2));
      }
      await waitFor('the healthy peer to know every claim', 20_000, async () => ids.every((id) => healthy.store.get(id)?.owner === 'a'));
      await waitFor('the hung peer to hold a call', 20_000, async () => hungCalls === 1);
      assert.equal(claimant.propagation.pendingFor('b'), 0);
      assert.equal(claimant.propagation.pendingFor('hung'), options.announceQueuePerPeer, 'the hung peer\'s queue is at its bound');
      // 40 claims: one rode the hung call, 8 wait, the rest were dropped (oldest first).
      assert.equal(claimant.propagation.counters.dropped, 40 - 1 - options.announceQueuePerPeer);
      assert.equal(claimant.counters.announcementsFailed, 0);
    } finally {
      claimant.close();
      healthy.close();
      client.close();
      hungServer.forceShutdown();
      await healthyServer.close();
    }
  });
});
