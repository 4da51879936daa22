import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { ControlPlaneCallError, ControlPlaneClient } from '../../src/grpc/client.js';
import { ControlPlaneError } from '../../src/grpc/errors.js';
import { startControlPlaneServer, type ControlPlaneServer } from '../../src/grpc/server.js';
import { decodeClaimRecord, encodeClaimRecord } from '../../src/ownership/canonical.js';
import { getLocalActorIds, grpcClaimTransport, ownershipExtraMethods, ownershipMethods } from '../../src/ownership/grpc.js';
import { ClaimService, type ClaimOptions } from '../../src/ownership/service.js';
import { realClock } from '../../src/shell/real-clock.js';
import type { ClaimRecord } from '../../src/ownership/types.js';
import { testClaimOptions } from './options.js';

const options: ClaimOptions = testClaimOptions({ maxClaimsPerMember: 2000, maxRecords: 5000 });

function rec(id: string, owner = 'b', claimedAtMs = 10): ClaimRecord {
  return { id, owner, ownerLifeId: 'LB', ownerIncarnation: 3, claimedAtMs, claimedAtLogical: 0, expiresAtMs: null, ttlMs: null, fence: BigInt(claimedAtMs) << 16n, released: false };
}

describe('ownership RPCs over gRPC', () => {
  let server: ControlPlaneServer;
  let addr = '';
  const client = new ControlPlaneClient({ sender: 'b' });
  const service = new ClaimService({
    timers: realClock,
    self: () => ({ name: 'a', lifeId: 'LA', incarnation: 1, serving: true }),
    peers: () => [],
    memberStatus: () => 'live',
    transport: grpcClaimTransport(client),
    options,
  });
  const rejects: string[] = [];

  before(async () => {
    server = await startControlPlaneServer({
      bind: '127.0.0.1:0',
      handlers: {
        negotiate: () => [],
        closing: () => undefined,
        ping: () => ({ name: 'a', members: 1, healthScore: 0, tableVersion: 'v' }),
      },
      extraMethods: ownershipExtraMethods({
        service,
        checkContext: (ctx) => {
          if (ctx.label !== '') throw new ControlPlaneError(status.PERMISSION_DENIED, 'label mismatch');
        },
        tableVersion: () => 'v1',
        defaultPageSize: 1000,
        onReject: (rpc, reason) => rejects.push(`${rpc}:${reason}`),
      }),
    });
    addr = `127.0.0.1:${server.port}`;
  });

  after(async () => {
    client.close();
    service.close();
    await server.close();
  });

  const self = { name: 'b', lifeId: 'LB', incarnation: 3, serving: true };
  const peer = () => ({ name: 'a', grpcAddr: addr });

  test('an announcement is recorded; a losing one is answered with the winner', async () => {
    const transport = grpcClaimTransport(client);
    const ack = await transport.announce(peer(), self, [rec('x'), rec('y')], 2000, Date.now());
    const { receiverWallMs, ...rest } = ack;
    assert.deepEqual(rest, { accepted: true, winners: [], relays: true });
    assert.ok(receiverWallMs !== undefined && Math.abs(receiverWallMs - Date.now()) < 60_000, 'the receiver sends its clock');
    assert.equal(service.store.get('x')?.owner, 'b');
    service.claim(['mine'], null);
    const lost = await transport.announce(peer(), self, [rec('mine', 'b', Date.now() + 5_000)], 2000, Date.now());
    assert.equal(lost.accepted, false);
    assert.equal(lost.winners[0]?.owner, 'a');
    const released = await transport.expire(peer(), self, [{ ...rec('x'), released: true }], 2000, Date.now());
    assert.equal(released.accepted, true);
    assert.equal(service.store.get('x'), undefined);
  });

  async function refusal(build: () => Promise<unknown>): Promise<ControlPlaneCallError> {
    try {
      await build();
    } catch (err) {
      assert.ok(err instanceof ControlPlaneCallError, String(err));
      return err;
    }
    assert.fail('expected a refusal');
  }

  const announceRaw = (claims: Buffer[], extra: Record<string, unknown> = {}) =>
    client.unary(
      ownershipMethods().AnnounceOwnership,
      addr,
      (header) => ({ header, owner: 'b', ownerIncarnation: '3', ownerLifeId: 'LB', claims, ...extra }),
      2000,
    );

  test('more claims than the bound are refused RESOURCE_EXHAUSTED before decoding', async () => {
    const many = Array.from({ length: 1025 }, (_, i) => Buffer.from(encodeClaimRecord(rec(`id-${i}`))));
    const err = await refusal(() => announceRaw(many));
    assert.equal(err.code, status.RESOURCE_EXHAUSTED);
  });

  test('malformed, foreign or empty claims are refused INVALID_ARGUMENT naming the field', async () => {
    const bad = await refusal(() => announceRaw([Buffer.from([1, 2, 3])]));
    assert.equal(bad.code, status.INVALID_ARGUMENT);
    assert.match(bad.message, /claims\[0\]/);
    const foreign = await refusal(() => announceRaw([Buffer.from(encodeClaimRecord(rec('z', 'c')))]));
    assert.equal(foreign.code, status.INVALID_ARGUMENT);
    assert.match(foreign.message, /not a claim of b/);
    const empty = await refusal(() => announceRaw([]));
    assert.equal(empty.code, status.INVALID_ARGUMENT);
    const legacy = await refusal(() => announceRaw([Buffer.from(encodeClaimRecord(rec('z')))], { ids: ['z'] }));
    assert.equal(legacy.code, status.INVALID_ARGUMENT);
    const released = await refusal(() => announceRaw([Buffer.from(encodeClaimRecord({ ...rec('z'), released: true }))]));
    assert.equal(released.code, status.INVALID_ARGUMENT);
    assert.ok(rejects.length >= 5);
  });

  test('a caller the context check refuses gets its status', async () => {
    const other = new ControlPlaneClient({ label: 'other' });
    try {
      const err = await refusal(() => getLocalActorIds(other, addr, 10, '', 2000));
      assert.equal(err.code, status.PERMISSION_DENIED);
    } finally {
      other.close();
    }
  });

  test('GetLocalActorIds pages and refuses a forged token', async () => {
    const page = await getLocalActorIds(client, addr, 0, '', 2000);
    assert.deepEqual(page.ids, ['mine']);
    assert.equal(page.tableVersion, 'v1');
    const err = await refusal(() => getLocalActorIds(client, addr, 10, '!!', 2000));
    assert.equal(err.code, status.INVALID_ARGUMENT);
  });

  test('decoded winners round-trip the canonical encoding', () => {
    const r = rec('w');
    const back = decodeClaimRecord(encodeClaimRecord(r));
    assert.ok(back.ok);
    assert.deepEqual(back.record, r);
  });
});
