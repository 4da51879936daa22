import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { ControlPlaneClient } from '../../src/grpc/client.js';
import { buildAppApi } from '../../src/http/index.js';
import { createMetrics } from '../../src/metrics.js';
import { AgentClaims } from '../../src/ownership/agent-claims.js';
import { agentClaimsOptions, DEFAULT_CLAIM_CONFIG } from '../../src/ownership/config.js';
import type { RouteAnswer, WatchEvent } from '../../src/runtime/view.js';
import { expandCompact, type CompactBatch } from '../http/compact-batch.js';
import { FakeView } from '../http/fake-view.js';
import { memberRecord } from '../support/member-record.js';

class ClaimsView extends FakeView {
  serving = true;
  readonly events: WatchEvent[] = [];
  readonly client = new ControlPlaneClient();
  readonly claims: AgentClaims = new AgentClaims({
    self: () => ({ name: 'm1', lifeId: 'L1', incarnation: 1, serving: this.serving }),
    ringRoute: (key) => super.route(key),
    tableVersion: () => 'v1',
    checkContext: () => undefined,
    options: agentClaimsOptions(DEFAULT_CLAIM_CONFIG, 1000),
    logger: pino({ level: 'silent' }),
    publish: (e) => this.events.push(e),
  });
  override route(key: string): RouteAnswer {
    return this.claims.routeAnswer(super.route(key));
  }
}

