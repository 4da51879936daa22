// The route endpoints over a view with a RouteEncoder (the agent's pre-encoded answers): the same JSON
// as the view's RouteAnswer objects, for single keys and batches of any keys.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { buildAppApi } from '../../src/http/index.js';
import { createMetrics } from '../../src/metrics.js';
import { indexedView } from '../runtime/route-fixtures.js';
import { FakeView } from './fake-view.js';

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

  test('a batch with a bad key is still refused with zod issues', async () => {
    const { app } = setup();
    const res = await app.inject({ method: 'POST', url: '/v1/route', headers: JSON_HEADERS, payload: JSON.stringify({ keys: ['ok', ''] }) });
    assert.equal(res.statusCode, 400);
    const body = res.json() as { error: { code: string; issues: { path: unknown[] }[] } };
    assert.equal(body.error.code, 'key_empty');
    assert.deepEqual(body.error.issues[0]?.path, ['keys', 1]);
  });
});
