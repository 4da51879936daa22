// Hostile gRPC input beyond the fixed cases of server.test.ts: random bytes as every request, random
// protobuf-shaped requests, Closing for members nobody knows, and the Negotiate rate limit. The
// server answers each with a client-error status (never INTERNAL, never a crash) and serves on.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import fc from 'fast-check';
import { ControlPlaneClient } from '../../src/grpc/client.js';
import { RETRY_AFTER_METADATA } from '../../src/grpc/errors.js';
import { NegotiateRateLimiter, peerHost } from '../../src/grpc/rate-limit.js';
import { encodeRequest, member, rawCall, startTestServer, type TestServer } from './helpers.js';

const CLIENT_ERRORS = new Set([grpc.status.INVALID_ARGUMENT, grpc.status.RESOURCE_EXHAUSTED, grpc.status.FAILED_PRECONDITION]);

describe('control plane: hostile requests', () => {
  let t: TestServer;
  let client: ControlPlaneClient;
  before(async () => {
    t = await startTestServer();
    client = new ControlPlaneClient();
  });
  after(async () => {
    client.close();
    await t.server.close();
  });

  test('random bytes as Negotiate, Closing and Ping: a client-error status or a valid call, never INTERNAL', async () => {
    const samples = fc.sample(fc.tuple(fc.constantFrom('Negotiate', 'Closing', 'Ping'), fc.uint8Array({ maxLength: 2048 })), { numRuns: 60, seed: 6 });
    const codes = new Map<string, number>();
    for (const [method, body] of samples) {
      const { err } = await rawCall(t.addr, method, Buffer.from(body));
      const code = err === null ? 'OK' : grpc.status[err.code];
      codes.set(code ?? '?', (codes.get(code ?? '?') ?? 0) + 1);
      if (err !== null) assert.ok(CLIENT_ERRORS.has(err.code), `${method}: ${grpc.status[err.code]} ${err.details}`);
    }
    assert.ok((codes.get('INVALID_ARGUMENT') ?? 0) > 0, JSON.stringify([...codes]));
    assert.ok(!t.recorded.rejections.some((r) => r.reason === 'internal'));
    assert.equal((await client.ping(t.addr, 5000)).name, 'member-0');
  });

  test('protobuf-shaped Negotiates with out-of-bounds fields are refused naming the field', async () => {
    const record = fc.record({
      name: fc.string({ maxLength: 300 }),
      lifeId: fc.string({ maxLength: 300 }),
      incarnation: fc.oneof(fc.constant('18446744073709551615'), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map(String)),
      state: fc.constantFrom('MEMBER_STATE_ALIVE', 'MEMBER_STATE_SUSPECT', 'MEMBER_STATE_DEAD', 'MEMBER_STATE_LEFT', 'MEMBER_STATE_UNSPECIFIED'),
      gossipAddr: fc.string({ maxLength: 300 }),
      grpcAddr: fc.string({ maxLength: 300 }),
    });
    const samples = fc.sample(fc.array(record, { maxLength: 5 }), { numRuns: 50, seed: 7 });
    let refused = 0;
    for (const members of samples) {
      const { err } = await rawCall(t.addr, 'Negotiate', encodeRequest('Negotiate', { members }));
      if (err === null) continue;
      refused++;
      assert.ok(CLIENT_ERRORS.has(err.code), `${grpc.status[err.code]} ${err.details}`);
      assert.match(err.details, /^members\[\d+\]|^members:/, 'the message names the field');
    }
    assert.ok(refused > 25, `most random records are invalid (${refused} of ${samples.length} refused)`);
  });

  test('Closing for members nobody knows reaches the handler validated, and the server serves on', async () => {
    const before = t.recorded.closings.length;
    for (let i = 0; i < 50; i++) await client.closing(t.addr, `stranger-${i}`, i, 5000);
    assert.equal(t.recorded.closings.length - before, 50);
    assert.deepEqual(await client.negotiate(t.addr, [member(1)], false, 5000), [member(0)]);
  });
});

