// Hostile HTTP input: random methods, paths, queries, headers and bodies against the app API. Nothing a
// client sends turns into a 500; every refusal is a 4xx with the one JSON error shape, and the limits
// (body, batch, key length) answer their documented codes.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { InjectOptions } from 'fastify';
import { buildAppApi } from '../../src/http/index.js';
import { createMetrics } from '../../src/metrics.js';
import { FakeView } from './fake-view.js';

const ADMIN_TOKEN = 'admin-token-0123456789abcdef';

function setup() {
  const view = new FakeView();
  const metrics = createMetrics({ defaultMetrics: false });
  // Small limits so the properties reach them quickly.
  const app = buildAppApi(view, { metrics, adminToken: ADMIN_TOKEN, limits: { maxKeyBytes: 64, maxBatchKeys: 20, maxBodyBytes: 4096 } });
  return { view, app };
}

function checkAnswer(res: { statusCode: number; headers: Record<string, unknown>; body: string }, what: string): void {
  assert.ok(res.statusCode < 500, `${what} -> ${res.statusCode} ${res.body.slice(0, 300)}`);
  if (res.statusCode >= 400) {
    assert.match(String(res.headers['content-type']), /^application\/json/, what);
    const body = JSON.parse(res.body) as { error?: { code?: unknown; message?: unknown } };
    assert.equal(typeof body.error?.code, 'string', what);
    assert.equal(typeof body.error?.message, 'string', what);
  }
}

const segment = fc.oneof(
  fc.constantFrom('v1', 'route', 'members', 'table', 'watch', 'leave', 'openapi.json', 'keys', '..', '.', '%', '%2F', '%zz', '%00', '%C0%AF', '%ED%A0%80'),
  fc.string({ maxLength: 20 }).map(encodeURIComponent),
  fc.string({ unit: 'binary', maxLength: 10 }).map((s) => encodeURIComponent(s).replace(/%2F/g, '/')),
);
const path = fc.array(segment, { maxLength: 5 }).map((parts) => `/${parts.join('/')}`);
const query = fc.option(
  fc.array(fc.tuple(fc.constantFrom('owners', 'keys', 'x', '__proto__', 'constructor', ''), fc.string({ maxLength: 12 })), { maxLength: 4 }).map(
    (pairs) => pairs.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&'),
  ),
  { nil: undefined },
);
const body = fc.oneof(
  fc.constant(undefined),
  fc.string({ maxLength: 200 }),
  fc.json({ maxDepth: 4 }),
  fc.record({ keys: fc.oneof(fc.array(fc.string({ maxLength: 80 }), { maxLength: 30 }), fc.anything({ maxDepth: 2 })) }).map((o) => JSON.stringify(o)),
  fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b).toString('latin1')),
);
const contentType = fc.constantFrom(undefined, 'application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data', 'garbage/;;');

describe('app API: hostile requests', () => {
  test('random method, path, query, content type and body: never a 500, errors in the JSON shape', async () => {
    const { app, view } = setup();
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'), path, query, contentType, body, async (method, p, q, type, payload) => {
        const request: InjectOptions = {
          method: method as InjectOptions['method'],
          url: q === undefined ? p : `${p}?${q}`,
          ...(type ? { headers: { 'content-type': type } } : {}),
          ...(payload !== undefined && method !== 'GET' && method !== 'HEAD' ? { payload } : {}),
        };
        // Watch streams never end by themselves; the property covers their refusals, not an open stream.
        if (method === 'GET' && p === '/v1/watch' && q === undefined) return;
        const res = await app.inject(request);
        if (res.headers['content-type']?.toString().startsWith('text/event-stream')) return;
        // HEAD answers carry no body to check.
        if (method === 'HEAD') return assert.ok(res.statusCode < 500, `HEAD ${request.url} -> ${res.statusCode}`);
        checkAnswer(res, `${method} ${request.url} (${type ?? 'no type'})`);
      }),
      { numRuns: 300, seed: 6 },
    );
    assert.equal(view.leaveCalls, 0, 'no random request got past the admin token');
    await app.close();
  });

  test('random keys, batches and authorization headers: never a 500', async () => {
    const { app, view } = setup();
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: 'binary', maxLength: 100 }),
        fc.array(fc.string({ unit: 'binary', maxLength: 100 }), { maxLength: 40 }),
        fc.string({ maxLength: 60 }),
        async (key, keys, auth) => {
          checkAnswer(await app.inject({ method: 'GET', url: `/v1/route/${encodeURIComponent(key)}` }), `key ${JSON.stringify(key)}`);
          checkAnswer(await app.inject({ method: 'POST', url: '/v1/route', payload: { keys } }), `batch of ${keys.length}`);
          const leave = await app.inject({ method: 'POST', url: '/v1/leave', headers: { authorization: auth } });
          assert.equal(leave.statusCode, 401);
          checkAnswer(leave, 'leave');
        },
      ),
      { numRuns: 150, seed: 7 },
    );
    assert.equal(view.leaveCalls, 0);
    await app.close();
  });

  test('each limit answers its own 4xx code', async () => {
    const { app } = setup();
    const code = async (request: InjectOptions): Promise<[number, string]> => {
      const res = await app.inject(request);
      return [res.statusCode, (JSON.parse(res.body) as { error: { code: string } }).error.code];
    };
    assert.deepEqual(await code({ method: 'GET', url: `/v1/route/${'k'.repeat(65)}` }), [400, 'key_too_long']);
    assert.deepEqual(await code({ method: 'POST', url: '/v1/route', payload: { keys: ['k'.repeat(65)] } }), [400, 'key_too_long']);
    assert.deepEqual(await code({ method: 'POST', url: '/v1/route', payload: { keys: Array.from({ length: 21 }, (_, i) => `k${i}`) } }), [400, 'batch_too_large']);
    assert.deepEqual(await code({ method: 'POST', url: '/v1/route', payload: { keys: ['x'.repeat(5000)] } }), [413, 'body_too_large']);
    assert.deepEqual(await code({ method: 'POST', url: '/v1/leave', payload: 'x'.repeat(5000), headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'text/plain' } }), [413, 'body_too_large']);
    assert.deepEqual(await code({ method: 'GET', url: '/v1/route/%zz' }), [400, 'bad_url']);
    assert.deepEqual(await code({ method: 'POST', url: '/v1/route', payload: '{"keys":', headers: { 'content-type': 'application/json' } }), [400, 'bad_json']);
    assert.deepEqual(await code({ method: 'POST', url: '/v1/route', payload: 'keys=a', headers: { 'content-type': 'text/plain' } }), [415, 'unsupported_media_type']);
    await app.close();
  });
});
