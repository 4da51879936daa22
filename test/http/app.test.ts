import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { pino } from 'pino';
import { buildAppApi, type HttpLimits } from '../../src/http/index.js';
import { createMetrics, type Metrics } from '../../src/metrics.js';
import { FakeView } from './fake-view.js';

const JSON_HEADERS = { 'content-type': 'application/json' };
const ADMIN_TOKEN = 'admin-token-0123456789abcdef';
const ADMIN = { authorization: `Bearer ${ADMIN_TOKEN}` };

function setup(limits?: Partial<HttpLimits>, token?: string) {
  const view = new FakeView();
  const metrics = createMetrics({ defaultMetrics: false });
  const app = buildAppApi(view, { metrics, adminToken: ADMIN_TOKEN, ...(limits ? { limits } : {}), ...(token ? { token } : {}) });
  return { view, metrics, app };
}

/** The JSON view of a value, as a client would parse it. */
function asJson(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value));
}

async function errorOf(res: { statusCode: number; headers: Record<string, unknown>; body: string }) {
  assert.match(String(res.headers['content-type']), /^application\/json/);
  const body = JSON.parse(res.body) as { error: { code: string; message: string; issues?: unknown[] } };
  assert.equal(typeof body.error.code, 'string');
  assert.equal(typeof body.error.message, 'string');
  return body.error;
}

async function counterValue(metrics: Metrics, name: string, labels: Record<string, string>): Promise<number> {
  const metric = await metrics.registry.getSingleMetric(name)?.get();
  const hit = metric?.values.find((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val));
  return hit?.value ?? 0;
}

describe('GET /v1/route/:key', () => {
  test('answers the view\'s RouteAnswer', async () => {
    const { view, app } = setup();
    const res = await app.inject({ method: 'GET', url: '/v1/route/user-42' });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^application\/json/);
    const body = res.json() as Record<string, unknown>;
    assert.deepEqual(body, asJson(view.route('user-42')));
    assert.deepEqual(Object.keys(body), ['key', 'shard', 'owner', 'replicas', 'version']);
    assert.deepEqual(Object.keys(body['owner'] as object), ['name', 'addresses', 'serving']);
  });

  test('percent-encoded keys arrive decoded, including "/" and non-ASCII', async () => {
    const { app } = setup();
    for (const key of ['a/b', 'ключ', '😀 "quoted" \\ back', 'tab\there', '?#&=']) {
      const res = await app.inject({ method: 'GET', url: `/v1/route/${encodeURIComponent(key)}` });
      assert.equal(res.statusCode, 200, key);
      assert.equal((res.json() as { key: string }).key, key);
    }
  });

  test('empty key is 400 key_empty', async () => {
    const { app } = setup();
    const res = await app.inject({ method: 'GET', url: '/v1/route/' });
    assert.equal(res.statusCode, 400);
    assert.equal((await errorOf(res)).code, 'key_empty');
  });

  test('keys over the byte limit are 400 key_too_long, counted in UTF-8 bytes', async () => {
    const { app } = setup();
    const atLimit = await app.inject({ method: 'GET', url: `/v1/route/${'k'.repeat(1024)}` });
    assert.equal(atLimit.statusCode, 200);
    for (const key of ['k'.repeat(1025), 'ж'.repeat(513), 'x'.repeat(5000)]) {
      const res = await app.inject({ method: 'GET', url: `/v1/route/${encodeURIComponent(key)}` });
      assert.equal(res.statusCode, 400, `${key.length} chars`);
      assert.equal((await errorOf(res)).code, 'key_too_long');
    }
  });

  test('bad percent-encoding is 400 bad_url; an unencoded "/" is a 404 with a hint', async () => {
    const { app } = setup();
    const bad = await app.inject({ method: 'GET', url: '/v1/route/%ff' });
    assert.equal(bad.statusCode, 400);
    assert.equal((await errorOf(bad)).code, 'bad_url');
    const slash = await app.inject({ method: 'GET', url: '/v1/route/a/b' });
    assert.equal(slash.statusCode, 404);
    assert.match((await errorOf(slash)).message, /%2F/);
  });

  test('a view that throws gives a JSON 500 (no details leaked) and an error log line', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
    const view = new FakeView();
    const app = buildAppApi(view, { metrics: createMetrics({ defaultMetrics: false }), logger });
    view.route = () => {
      throw new Error('boom');
    };
    const res = await app.inject({ method: 'GET', url: '/v1/route/x' });
    assert.equal(res.statusCode, 500);
    assert.deepEqual(await errorOf(res), { code: 'internal', message: 'internal error' });
    const logged = lines.map((l) => JSON.parse(l) as { level: number; msg: string; err?: { message: string } });
    assert.ok(logged.some((l) => l.level === 50 && l.err?.message === 'boom'), lines.join('\n'));
    assert.ok(!logged.some((l) => l.msg === 'incoming request'), 'no per-request log lines');
  });
});