describe('Negotiate rate limit', () => {
  test('token buckets: a burst per caller, then its rate; a shared bucket over all callers', () => {
    const limiter = new NegotiateRateLimiter({ perPeerPerSecond: 2, perPeerBurst: 3, globalPerSecond: 1, globalBurst: 5 }, 0);
    assert.deepEqual([1, 2, 3].map(() => limiter.take('10.0.0.1', 0).ok), [true, true, true]);
    const refused = limiter.take('10.0.0.1', 0);
    assert.deepEqual(refused, { ok: false, scope: 'peer', retryAfterMs: 500 });
    assert.equal(limiter.take('10.0.0.1', 499).ok, false);
    assert.equal(limiter.take('10.0.0.1', 500).ok, true, 'one token back after 1 / rate');
    // Global: 4 taken so far; one more from another caller, then the shared bucket is dry.
    assert.equal(limiter.take('10.0.0.2', 500).ok, true);
    const dry = limiter.take('10.0.0.3', 500);
    assert.equal(dry.ok, false);
    assert.equal(!dry.ok && dry.scope, 'global');
  });

  test('the caller table stays bounded: the longest idle caller is forgotten', () => {
    const limiter = new NegotiateRateLimiter({ maxPeers: 100, globalBurst: 1e9, globalPerSecond: 1e9 }, 0);
    for (let i = 0; i < 10_000; i++) limiter.take(`10.0.${i >> 8}.${i & 255}`, i);
    assert.equal(limiter.trackedPeers, 100);
  });

  test('a refused call costs no token, and a clock stepping back adds none', () => {
    const limiter = new NegotiateRateLimiter({ perPeerPerSecond: 1, perPeerBurst: 1, globalPerSecond: 1, globalBurst: 1 }, 1000);
    assert.equal(limiter.take('a', 1000).ok, true);
    assert.equal(limiter.take('a', 0).ok, false);
    assert.equal(limiter.take('a', 1999).ok, false);
    assert.equal(limiter.take('a', 2000).ok, true);
  });

  test('peerHost reads the host of grpc-js peer strings', () => {
    assert.equal(peerHost('ipv4:10.0.0.1:5000'), '10.0.0.1');
    assert.equal(peerHost('10.0.0.1:5000'), '10.0.0.1');
    assert.equal(peerHost('ipv6:[::1]:5000'), '::1');
    assert.equal(peerHost('[fe80::1]:5000'), 'fe80::1');
    assert.equal(peerHost('unix:/tmp/s'), '/tmp/s');
  });

  test('over the limit: RESOURCE_EXHAUSTED with the wait in trailing metadata, counted as rate-limited', async () => {
    const t = await startTestServer({ negotiateRate: new NegotiateRateLimiter({ perPeerPerSecond: 1, perPeerBurst: 2 }) });
    try {
      const body = encodeRequest('Negotiate', { members: [] });
      assert.equal((await rawCall(t.addr, 'Negotiate', body)).err, null);
      assert.equal((await rawCall(t.addr, 'Negotiate', body)).err, null);
      const { err } = await rawCall(t.addr, 'Negotiate', body);
      assert.equal(err?.code, grpc.status.RESOURCE_EXHAUSTED);
      assert.match(err?.details ?? '', /too many Negotiates \(peer limit\): retry after \d+ ms/);
      const wait = Number(err?.metadata.get(RETRY_AFTER_METADATA)[0]);
      assert.ok(wait > 0 && wait <= 1000, `retry after ${wait} ms`);
      assert.equal(t.recorded.rejections.at(-1)?.reason, 'rate-limited');
      assert.equal(t.recorded.negotiations.length, 2, 'the handler never saw the refused call');
      // Other RPCs are not limited.
      assert.equal((await rawCall(t.addr, 'Ping', encodeRequest('Ping', {}))).err, null);
    } finally {
      await t.server.close();
    }
  });
});
