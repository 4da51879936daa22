// The route endpoints over a view with a RouteEncoder (the agent's pre-encoded answers): the same JSON
// as the view's RouteAnswer objects, for single keys and batches of any keys.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { buildAppApi } from '../../src/http/index.js';
import { createMetrics } from '../../src/metrics.js';
import { indexedView } from '../runtime/route-fixtures.js';
import { serializeCompactBatch } from '../../src/http/serialize-compact.js';
import { FakeView } from './fake-view.js';
import { expandCompact, type CompactBatch } from './compact-batch.js';

const JSON_HEADERS = { 'content-type': 'application/json' };

function setup() {
  const { view, index } = indexedView(new FakeView(), ['m1', 'm2', 'm3', 'm4']);
  const app = buildAppApi(view, { metrics: createMetrics({ defaultMetrics: false }) });
  return { view, index, app };
}

const keys = fc.array(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }), { maxLength: 40 });

describe('route endpoints with a RouteEncoder', () => {
  test('POST answers equal the RouteAnswer objects, for any keys', async () => {
    const { view, index, app } = setup();
    await fc.assert(
      fc.asyncProperty(keys, async (batch) => {
        const res = await app.inject({ method: 'POST', url: '/v1/route', headers: JSON_HEADERS, payload: JSON.stringify({ keys: batch }) });
        assert.equal(res.statusCode, 200);
        assert.deepEqual(res.json(), JSON.parse(JSON.stringify({ version: index.version, routes: view.routeMany(batch) })));
      }),
      { numRuns: 60 },
    );
  });

  test('GET answers equal the RouteAnswer object, for plain and escaped keys', async () => {
    const { view, app } = setup();
    for (const key of ['user-42', 'a/b', 'ключ', '😀 "quoted" \\ back', 'tab\there']) {
      const res = await app.inject({ method: 'GET', url: `/v1/route/${encodeURIComponent(key)}` });
      assert.equal(res.statusCode, 200, key);
      assert.equal(res.body, JSON.stringify(view.route(key)));
    }
  });

  test('compact batches name the same owners and replicas as full ones, for any keys', async () => {
    const { view, index, app } = setup();
    await fc.assert(
      fc.asyncProperty(keys, async (batch) => {
        const res = await app.inject({ method: 'POST', url: '/v1/route?format=compact', headers: JSON_HEADERS, payload: JSON.stringify({ keys: batch }) });
        assert.equal(res.statusCode, 200);
        const compact = res.json() as CompactBatch;
        assert.equal(compact.version, index.version);
        assert.deepEqual(expandCompact(compact), JSON.parse(JSON.stringify(view.routeMany(batch))));
        // The table's members once, in table order (so indexes are the table's member indexes).
        assert.deepEqual(compact.members, Array.from({ length: index.memberCount }, (_, m) => JSON.parse(index.memberJson(m)) as unknown));
        assert.equal(res.body, serializeCompactBatch(index.version, view.routeMany(batch), index).toString('utf8'));
      }),
      { numRuns: 60 },
    );
  });

  test('a compact batch is several times smaller than the full one', async () => {
    const { app } = setup();
    const batch = Array.from({ length: 1000 }, (_, i) => `user-${i}`);
    const sizes = await Promise.all(
      ['/v1/route', '/v1/route?format=compact'].map(async (url) => {
        const res = await app.inject({ method: 'POST', url, headers: JSON_HEADERS, payload: JSON.stringify({ keys: batch }) });
        assert.equal(res.statusCode, 200);
        return res.rawPayload.length;
      }),
    );
    assert.ok(sizes[0]! > 4 * sizes[1]!, `full ${sizes[0]} bytes, compact ${sizes[1]}`);
  });

  test('an unknown format is refused by name', async () => {
    const { app } = setup();
    for (const url of ['/v1/route?format=tiny', '/v1/route?format=compact&format=full']) {
      const res = await app.inject({ method: 'POST', url, headers: JSON_HEADERS, payload: JSON.stringify({ keys: ['a'] }) });
      assert.equal(res.statusCode, 400, url);
      const body = res.json() as { error: { code: string; issues: { path: unknown[] }[] } };
      assert.equal(body.error.code, 'invalid_request');
      assert.deepEqual(body.error.issues[0]?.path, ['format']);
    }
  });

  test('a batch with a bad key is still refused with zod issues', async () => {
    const { app } = setup();
    const res = await app.inject({ method: 'POST', url: '/v1/route', headers: JSON_HEADERS, payload: JSON.stringify({ keys: ['ok', ''] }) });
    assert.equal(res.statusCode, 400);
    const body = res.json() as { error: { code: string; issues: { path: unknown[] }[] } };
    assert.equal(body.error.code, 'key_empty');
    assert.deepEqual(body.error.issues[0]?.path, ['keys', 1]);
  });
});