describe('POST /v1/route', () => {
  test('answers every key, in order, with the table version', async () => {
    const { view, app } = setup();
    const keys = ['b', 'a', 'b', 'ключ', 'with "quotes"'];
    const res = await app.inject({ method: 'POST', url: '/v1/route', headers: JSON_HEADERS, payload: { keys } });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), asJson({ version: view.version, routes: view.routeMany(keys) }));
  });

  test('an empty batch answers no routes but still the version', async () => {
    const { view, app } = setup();
    const res = await app.inject({ method: 'POST', url: '/v1/route', headers: JSON_HEADERS, payload: { keys: [] } });
    assert.deepEqual(res.json(), { version: view.version, routes: [] });
  });

  test('10,000 keys are fine; 10,001 are 400 batch_too_large', async () => {
    const { app } = setup();
    const keys = Array.from({ length: 10_000 }, (_, i) => `k${i}`);
    const full = await app.inject({ method: 'POST', url: '/v1/route', headers: JSON_HEADERS, payload: { keys } });
    assert.equal(full.statusCode, 200);
    assert.equal((full.json() as { routes: unknown[] }).routes.length, 10_000);
    const over = await app.inject({ method: 'POST', url: '/v1/route', headers: JSON_HEADERS, payload: { keys: [...keys, 'one-more'] } });
    assert.equal(over.statusCode, 400);
    assert.equal((await errorOf(over)).code, 'batch_too_large');
  });

  test('bad keys are named by index in zod issues, at most maxIssues of them', async () => {
    const { app } = setup({ maxIssues: 3 });
    const keys = ['ok', '', 'x'.repeat(2000), '\ud800', '', '', ''];
    const res = await app.inject({ method: 'POST', url: '/v1/route', headers: JSON_HEADERS, payload: JSON.stringify({ keys }) });
    assert.equal(res.statusCode, 400);
    const err = await errorOf(res);
    assert.equal(err.code, 'key_empty');
    assert.deepEqual(
      (err.issues as { path: unknown[]; code: string }[]).map((i) => [i.path, i.code]),
      [
        [['keys', 1], 'custom'],
        [['keys', 2], 'custom'],
        [['keys', 3], 'custom'],
      ],
    );
  });

  test('wrong types are 400 invalid_request with zod issues', async () => {
    const { app } = setup();
    const cases: [unknown, (string | number)[]][] = [
      [{ keys: 'a' }, ['keys']],
      [{ keys: ['a', 7] }, ['keys', 1]],
      [{ kees: [] }, ['keys']],
      [['a'], []],
    ];
    for (const [payload, path] of cases) {
      const res = await app.inject({ method: 'POST', url: '/v1/route', headers: JSON_HEADERS, payload: JSON.stringify(payload) });
      assert.equal(res.statusCode, 400, JSON.stringify(payload));
      const err = await errorOf(res);
      assert.equal(err.code, 'invalid_request');
      assert.deepEqual((err.issues?.[0] as { path: unknown }).path, path);
    }
  });

  test('bad JSON, an empty body, another media type and an oversized body are refused cleanly', async () => {
    const { app } = setup({ maxBodyBytes: 1000 });
    const cases: [Record<string, string>, string, number, string][] = [
      [JSON_HEADERS, '{"keys": [', 400, 'bad_json'],
      [JSON_HEADERS, '', 400, 'bad_json'],
      [{ 'content-type': 'text/plain' }, 'a,b', 415, 'unsupported_media_type'],
      [JSON_HEADERS, JSON.stringify({ keys: Array(200).fill('abcdefgh') }), 413, 'body_too_large'],
    ];
    for (const [headers, payload, status, code] of cases) {
      const res = await app.inject({ method: 'POST', url: '/v1/route', headers, payload });
      assert.equal(res.statusCode, status, code);
      assert.equal((await errorOf(res)).code, code);
    }
  });

  test('hand-written JSON equals JSON.stringify for any keys', async () => {
    const { view, app } = setup();
    await fc.assert(
      fc.asyncProperty(fc.array(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }), { maxLength: 30 }), async (keys) => {
        const res = await app.inject({ method: 'POST', url: '/v1/route', headers: JSON_HEADERS, payload: JSON.stringify({ keys }) });
        assert.equal(res.statusCode, 200);
        assert.deepEqual(res.json(), asJson({ version: view.version, routes: view.routeMany(keys) }));
      }),
      { numRuns: 100 },
    );
  });
});

