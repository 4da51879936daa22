// Claim capacity: bounded per member (live claims and releases), the records kept of others scaled with
// the member count, releases compacted, a clear error when a bound is reached, and a member's own
// claims never refused because the others filled the store.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { ControlPlaneClient } from '../../src/grpc/client.js';
import { buildAppApi } from '../../src/http/index.js';
import { createMetrics } from '../../src/metrics.js';
import { AgentClaims } from '../../src/ownership/agent-claims.js';
import { agentClaimsOptions, DEFAULT_CLAIM_CONFIG } from '../../src/ownership/config.js';
import { packStamp } from '../../src/ownership/hlc.js';
import { ClaimService, type ClaimOptions, type Peer } from '../../src/ownership/service.js';
import { realClock } from '../../src/shell/real-clock.js';
import type { ClaimRecord } from '../../src/ownership/types.js';
import { FakeView } from '../http/fake-view.js';
import { testClaimOptions } from './options.js';
import { memberRecord } from '../support/member-record.js';

const options: ClaimOptions = testClaimOptions({ maxClaimsPerMember: 50, maxReleasesPerMember: 20, maxRecords: 1_000_000 });

const WALL = 1_800_000_000_000;

function service(opts: Partial<ClaimOptions> = {}, peers: Peer[] = [{ name: 'b', grpcAddr: 'b:1' }, { name: 'c', grpcAddr: 'c:1' }]) {
  return new ClaimService({
    timers: realClock,
    self: () => ({ name: 'a', lifeId: 'La', incarnation: 1, serving: true }),
    peers: () => peers,
    memberStatus: () => 'live',
    transport: { announce: async () => ({ accepted: true, winners: [] }), expire: async () => ({ accepted: true, winners: [] }) },
    options: { ...options, ...opts },
    wallClock: () => WALL,
  });
}

function theirs(owner: string, n: number, released = false): ClaimRecord[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `${owner}-${i}`,
    owner,
    ownerLifeId: `L${owner}`,
    ownerIncarnation: 1,
    claimedAtMs: WALL - 1000 + i,
    claimedAtLogical: 0,
    expiresAtMs: null,
    ttlMs: null,
    fence: packStamp({ physicalMs: WALL - 1000 + i, logical: 0 }),
    released,
  }));
}

const ids = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

describe('claim capacity', () => {
  test('a member fills its own capacity: the next claim is refused with the bound named', () => {
    const s = service();
    const out = s.claim(ids('mine', 51));
    assert.equal(out.filter((o) => o.status === 'claimed').length, 50);
    const last = out[50];
    assert.equal(last?.status, 'limit');
    assert.match(last?.status === 'limit' ? last.message : '', /a holds 50 live claims, the most one member may hold \(--claim-max-per-member\)/);
    // Releasing one makes room again.
    assert.equal(s.release('mine-0'), 'released');
    assert.equal(s.claim(['mine-50'])[0]?.status, 'claimed');
  });

  test('a peer beyond its capacity is refused, with the bound named; the others are not affected', () => {
    const s = service();
    const outcome = s.receiveClaims(theirs('b', 51)).outcome;
    assert.equal(outcome.applied, 50);
    assert.deepEqual(outcome.rejected.map((r) => [r.record.id, r.reason]), [['b-50', 'limit']]);
    assert.match(outcome.rejected[0]?.detail ?? '', /b holds 50 live claims/);
    assert.equal(s.receiveClaims(theirs('c', 50)).outcome.applied, 50);
    assert.equal(s.claim(ids('mine', 50)).every((o) => o.status === 'claimed'), true);
  });

  test('the records kept of others scale with the member count, up to the ceiling', () => {
    const s = service({ maxRecords: 1000 });
    // 3 members x (50 claims + 20 releases).
    assert.equal(s.store.recordLimit(), 210);
    s.fitMembers(10);
    assert.equal(s.store.recordLimit(), 700);
    s.fitMembers(100);
    assert.equal(s.store.recordLimit(), 1000, 'never above --claim-max-records');
    s.fitMembers(2);
    assert.equal(s.store.recordLimit(), 140);
  });

  test('when the records of others fill the store, new ones are refused, and this member still claims', () => {
    // Two live members: room for 140 records of others. Three other owners (one not in the view yet)
    // fill it.
    const s = service({}, [{ name: 'b', grpcAddr: 'b:1' }]);
    assert.equal(s.store.recordLimit(), 140);
    assert.equal(s.receiveClaims(theirs('b', 50)).outcome.applied, 50);
    assert.equal(s.receiveClaims(theirs('c', 50)).outcome.applied, 50);
    const d = s.receiveClaims(theirs('d', 50)).outcome;
    assert.equal(d.applied, 40);
    assert.equal(d.rejected.length, 10);
    assert.match(d.rejected[0]?.detail ?? '', /keeps at most 140 claim records of other members .* and holds that many/);
    assert.equal(s.store.size(), 140);
    // Our own capacity is ours: the full store does not refuse it.
    assert.equal(s.claim(ids('mine', 50)).filter((o) => o.status === 'claimed').length, 50);
    assert.equal(s.store.size(), 190);
  });

  test('releases are compacted: an owner keeps at most its release budget, oldest forgotten first', () => {
    const s = service();
    s.receiveClaims(theirs('b', 30));
    s.receiveReleases(theirs('b', 30, true));
    assert.equal(s.store.releaseCount('b'), 20);
    assert.equal(s.store.counters.compactedReleases, 10);
    assert.equal(s.store.claimCount(), 0);
    assert.deepEqual(
      s.store.recordsFor('b-0').length + s.store.recordsFor('b-9').length,
      0,
      'the ten oldest releases are gone',
    );
    assert.equal(s.store.recordsFor('b-29')[0]?.released, true);
    // Our own releases too: claim and release 25, keep 20.
    s.claim(ids('mine', 25));
    for (const id of ids('mine', 25)) assert.equal(s.release(id), 'released');
    assert.equal(s.store.releaseCount('a'), 20);
    assert.equal(s.store.size(), 40);
  });

  test('over HTTP: a full member answers the item with status limit and the bound', async () => {
    const client = new ControlPlaneClient();
    const claims = new AgentClaims({
      self: () => ({ name: 'm1', lifeId: 'L1', incarnation: 1, serving: true }),
      ringRoute: (key) => new FakeView().route(key),
      tableVersion: () => 'v1',
      checkContext: () => undefined,
      options: agentClaimsOptions({ ...DEFAULT_CLAIM_CONFIG, maxClaimsPerMember: 3 }, 1000),
      logger: pino({ level: 'silent' }),
      publish: () => undefined,
    });
    const member = memberRecord('m1', { lifeId: 'L1', gossipAddr: '127.0.0.1:1', grpcAddr: '127.0.0.1:2', meta: { appAddr: '127.0.0.1:3', serving: true, tags: {} } });
    claims.refreshMembers([member]);
    const view = Object.assign(new FakeView(), { claims });
    const app = buildAppApi(view, { metrics: createMetrics({ defaultMetrics: false }) });
    try {
      const res = await app.inject({ method: 'POST', url: '/v1/claims', payload: { ids: ['a', 'b', 'c', 'd'] } });
      assert.equal(res.statusCode, 200);
      const body = res.json() as { results: { id: string; status: string; message?: string }[] };
      assert.deepEqual(body.results.map((r) => r.status), ['claimed', 'claimed', 'claimed', 'limit']);
      assert.match(body.results[3]?.message ?? '', /m1 holds 3 live claims, the most one member may hold \(--claim-max-per-member\)/);
    } finally {
      await app.close();
      claims.close();
      client.close();
    }
  });
});
