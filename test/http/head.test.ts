// HEAD on both listeners: every route that answers GET answers HEAD with GET's status and headers and no
// body (RFC 9110 9.3.2); /v1/watch answers HEAD without opening a stream. Over real sockets, since a body
// sent to a HEAD request only shows on the wire.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { buildAppApi, buildOpsApi } from '../../src/http/index.js';
import { createMetrics } from '../../src/metrics.js';
import { FakeView } from './fake-view.js';

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly bodyBytes: number;
}

/** One request on a fresh connection; resolves once the response has ended. */
function send(port: number, method: string, path: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, agent: false }, (res) => {
      let bodyBytes = 0;
      res.on('data', (chunk: Buffer) => (bodyBytes += chunk.length));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, bodyBytes }));
    });
    req.setTimeout(5000, () => req.destroy(new Error(`${method} ${path}: no answer in 5 s`)));
    req.on('error', reject);
    req.end();
  });
}

/** The GET routes an instance has, as request paths (parameters filled in). */
function collectGetPaths(app: FastifyInstance): string[] {
  const paths: string[] = [];
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (methods.includes('GET')) paths.push(route.url.replace(/:[a-z]+/g, 'k1'));
  });
  return paths;
}

async function listen(app: FastifyInstance): Promise<number> {
  await app.listen({ host: '127.0.0.1', port: 0 });
  return (app.server.address() as AddressInfo).port;
}

describe('HEAD', () => {
  const cases: [string, (view: FakeView) => FastifyInstance][] = [
    ['ops listener', (view) => buildOpsApi(view, createMetrics())],
    ['app listener', (view) => buildAppApi(view, { metrics: createMetrics() })],
  ];
  for (const [listener, build] of cases) {
    test(`${listener}: every GET route answers HEAD with GET's status and content type, no body`, async () => {
      const app = build(new FakeView());
      const paths = collectGetPaths(app);
      const port = await listen(app);
      try {
        assert.ok(paths.length >= (listener === 'ops listener' ? 3 : 5), `GET routes found: ${paths.join(' ')}`);
        for (const path of paths) {
          const head = await send(port, 'HEAD', path);
          assert.notEqual(head.status, 404, `HEAD ${path}`);
          assert.equal(head.bodyBytes, 0, `HEAD ${path} sent a body`);
          if (path === '/v1/watch') continue; // GET is a stream that does not end; checked below
          const get = await send(port, 'GET', path);
          assert.equal(head.status, get.status, `HEAD ${path}`);
          assert.equal(head.headers['content-type'], get.headers['content-type'], `HEAD ${path}`);
        }
      } finally {
        await app.close();
      }
    });
  }

  test('HEAD /v1/watch names the event-stream type and subscribes nothing', async () => {
    const view = new FakeView();
    const metrics = createMetrics();
    const app = buildAppApi(view, { metrics });
    const port = await listen(app);
    try {
      const head = await send(port, 'HEAD', '/v1/watch');
      assert.equal(head.status, 200);
      assert.match(String(head.headers['content-type']), /^text\/event-stream/);
      assert.equal(view.listeners.size, 0);
      assert.equal((await metrics.registry.getSingleMetric('swimring_http_watchers')?.get())?.values[0]?.value, 0);
    } finally {
      await app.close();
    }
  });

  test('a route without GET still answers HEAD 404 (POST-only /v1/leave)', async () => {
    const app = buildAppApi(new FakeView(), { metrics: createMetrics() });
    const port = await listen(app);
    try {
      assert.equal((await send(port, 'HEAD', '/v1/leave')).status, 404);
    } finally {
      await app.close();
    }
  });
});