describe('members, table, leave', () => {
  test('GET /v1/members', async () => {
    const { view, app } = setup();
    const res = await app.inject({ method: 'GET', url: '/v1/members' });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), asJson(view.members()));
  });

  test('GET /v1/table with and without owners', async () => {
    const { view, app } = setup();
    const plain = await app.inject({ method: 'GET', url: '/v1/table' });
    assert.deepEqual(plain.json(), asJson(view.table(false)));
    assert.equal((plain.json() as { owners?: unknown }).owners, undefined);
    for (const q of ['true', '1']) {
      const withOwners = await app.inject({ method: 'GET', url: `/v1/table?owners=${q}` });
      assert.deepEqual(withOwners.json(), asJson(view.table(true)));
    }
    const bad = await app.inject({ method: 'GET', url: '/v1/table?owners=maybe' });
    assert.equal(bad.statusCode, 400);
    const err = await errorOf(bad);
    assert.equal(err.code, 'invalid_request');
    assert.deepEqual((err.issues?.[0] as { path: unknown }).path, ['owners']);
  });

  test('POST /v1/leave answers 202 and starts the leave, with or without a body', async () => {
    const { view, app } = setup();
    const res = await app.inject({ method: 'POST', url: '/v1/leave', headers: ADMIN });
    assert.equal(res.statusCode, 202);
    assert.deepEqual(res.json(), { leaving: true });
    const withBody = await app.inject({ method: 'POST', url: '/v1/leave', headers: { ...JSON_HEADERS, ...ADMIN }, payload: '{}' });
    assert.equal(withBody.statusCode, 202);
    assert.equal(view.leaveCalls, 2);
  });

  test('POST /v1/leave is an admin action: no token, a wrong one or the HTTP token alone is 401, from loopback too', async () => {
    const { view, app, metrics } = setup(undefined, 'http-token-0123456789abcdef');
    for (const authorization of [undefined, 'Bearer wrong', `Bearer ${ADMIN_TOKEN}x`, `bearer ${ADMIN_TOKEN}`, 'Bearer http-token-0123456789abcdef']) {
      // inject() comes from 127.0.0.1: the loopback exemption of the HTTP token does not apply to admin routes.
      const res = await app.inject({ method: 'POST', url: '/v1/leave', ...(authorization ? { headers: { authorization } } : {}) });
      assert.equal(res.statusCode, 401, String(authorization));
      assert.equal((await errorOf(res)).code, 'unauthorized');
      assert.equal(res.headers['www-authenticate'], 'Bearer');
    }
    assert.equal(view.leaveCalls, 0);
    assert.match(await metrics.registry.metrics(), /swimring_http_rejections_total\{route="\/v1\/leave",code="unauthorized"\} 5/);
    // Other routes stay open to loopback clients without any token.
    assert.equal((await app.inject({ method: 'GET', url: '/v1/members' })).statusCode, 200);
  });

  test('an app built without an admin token refuses every admin action', async () => {
    const view = new FakeView();
    const app = buildAppApi(view, { metrics: createMetrics({ defaultMetrics: false }) });
    const res = await app.inject({ method: 'POST', url: '/v1/leave', headers: { authorization: 'Bearer ' } });
    assert.equal(res.statusCode, 401);
    assert.match((await errorOf(res)).message, /has no admin token.*SWIMRING_ADMIN_TOKEN/);
    assert.equal(view.leaveCalls, 0);
  });

  test('unknown routes and methods are JSON 404s', async () => {
    const { app } = setup();
    for (const [method, url] of [
      ['GET', '/nope'],
      ['DELETE', '/v1/members'],
      ['GET', '/v1/route'],
    ] as const) {
      const res = await app.inject({ method, url });
      assert.equal(res.statusCode, 404, `${method} ${url}`);
      assert.equal((await errorOf(res)).code, 'not_found');
    }
  });
});

