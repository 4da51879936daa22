// A rolling upgrade from the release that reads version 1 claim records only: every record a newer
// member sends it (announcements, expiries, acks, digest entries both ways) must be one it reads, or
// it refuses the whole request and the two sides keep different owners for the same ids.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import pino from 'pino';
import { AntiEntropy } from '../../src/antientropy/runtime.js';
import { digestServerMethods } from '../../src/antientropy/grpc.js';
import { digestMethods } from '../../src/antientropy/wire.js';
import { ControlPlaneCallError, ControlPlaneClient } from '../../src/grpc/client.js';
import type { Decoded } from '../../src/grpc/decode.js';
import type { FetchEntriesRequest__Output } from '../../src/grpc/generated/swimring/v1/FetchEntriesRequest.js';
import type { OwnershipAnnouncement__Output } from '../../src/grpc/generated/swimring/v1/OwnershipAnnouncement.js';
import { DEFAULT_LIMITS } from '../../src/grpc/limits.js';
import { startControlPlaneServer, type ControlPlaneServer } from '../../src/grpc/server.js';
import type { ExtraMethods } from '../../src/grpc/service.js';
import { decodeClaimRecord, encodeClaimRecord } from '../../src/ownership/canonical.js';
import { grpcClaimTransport, ownershipExtraMethods, ownershipMethods } from '../../src/ownership/grpc.js';
import { PeerRecordVersions, refusedForRecordVersion } from '../../src/ownership/record-versions.js';
import { ClaimService } from '../../src/ownership/service.js';
import { realClock } from '../../src/shell/real-clock.js';
import { compareSameSlot, type ClaimRecord } from '../../src/ownership/types.js';
import { claim, fakeMember, FakeClaimStore, member } from '../antientropy/fakes.js';
import { decodeAsPreviousRelease, type V1Record } from '../support/claim-record-v1.js';
import { testClaimOptions } from './options.js';

const handlers = { negotiate: () => [], closing: () => {}, ping: () => ({ name: 'old', members: 1, healthScore: 0, tableVersion: '' }) };

/** A version 2 record using every field version 1 lacks: a logical counter, a re-issued fence and a TTL. */
function v2Record(id: string, owner = 'new', released = false): ClaimRecord {
  return { id, owner, ownerLifeId: 'L-new', ownerIncarnation: 7, claimedAtMs: 1_700_000_000_000, claimedAtLogical: 5, expiresAtMs: 1_700_000_060_000, ttlMs: 30_000, fence: 987_654_321_000n, released };
}

/** The previous release's view of a record: the fields it has. */
function asV1(r: ClaimRecord): V1Record {
  return { id: r.id, owner: r.owner, ownerLifeId: r.ownerLifeId, ownerIncarnation: r.ownerIncarnation, claimedAtMs: r.claimedAtMs, expiresAtMs: r.expiresAtMs, released: r.released };
}

function readAll(list: readonly Buffer[], field: string): V1Record[] | string {
  const out: V1Record[] = [];
  for (let i = 0; i < list.length; i++) {
    const d = decodeAsPreviousRelease(list[i] ?? Buffer.alloc(0));
    if (!d.ok) return `${field}[${i}]: ${d.reason}`;
    out.push(d.record);
  }
  return out;
}

