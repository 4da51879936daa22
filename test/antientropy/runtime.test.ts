// AntiEntropy.round over real gRPC: a peer with the digest RPCs is synced; a peer without them (an
// older member) answers UNIMPLEMENTED and the round says "fall back to Negotiate" (null).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { AntiEntropy } from '../../src/antientropy/runtime.js';
import { ControlPlaneClient } from '../../src/grpc/client.js';
import { DEFAULT_LIMITS } from '../../src/grpc/limits.js';
import { startControlPlaneServer, type ControlPlaneServer } from '../../src/grpc/server.js';
import type { MemberRecord } from '../../src/core/types.js';
import { claim, FakeClaimStore, member } from './fakes.js';

const logger = pino({ level: 'silent' });
const handlers = { negotiate: () => [], closing: () => {}, ping: () => ({ name: 'x', members: 0, healthScore: 0, tableVersion: '' }) };

function antiEntropy(client: ControlPlaneClient, records: MemberRecord[], merged: MemberRecord[][]): AntiEntropy {
  return new AntiEntropy({
    mode: 'digest',
    client,
    limits: DEFAULT_LIMITS,
    rpcTimeoutMs: 5000,
    memberState: () => records,
    mergeMembers: (r) => merged.push([...r]),
    checkContext: () => {},
    onReject: () => {},
    logger,
  });
}

describe('AntiEntropy.round', () => {
  const client = new ControlPlaneClient({ sender: 'tester' });
  let withDigest: ControlPlaneServer;
  let without: ControlPlaneServer;
  const serverMerged: MemberRecord[][] = [];
  const serverClaims = new FakeClaimStore();
  const serverRecords = [member('a', 1), member('b', 3)];

  before(async () => {
    const side = antiEntropy(client, serverRecords, serverMerged);
    side.attachClaims(serverClaims);
    serverClaims.merge([claim('on-server', 'a', 5)]);
    withDigest = await startControlPlaneServer({ bind: '127.0.0.1:0', handlers, extraMethods: side.serverMethods() });
    without = await startControlPlaneServer({ bind: '127.0.0.1:0', handlers });
  });

  after(async () => {
    client.close();
    await Promise.all([withDigest.close(), without.close()]);
  });

  test('swaps only what differs: records for the core, claims into the store, both ways', async () => {
    const localClaims = new FakeClaimStore();
    localClaims.merge([claim('on-client', 'b', 6)]);
    const ae = antiEntropy(client, [member('a', 1), member('b', 2), member('c', 1)], []);
    ae.attachClaims(localClaims);
    const records = await ae.round(`127.0.0.1:${withDigest.port}`);
    assert.ok(records !== null);
    assert.deepEqual(records.map((r) => `${r.name}@${r.incarnation}`).sort(), ['b@3']);
    assert.ok(localClaims.get('on-server'), 'the server claim reached the caller');
    assert.ok(serverClaims.get('on-client'), 'the caller claim reached the server');
    assert.deepEqual(serverMerged.flat().map((r) => `${r.name}@${r.incarnation}`).sort(), ['b@2', 'c@1']);
    assert.equal(ae.stats.rounds, 1);
    assert.ok(ae.stats.wire.sent > 0 && ae.stats.wire.received > 0);
  });

  test('a peer without the digest RPCs: null (Negotiate instead), counted as a fallback', async () => {
    const ae = antiEntropy(client, [member('a', 1)], []);
    assert.equal(await ae.round(`127.0.0.1:${without.port}`), null);
    assert.equal(ae.stats.fallbacks, 1);
    assert.equal(ae.stats.failures, 0);
  });

  test('an unreachable peer fails the round (the core treats it as a failed Negotiate)', async () => {
    const ae = antiEntropy(client, [member('a', 1)], []);
    await assert.rejects(ae.round('127.0.0.1:1'));
    assert.equal(ae.stats.failures, 1);
  });
});