describe('bearer token off loopback', () => {
  const token = 'sekret-token-0123456789';

  test('loopback clients need no token; others need the right one', async () => {
    const { app } = setup(undefined, token);
    const local = await app.inject({ method: 'GET', url: '/v1/members', remoteAddress: '127.0.0.1' });
    assert.equal(local.statusCode, 200);
    const remote = await app.inject({ method: 'GET', url: '/v1/members', remoteAddress: '10.0.0.9' });
    assert.equal(remote.statusCode, 401);
    assert.equal((await errorOf(remote)).code, 'unauthorized');
    const wrong = await app.inject({ method: 'GET', url: '/v1/members', remoteAddress: '10.0.0.9', headers: { authorization: 'Bearer nope' } });
    assert.equal(wrong.statusCode, 401);
    const right = await app.inject({ method: 'GET', url: '/v1/members', remoteAddress: '10.0.0.9', headers: { authorization: `Bearer ${token}` } });
    assert.equal(right.statusCode, 200);
  });

  test('with loopback trust off (a mesh proxy relays from 127.0.0.6), loopback clients need the token too', async () => {
    const app = buildAppApi(new FakeView(), { metrics: createMetrics({ defaultMetrics: false }), adminToken: ADMIN_TOKEN, token, trustLoopback: false });
    for (const remoteAddress of ['127.0.0.1', '127.0.0.6', '::1']) {
      const bare = await app.inject({ method: 'GET', url: '/v1/members', remoteAddress });
      assert.equal(bare.statusCode, 401, remoteAddress);
      assert.match((await errorOf(bare)).message, /loopback clients are not trusted/);
      const withToken = await app.inject({ method: 'GET', url: '/v1/members', remoteAddress, headers: { authorization: `Bearer ${token}` } });
      assert.equal(withToken.statusCode, 200, remoteAddress);
    }
  });
});

describe('metrics from the app API', () => {
  test('route requests, keys and rejections are counted', async () => {
    const { app, metrics } = setup();
    await app.inject({ method: 'GET', url: '/v1/route/a' });
    await app.inject({ method: 'GET', url: '/v1/route/b' });
    await app.inject({ method: 'POST', url: '/v1/route', headers: JSON_HEADERS, payload: { keys: ['a', 'b', 'c'] } });
    await app.inject({ method: 'GET', url: '/v1/route/' });
    await app.inject({ method: 'GET', url: '/nowhere' });
    assert.equal(await counterValue(metrics, 'swimring_route_requests_total', { kind: 'single' }), 2);
    assert.equal(await counterValue(metrics, 'swimring_route_requests_total', { kind: 'batch' }), 1);
    assert.equal(await counterValue(metrics, 'swimring_route_keys_total', {}), 5);
    assert.equal(await counterValue(metrics, 'swimring_http_rejections_total', { route: '/v1/route/:key', code: 'key_empty' }), 1);
    assert.equal(await counterValue(metrics, 'swimring_http_rejections_total', { route: 'unmatched', code: 'not_found' }), 1);
    const latency = await metrics.registry.getSingleMetric('swimring_route_duration_seconds')?.get();
    const count = latency?.values.find((v) => (v as { metricName?: string }).metricName === 'swimring_route_duration_seconds_count' && v.labels['kind'] === 'single');
    assert.equal(count?.value, 2);
  });
});