describe('claims over HTTP', () => {
  const view = new ClaimsView();
  let app: FastifyInstance;
  before(async () => {
    view.claims.refreshMembers([
      memberRecord('m1', { lifeId: 'L1', gossipAddr: '127.0.0.1:1', grpcAddr: '127.0.0.1:2', meta: { appAddr: '127.0.0.1:3', serving: true, tags: {} } }),
      memberRecord('m2', { lifeId: 'L2', gossipAddr: '127.0.0.2:1', grpcAddr: '127.0.0.2:2', meta: { appAddr: '127.0.0.2:3', serving: true, tags: {} } }),
    ]);
    app = buildAppApi(view, { metrics: createMetrics({ defaultMetrics: false }) });
    await app.ready();
  });
  after(async () => {
    await app.close();
    view.claims.close();
    view.client.close();
  });

  const post = (payload: unknown) => app.inject({ method: 'POST', url: '/v1/claims', payload: payload as object });

  test('POST /v1/claims claims, renews and reports ids held elsewhere', async () => {
    view.claims.service.receiveClaims([{ id: 'theirs', owner: 'm2', ownerLifeId: 'L2', ownerIncarnation: 1, claimedAtMs: 1, claimedAtLogical: 0, expiresAtMs: null, ttlMs: null, fence: 1n << 16n, released: false }]);
    const res = await post({ ids: ['a', 'theirs'], ttl_ms: 60_000 });
    assert.equal(res.statusCode, 200);
    const body = res.json() as { results: { id: string; status: string; claim?: { ownerName: string } }[] };
    assert.deepEqual(body.results.map((r) => [r.id, r.status, r.claim?.ownerName]), [
      ['a', 'claimed', 'm1'],
      ['theirs', 'owned_elsewhere', 'm2'],
    ]);
    const again = (await post({ ids: ['a'] })).json() as { results: { status: string }[] };
    assert.equal(again.results[0]?.status, 'renewed');
  });

  test('bad bodies are 400 with a reason; a member not serving answers 503', async () => {
    assert.equal((await post({ ids: [] })).statusCode, 400);
    assert.equal((await post({ ids: ['x'.repeat(256)] })).statusCode, 400);
    assert.equal((await post({ ids: ['x'], ttl_ms: -5 })).statusCode, 400);
    assert.equal((await post({ ids: Array.from({ length: 1001 }, (_, i) => `k${i}`) })).statusCode, 400);
    view.serving = false;
    try {
      const res = await post({ ids: ['x'] });
      assert.equal(res.statusCode, 503);
      assert.equal((res.json() as { error: { code: string } }).error.code, 'not_serving');
    } finally {
      view.serving = true;
    }
  });

  test('route answers name the claimant; ?claim=true claims on first touch', async () => {
    const claimed = (await app.inject({ method: 'GET', url: '/v1/route/theirs' })).json() as RouteAnswer;
    assert.equal(claimed.claimed, true);
    assert.equal(claimed.owner?.name, 'm2');
    assert.equal(claimed.fence, String(1n << 16n), 'the claim\'s fencing token, a decimal string');
    const plain = (await app.inject({ method: 'GET', url: '/v1/route/free' })).json() as RouteAnswer;
    assert.equal(plain.claimed, undefined);
    assert.equal(plain.fence, undefined);
    const touched = (await app.inject({ method: 'GET', url: '/v1/route/free?claim=true' })).json() as RouteAnswer;
    assert.equal(touched.claimed, true);
    assert.equal(touched.owner?.name, 'm1');
    const batch = (await app.inject({ method: 'POST', url: '/v1/route', payload: { keys: ['theirs', 'nobody'] } })).json() as { routes: RouteAnswer[] };
    assert.deepEqual(batch.routes.map((r) => r.claimed), [true, undefined]);
    // The compact layout carries the same answers, claimant included.
    const compactRes = await app.inject({ method: 'POST', url: '/v1/route?format=compact', payload: { keys: ['theirs', 'nobody'] } });
    assert.equal(compactRes.statusCode, 200);
    const compact = compactRes.json() as CompactBatch;
    assert.deepEqual(compact.routes.map((r) => r.claimed), [true, undefined]);
    assert.deepEqual(compact.routes.map((r) => r.fence), [String(1n << 16n), undefined]);
    assert.deepEqual(expandCompact(compact), JSON.parse(JSON.stringify(batch.routes)));
    const claimingRes = await app.inject({ method: 'POST', url: '/v1/route?claim=true&format=compact', payload: { keys: ['touched-in-batch'] } });
    const claiming = claimingRes.json() as CompactBatch;
    assert.deepEqual([claiming.routes[0]?.claimed, (claiming.members[claiming.routes[0]?.owner ?? -1] as { name?: string } | undefined)?.name], [true, 'm1']);
    assert.equal((await app.inject({ method: 'DELETE', url: '/v1/claims/touched-in-batch' })).statusCode, 200);
  });

  test('a claimed key\'s replicas never name its owner and are as many as the ring\'s', async () => {
    for (const id of ['theirs', 'free']) {
      const ring = FakeView.prototype.route.call(view, id);
      const claimed = view.route(id);
      assert.equal(claimed.claimed, true, id);
      assert.ok(!claimed.replicas.some((r) => r.name === claimed.owner?.name), `${id}: owner ${claimed.owner?.name} among ${claimed.replicas.map((r) => r.name).join(',')}`);
      assert.equal(claimed.replicas.length, ring.replicas.length, id);
      const fromRing = new Set([ring.owner?.name, ...ring.replicas.map((r) => r.name)]);
      assert.ok(claimed.replicas.every((r) => fromRing.has(r.name)), `${id}: replicas come from the shard's ring members`);
    }
  });

  test('lookup, local listing and release', async () => {
    const one = await app.inject({ method: 'GET', url: '/v1/claims/a' });
    const held = one.json() as { ownerName: string; fence: string };
    assert.equal(held.ownerName, 'm1');
    assert.match(held.fence, /^[1-9][0-9]*$/);
    assert.equal((await app.inject({ method: 'GET', url: '/v1/claims/none' })).statusCode, 404);
    const page = (await app.inject({ method: 'GET', url: '/v1/claims/local?limit=1' })).json() as { ids: string[]; next_page_token: string };
    assert.deepEqual(page.ids, ['a']);
    const next = (await app.inject({ method: 'GET', url: `/v1/claims/local?limit=1&page_token=${page.next_page_token}` })).json() as { ids: string[]; next_page_token: string };
    assert.deepEqual(next.ids, ['free']);
    assert.equal(next.next_page_token, '');
    assert.equal((await app.inject({ method: 'GET', url: '/v1/claims/local?page_token=%21' })).statusCode, 400);
    assert.equal((await app.inject({ method: 'DELETE', url: '/v1/claims/theirs' })).statusCode, 409);
    assert.equal((await app.inject({ method: 'DELETE', url: '/v1/claims/a' })).statusCode, 200);
    assert.equal((await app.inject({ method: 'DELETE', url: '/v1/claims/a' })).statusCode, 404);
    assert.deepEqual(view.events.at(-1), { type: 'claim', version: 'v1', id: 'a', change: 'released', owner: null, fence: held.fence });
  });

  test('a view without claims answers 501', async () => {
    const bare = buildAppApi(new FakeView(), { metrics: createMetrics({ defaultMetrics: false }) });
    try {
      const res = await bare.inject({ method: 'GET', url: '/v1/claims/x' });
      assert.equal(res.statusCode, 501);
    } finally {
      await bare.close();
    }
  });
});