describe('claim records across a rolling upgrade', () => {
  test('version 1 bytes of a version 2 record are what the previous release reads; version 2 bytes it refuses', () => {
    const r = v2Record('cart-1');
    const old = decodeAsPreviousRelease(encodeClaimRecord(r, 1));
    assert.ok(old.ok);
    assert.deepEqual(old.record, asV1(r));
    assert.deepEqual(decodeAsPreviousRelease(encodeClaimRecord(r)), { ok: false, reason: 'unknown claim encoding version' });
    const back = decodeClaimRecord(encodeClaimRecord(r, 1));
    assert.ok(back.ok, 'this release reads version 1 too');
    assert.equal(back.record.ttlMs, 60_000, 'derived: first claim to expiry');
    assert.deepEqual(decodeClaimRecord(encodeClaimRecord(r)), { ok: true, record: r });
  });

  test('the original record supersedes its version 1 copy, whichever arrives first', () => {
    for (const original of [v2Record('x'), { ...v2Record('x'), claimedAtLogical: 0, fence: BigInt(v2Record('x').claimedAtMs) << 16n }]) {
      const copy = decodeClaimRecord(encodeClaimRecord(original, 1));
      assert.ok(copy.ok);
      assert.ok(compareSameSlot(original, copy.record) > 0);
      assert.ok(compareSameSlot(copy.record, original) < 0);
      const store = new FakeClaimStore();
      store.merge([copy.record]);
      store.merge([original]);
      assert.deepEqual(store.get('x'), original, 'so members that saw either end with the same bytes to hash');
    }
  });

  test('the refusals that mean "reads version 1 only", and others that do not', () => {
    const refusal = (code: grpc.status, details: string) => new ControlPlaneCallError('AnnounceOwnership', '127.0.0.1:1', code, `AnnounceOwnership to 127.0.0.1:1 failed: ${details}`);
    assert.ok(refusedForRecordVersion(refusal(grpc.status.INVALID_ARGUMENT, 'INVALID_ARGUMENT: claims[0]: unknown claim encoding version')));
    assert.ok(refusedForRecordVersion(refusal(grpc.status.INVALID_ARGUMENT, 'INVALID_ARGUMENT: releases[3]: 830 bytes, limit 812')), 'a record over that release\'s size bound');
    assert.ok(!refusedForRecordVersion(refusal(grpc.status.INVALID_ARGUMENT, 'INVALID_ARGUMENT: claims[0]: not a claim of b (life L)')));
    assert.ok(!refusedForRecordVersion(refusal(grpc.status.UNAVAILABLE, 'UNAVAILABLE: unknown claim encoding version')));
    assert.ok(!refusedForRecordVersion(new Error('unknown claim encoding version')));
  });

  describe('announcing to a member of the previous release', () => {
    let oldMember: ControlPlaneServer;
    const client = new ControlPlaneClient({ sender: 'new' });
    const received: V1Record[] = [];
    let calls = 0;

    /** AnnounceOwnership / AnnounceExpiry as that release answers them: any record it cannot read refuses the request. */
    function oldHandler(field: 'claims' | 'releases'): grpc.UntypedHandleCall {
      return (call: grpc.ServerUnaryCall<Decoded<OwnershipAnnouncement__Output & { releases?: Buffer[] }>, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        calls++;
        const req = call.request;
        if (!req.ok) return callback({ code: grpc.status.INVALID_ARGUMENT, details: req.rejection.message });
        const records = readAll((field === 'claims' ? req.value.claims : req.value.releases) ?? [], field);
        if (typeof records === 'string') return callback({ code: grpc.status.INVALID_ARGUMENT, details: records });
        received.push(...records);
        callback(null, { accepted: true, conflicts: [] });
      };
    }

    before(async () => {
      const m = ownershipMethods();
      const extraMethods: ExtraMethods = {
        AnnounceOwnership: { requestDeserialize: m.AnnounceOwnership.requestDeserialize, handler: oldHandler('claims') },
        AnnounceExpiry: { requestDeserialize: m.AnnounceExpiry.requestDeserialize, handler: oldHandler('releases') },
      };
      oldMember = await startControlPlaneServer({ bind: '127.0.0.1:0', handlers, extraMethods });
    });
    after(async () => {
      client.close();
      await oldMember.close();
    });

    test('claims and releases reach it in version 1; after its first refusal, version 1 straight away', async () => {
      let now = 0;
      const versions = new PeerRecordVersions(() => now);
      const transport = grpcClaimTransport(client, versions);
      const peer = { name: 'old', grpcAddr: `127.0.0.1:${oldMember.port}` };
      const self = { name: 'new', lifeId: 'L-new', incarnation: 7, serving: true };
      const ack = await transport.announce(peer, self, [v2Record('a'), v2Record('b')], 5000, Date.now());
      assert.equal(ack.accepted, true);
      assert.equal(calls, 2, 'one refusal of version 2, then version 1');
      assert.equal(versions.oldReaderCount(), 1);
      const gone = await transport.expire(peer, self, [v2Record('a', 'new', true)], 5000, Date.now());
      assert.equal(gone.accepted, true);
      assert.equal(calls, 3, 'the peer is known to read version 1: no second refusal');
      assert.deepEqual(received, [asV1(v2Record('a')), asV1(v2Record('b')), asV1(v2Record('a', 'new', true))]);
      now += 10 * 60_000;
      await transport.announce(peer, self, [v2Record('c')], 5000, Date.now());
      assert.equal(calls, 5, 'the memory lapses (a peer upgraded in place gets version 2 again)');
    });
  });

  describe('answering a member of the previous release', () => {
    let newMember: ControlPlaneServer;
    const client = new ControlPlaneClient({ sender: 'old' });
    const service = new ClaimService({
      timers: realClock,
      self: () => ({ name: 'new', lifeId: 'L-new', incarnation: 7, serving: true }),
      peers: () => [],
      memberStatus: () => 'live',
      transport: grpcClaimTransport(client),
      options: testClaimOptions({}),
    });

    before(async () => {
      newMember = await startControlPlaneServer({
        bind: '127.0.0.1:0',
        handlers,
        extraMethods: ownershipExtraMethods({ service, checkContext: () => {}, tableVersion: () => 'v', defaultPageSize: 100 }),
      });
    });
    after(async () => {
      client.close();
      service.close();
      await newMember.close();
    });

    test('the winner in an ack is in the version the caller reads', async () => {
      service.claim(['taken'], null);
      const lateClaim: ClaimRecord = { ...v2Record('taken', 'old'), ownerLifeId: 'L-old', claimedAtMs: Date.now() + 5_000, claimedAtLogical: 0, fence: BigInt(Date.now() + 5_000) << 16n };
      const announce = (claimRecordVersion: number | undefined) =>
        client.unary(
          ownershipMethods().AnnounceOwnership,
          `127.0.0.1:${newMember.port}`,
          (header) => ({
            header: claimRecordVersion === undefined ? { ...header, claimRecordVersion: 0 } : header,
            owner: 'old',
            ownerIncarnation: '7',
            ownerLifeId: 'L-old',
            claims: [Buffer.from(encodeClaimRecord(lateClaim, 1))],
          }),
          5000,
        );
      const toOld = await announce(undefined);
      assert.equal(toOld.accepted, false);
      const winner = decodeAsPreviousRelease(toOld.conflicts[0]?.winner ?? Buffer.alloc(0));
      assert.ok(winner.ok, 'a caller without claim_record_version reads the winner');
      assert.equal(winner.record.owner, 'new');
      const toNew = await announce(2);
      assert.equal(toNew.conflicts[0]?.winner[0], 2, 'a caller that reads version 2 gets version 2');
    });
  });

  describe('digest anti-entropy with a member of the previous release', () => {
    const client = new ControlPlaneClient({ sender: 'new' });
    const old = fakeMember();
    let oldMember: ControlPlaneServer;
    let newMember: ControlPlaneServer;
    const newSide = fakeMember({ claimLeaves: 16 });

    before(async () => {
      old.claims.merge([claim('on-old', 'o', 5)]);
      const served = digestServerMethods({ responder: old.responder, limits: DEFAULT_LIMITS, checkContext: () => {}, onReject: () => {} });
      const fetch = served['FetchEntries'];
      assert.ok(fetch);
      // As that release answers FetchEntries: a record it cannot read refuses the request.
      const oldFetch: grpc.UntypedHandleCall = (call: grpc.ServerUnaryCall<Decoded<FetchEntriesRequest__Output>, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        const req = call.request;
        const unreadable = req.ok ? readAll(req.value.claims, 'claims') : null;
        if (typeof unreadable === 'string') return callback({ code: grpc.status.INVALID_ARGUMENT, details: `claims: ${unreadable}` });
        (fetch.handler as grpc.handleUnaryCall<unknown, unknown>)(call, callback);
      };
      oldMember = await startControlPlaneServer({ bind: '127.0.0.1:0', handlers, extraMethods: { ...served, FetchEntries: { ...fetch, handler: oldFetch } } });
      newSide.claims.merge([v2Record('on-new')]);
      newMember = await startControlPlaneServer({
        bind: '127.0.0.1:0',
        handlers,
        extraMethods: digestServerMethods({ responder: newSide.responder, limits: DEFAULT_LIMITS, checkContext: () => {}, onReject: () => {} }),
      });
    });
    after(async () => {
      client.close();
      await Promise.all([oldMember.close(), newMember.close()]);
    });

    test('a newer caller sends its entries in version 1 after the refusal, and the round completes', async () => {
      const store = new FakeClaimStore();
      store.merge([v2Record('from-new')]);
      const ae = new AntiEntropy({
        mode: 'digest',
        client,
        limits: DEFAULT_LIMITS,
        rpcTimeoutMs: 5000,
        memberState: () => [member('new', 1)],
        mergeMembers: () => {},
        checkContext: () => {},
        onReject: () => {},
        logger: pino({ level: 'silent' }),
      });
      ae.attachClaims(store);
      await ae.round(`127.0.0.1:${oldMember.port}`);
      assert.equal(ae.stats.failures, 0);
      assert.ok(store.get('on-old'), 'its record reached the newer member');
      assert.deepEqual(old.claims.get('from-new'), { ...v2Record('from-new'), claimedAtLogical: 0, ttlMs: 60_000, fence: BigInt(v2Record('from-new').claimedAtMs) << 16n }, 'the newer record reached it, as version 1 carries it');
      ae.close();
    });

    test('an older caller gets the entries it asked for in version 1', async () => {
      const reply = await client.unary(
        digestMethods(DEFAULT_LIMITS).FetchEntries,
        `127.0.0.1:${newMember.port}`,
        (header) => ({ header: { ...header, claimRecordVersion: 0 }, tree: 'DIGEST_TREE_CLAIMS' as const, buckets: Array.from({ length: 16 }, (_, i) => i), members: [], claims: [] }),
        5000,
      );
      const records = readAll(reply.claims, 'claims');
      assert.deepEqual(records, [asV1(v2Record('on-new'))]);
    });
  });
});
