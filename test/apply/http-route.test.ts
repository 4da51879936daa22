import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildAppApi } from '../../src/http/index.js';
import { createMetrics } from '../../src/metrics.js';
import { createApplyMetrics } from '../../src/apply/metrics.js';
import type { Applier } from '../../src/apply/service.js';
import { applyError, type ApplyCall, type ApplyOutcome } from '../../src/apply/types.js';
import { FakeView } from '../http/fake-view.js';

function appWith(answer: (call: ApplyCall) => ApplyOutcome) {
  const metrics = createMetrics({ defaultMetrics: false });
  const calls: ApplyCall[] = [];
  const applier: Applier = {
    maxBodyBytes: 64,
    apply: async (call) => {
      calls.push(call);
      return answer(call);
    },
  };
  const app = buildAppApi(new FakeView(), { metrics, apply: { applier, metrics: createApplyMetrics(metrics) } });
  return { app, calls, metrics };
}

const ok = (call: ApplyCall): ApplyOutcome => ({
  result: { ok: true, answer: { status: 202, body: Buffer.from(`got ${call.message.body.toString()}`), contentType: 'text/x-test' }, owner: 'node-9', duplicate: false },
  path: 'forwarded',
  attempts: 2,
});

describe('POST /v1/apply/:key', () => {
  test("any body type is passed on as bytes, and the app's answer comes back as is", async () => {
    const { app, calls } = appWith(ok);
    const res = await app.inject({ method: 'POST', url: '/v1/apply/cart%2F1', headers: { 'content-type': 'application/json', 'idempotency-key': 'r-1' }, payload: '{not json' });
    assert.equal(res.statusCode, 202);
    assert.equal(res.body, 'got {not json');
    assert.equal(res.headers['content-type'], 'text/x-test');
    assert.equal(res.headers['x-swimring-owner'], 'node-9');
    assert.equal(res.headers['x-swimring-path'], 'forwarded');
    assert.equal(res.headers['x-swimring-attempts'], '2');
    assert.equal(res.headers['x-request-id'], 'r-1');
    assert.deepEqual(calls.map((c) => [c.key, c.requestId, c.message.contentType]), [['cart/1', 'r-1', 'application/json']]);
    const octets = await app.inject({ method: 'POST', url: '/v1/apply/k', headers: { 'content-type': 'application/octet-stream' }, payload: Buffer.from([0, 255]) });
    assert.equal(octets.statusCode, 202);
    assert.deepEqual([...(calls[1]?.message.body ?? [])], [0, 255]);
  });

  test('errors: JSON with the code, hints and Retry-After; status per code', async () => {
    const { app } = appWith(() => ({
      result: { ok: false, error: applyError('owner_unavailable', 'down', { retriable: true, retryAfterMs: 1500, ownerHint: 'node-2', mayHaveBeenDelivered: true }) },
      path: 'none',
      attempts: 3,
    }));
    const res = await app.inject({ method: 'POST', url: '/v1/apply/k', headers: { 'x-request-id': 'r-2' }, payload: 'x' });
    assert.equal(res.statusCode, 503);
    assert.equal(res.headers['retry-after'], '2');
    const e = (JSON.parse(res.body) as { error: Record<string, unknown> }).error;
    assert.equal(e['code'], 'owner_unavailable');
    assert.equal(e['owner'], 'node-2');
    assert.equal(e['requestId'], 'r-2');
    assert.equal(e['mayHaveBeenDelivered'], true);
    assert.equal(e['attempts'], 3);
  });

  test('refusals before routing: bad request id, body over the limit, bad key; none reaches the applier', async () => {
    const { app, calls, metrics } = appWith(ok);
    const badId = await app.inject({ method: 'POST', url: '/v1/apply/k', headers: { 'idempotency-key': 'x'.repeat(129) }, payload: '' });
    assert.equal(badId.statusCode, 400);
    assert.equal((JSON.parse(badId.body) as { error: { code: string } }).error.code, 'invalid_request_id');
    const big = await app.inject({ method: 'POST', url: '/v1/apply/k', headers: { 'content-type': 'text/plain' }, payload: 'x'.repeat(65) });
    assert.equal(big.statusCode, 413);
    const emptyKey = await app.inject({ method: 'POST', url: '/v1/apply/', payload: '' });
    assert.ok(emptyKey.statusCode === 400 || emptyKey.statusCode === 404);
    assert.equal(calls.length, 0);
    const text = await metrics.render();
    assert.match(text, /swimring_apply_requests_total\{outcome="rejected",path="none"\} [2-3]/);
  });

  test('without an Apply service the route exists and says so', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const app = buildAppApi(new FakeView(), { metrics });
    const res = await app.inject({ method: 'POST', url: '/v1/apply/k', payload: 'x' });
    assert.equal(res.statusCode, 501);
    assert.equal((JSON.parse(res.body) as { error: { code: string } }).error.code, 'apply_not_configured');
  });
});
