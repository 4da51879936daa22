// docs/openapi.json is what the agent serves at /v1/openapi.json, generated from the routes; every route
// is described; real answers of the app API fit the documented response schemas.
// Regenerate after changing a route: UPDATE_OPENAPI=1 node --import tsx --test test/deploy/openapi.test.ts
import { before, after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance, InjectOptions } from 'fastify';
import type { z } from 'zod';
import { buildAppApi } from '../../src/http/index.js';
import { OPENAPI_PATH, ROUTE_DOCS } from '../../src/http/openapi.js';
import { serveOpenApiFile } from '../../src/http/openapi-file.js';
import { createServer } from '../../src/http/server.js';
import { createMetrics } from '../../src/metrics.js';
import { FakeView, FakeViewWithClaims } from '../http/fake-view.js';
import { ROOT } from './manifests.js';

const DOC_FILE = join(ROOT, 'docs', 'openapi.json');
const ADMIN_TOKEN = 'admin-token-0123456789abcdef';

/** The app API generating its OpenAPI document from the routes (the agent serves docs/openapi.json instead). */
async function appWithOpenApi(view: FakeView): Promise<FastifyInstance> {
  const app = buildAppApi(view, { metrics: createMetrics(), adminToken: ADMIN_TOKEN, openApi: 'generate' });
  await app.ready();
  return app;
}

type OpenApiDoc = { openapi: string; paths: Record<string, Record<string, { summary?: string; responses?: Record<string, unknown> }>> };

describe('OpenAPI', () => {
  let app: FastifyInstance;
  let served: OpenApiDoc;
  const view = new FakeViewWithClaims();

  before(async () => {
    app = await appWithOpenApi(view);
    const res = await app.inject({ method: 'GET', url: OPENAPI_PATH });
    assert.equal(res.statusCode, 200);
    served = JSON.parse(res.body) as OpenApiDoc;
    if (process.env['UPDATE_OPENAPI'] === '1') writeFileSync(DOC_FILE, `${JSON.stringify(served, null, 2)}\n`);
  });
  after(() => app.close());

  test('docs/openapi.json is the document generated from the routes (regenerate with UPDATE_OPENAPI=1)', () => {
    const checkedIn = JSON.parse(readFileSync(DOC_FILE, 'utf8')) as unknown;
    assert.deepEqual(checkedIn, served);
  });

  test('the agent (default options) serves docs/openapi.json as is', async () => {
    const agentApp = buildAppApi(view, { metrics: createMetrics({ defaultMetrics: false }) });
    try {
      const res = await agentApp.inject({ method: 'GET', url: OPENAPI_PATH });
      assert.equal(res.statusCode, 200);
      assert.match(String(res.headers['content-type']), /^application\/json/);
      assert.equal(res.body, readFileSync(DOC_FILE, 'utf8'));
      assert.equal(agentApp.hasDecorator('swagger'), false, 'no generator in the agent');
    } finally {
      await agentApp.close();
    }
  });

  test('a missing document file is a 500 naming the file, counted', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const bare = createServer({ metrics, maxParamLength: 100, maxIssues: 5 });
    serveOpenApiFile(bare, metrics, join(ROOT, 'docs', 'no-such-openapi.json'));
    try {
      const res = await bare.inject({ method: 'GET', url: OPENAPI_PATH });
      assert.equal(res.statusCode, 500);
      const body = res.json() as { error: { code: string; message: string } };
      assert.equal(body.error.code, 'internal');
      assert.match(body.error.message, /no-such-openapi\.json.*ENOENT/);
      assert.match(await metrics.render(), /swimring_http_rejections_total\{[^}]*code="internal"[^}]*\} 1/);
    } finally {
      await bare.close();
    }
  });

  test('OpenAPI 3.1 with every app route described, and nothing else', () => {
    assert.equal(served.openapi, '3.1.0');
    const documented = Object.entries(served.paths)
      .flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`))
      .sort();
    assert.deepEqual(documented, Object.keys(ROUTE_DOCS).sort());
    for (const methods of Object.values(served.paths)) {
      for (const op of Object.values(methods)) {
        assert.ok(op.summary, 'a summary');
        assert.ok(op.responses && Object.keys(op.responses).some((s) => s.startsWith('2')), 'a success response');
      }
    }
  });

  test('request schemas come from the routes: the batch body and query, and the table query', () => {
    const batch = served.paths['/v1/route']?.['post'] as
      | { requestBody?: { content?: Record<string, { schema?: { properties?: Record<string, unknown> } }> }; parameters?: { name: string; in: string }[] }
      | undefined;
    assert.ok(batch?.requestBody?.content?.['application/json']?.schema?.properties?.['keys']);
    assert.deepEqual(batch?.parameters?.map((p) => `${p.in}:${p.name}`), ['query:claim', 'query:format']);
    const table = served.paths['/v1/table']?.['get'] as { parameters?: { name: string; in: string }[] } | undefined;
    assert.deepEqual(table?.parameters?.map((p) => `${p.in}:${p.name}`), ['query:owners']);
  });

  /** The documented zod schema of an answer; parsing strips unknown keys, so equality means none. */
  function fits(route: string, status: number, body: unknown): void {
    const schema = ROUTE_DOCS[route]?.response[status] as z.ZodType | undefined;
    assert.ok(schema && typeof schema.safeParse === 'function', `${route} ${status} is documented`);
    const parsed = schema.safeParse(body);
    assert.ok(parsed.success, `${route} ${status}: ${parsed.success ? '' : parsed.error.message}`);
    assert.deepEqual(parsed.data, body, `${route} ${status}: the answer has fields the document does not name`);
  }

  const cases: [string, InjectOptions & { method: 'GET' | 'POST' | 'DELETE'; url: string }, number][] = [
    ['GET /v1/route/:key', { method: 'GET', url: '/v1/route/user-42' }, 200],
    ['GET /v1/route/:key', { method: 'GET', url: `/v1/route/${'k'.repeat(2000)}` }, 400],
    ['POST /v1/route', { method: 'POST', url: '/v1/route', payload: { keys: ['a', 'b', 'a'] } }, 200],
    ['POST /v1/route', { method: 'POST', url: '/v1/route?format=compact', payload: { keys: ['a', 'b', 'a'] } }, 200],
    ['POST /v1/route', { method: 'POST', url: '/v1/route?format=tiny', payload: { keys: ['a'] } }, 400],
    ['POST /v1/route', { method: 'POST', url: '/v1/route', payload: { keys: 'a' } }, 400],
    ['GET /v1/members', { method: 'GET', url: '/v1/members' }, 200],
    ['GET /v1/table', { method: 'GET', url: '/v1/table' }, 200],
    ['GET /v1/table', { method: 'GET', url: '/v1/table?owners=true' }, 200],
    ['GET /v1/table', { method: 'GET', url: '/v1/table?owners=maybe' }, 400],
    ['GET /v1/table/compact', { method: 'GET', url: '/v1/table/compact' }, 200],
    ['POST /v1/leave', { method: 'POST', url: '/v1/leave', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }, 202],
    ['POST /v1/leave', { method: 'POST', url: '/v1/leave' }, 401],
    // Claims (FakeClaims: "theirs" held by m2, "mine" by this member); in order, each may change them.
    ['POST /v1/claims', { method: 'POST', url: '/v1/claims', payload: { ids: ['fresh', 'mine', 'theirs'], ttl_ms: 60_000 } }, 200],
    ['POST /v1/claims', { method: 'POST', url: '/v1/claims', payload: { ids: ['forever'], ttl_ms: null } }, 200],
    ['POST /v1/claims', { method: 'POST', url: '/v1/claims', payload: { ids: [] } }, 400],
    ['GET /v1/claims/local', { method: 'GET', url: '/v1/claims/local' }, 200],
    ['GET /v1/claims/local', { method: 'GET', url: '/v1/claims/local?limit=1' }, 200],
    ['GET /v1/claims/local', { method: 'GET', url: '/v1/claims/local?page_token=x' }, 400],
    ['GET /v1/claims/:id', { method: 'GET', url: '/v1/claims/theirs' }, 200],
    ['GET /v1/claims/:id', { method: 'GET', url: '/v1/claims/nobody' }, 404],
    ['GET /v1/claims/:id', { method: 'GET', url: `/v1/claims/${'i'.repeat(300)}` }, 400],
    ['DELETE /v1/claims/:id', { method: 'DELETE', url: `/v1/claims/${'i'.repeat(300)}` }, 400],
    ['DELETE /v1/claims/:id', { method: 'DELETE', url: '/v1/claims/theirs' }, 409],
    ['DELETE /v1/claims/:id', { method: 'DELETE', url: '/v1/claims/mine' }, 200],
    ['DELETE /v1/claims/:id', { method: 'DELETE', url: '/v1/claims/mine' }, 404],
  ];
  for (const [route, request, status] of cases) {
    test(`${request.method} ${request.url.slice(0, 40)} answers ${status} as documented`, async () => {
      const res = await app.inject(request);
      assert.equal(res.statusCode, status, res.body);
      fits(route, status, JSON.parse(res.body));
    });
  }

  test('the cases above cover every documented claim status but 501 (next test) and 503 (not_serving)', () => {
    const covered = new Set(cases.map(([route, , status]) => `${route} ${status}`));
    const documented = Object.entries(ROUTE_DOCS)
      .filter(([route]) => route.includes('/v1/claims'))
      .flatMap(([route, doc]) => Object.keys(doc.response).map((status) => `${route} ${status}`));
    const missing = documented.filter((s) => !covered.has(s) && !s.endsWith(' 501') && !s.endsWith(' 503'));
    assert.deepEqual(missing, []);
  });

  test('an agent without claims answers every claim route 501 as documented', async () => {
    const bare = buildAppApi(new FakeView(), { metrics: createMetrics(), adminToken: ADMIN_TOKEN });
    try {
      for (const [route, method, url] of [
        ['POST /v1/claims', 'POST', '/v1/claims'],
        ['GET /v1/claims/local', 'GET', '/v1/claims/local'],
        ['GET /v1/claims/:id', 'GET', '/v1/claims/x'],
        ['DELETE /v1/claims/:id', 'DELETE', '/v1/claims/x'],
      ] as const) {
        const res = await bare.inject({ method, url, ...(method === 'POST' ? { payload: { ids: ['x'] } } : {}) });
        assert.equal(res.statusCode, 501, `${route}: ${res.body}`);
        fits(route, 501, JSON.parse(res.body));
      }
    } finally {
      await bare.close();
    }
  });

  test('a route answer for a claimed key fits RouteAnswer', async () => {
    const res = await app.inject({ method: 'GET', url: '/v1/route/theirs' });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal((JSON.parse(res.body) as { claimed?: boolean }).claimed, true);
    fits('GET /v1/route/:key', 200, JSON.parse(res.body));
  });
});
