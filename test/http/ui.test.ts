// GET /ui (the status page) and GET /v1/info on the app API: the page is read on its first request, not
// when the API is built; its Content-Security-Policy allows exactly its own inline script and style; a
// missing file is a counted 500; /v1/info sums up the view. The browser test is
// test/integration/ui.test.ts.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { buildAppApi } from '../../src/http/index.js';
import { UI_FILE, uiPlugin } from '../../src/http/routes/ui.js';
import { createMetrics } from '../../src/metrics.js';
import { FakeView } from './fake-view.js';

const sha256 = (text: string): string => createHash('sha256').update(text).digest('base64');

describe('status page', () => {
  test('is small, self-contained: no external script, style, font or image', () => {
    const html = readFileSync(UI_FILE, 'utf8');
    assert.ok(statSync(UI_FILE).size < 16 * 1024, `${statSync(UI_FILE).size} bytes`);
    assert.doesNotMatch(html, /<script[^>]*\bsrc=/i);
    assert.doesNotMatch(html, /<link[^>]*rel="stylesheet"/i);
    assert.doesNotMatch(html, /https?:\/\//i, 'no absolute URL: nothing is fetched from elsewhere');
    assert.doesNotMatch(html, /innerHTML|outerHTML|insertAdjacentHTML|document\.write/, 'member strings reach the page as text only');
    assert.doesNotMatch(html, /\son[a-z]+=/i, 'no inline event handler attributes');
  });

  test('is read on the first request, not when the API is built', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'swimring-ui-'));
    const file = join(dir, 'status.html');
    const app = Fastify();
    void app.register(uiPlugin, { metrics: createMetrics({ defaultMetrics: false }), file });
    try {
      await app.ready();
      // The file appears only now: a page read at start-up would have failed.
      copyFileSync(UI_FILE, file);
      const res = await app.inject({ method: 'GET', url: '/ui' });
      assert.equal(res.statusCode, 200);
      assert.equal(res.body, readFileSync(UI_FILE, 'utf8'));
    } finally {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('answers HTML with a policy that allows exactly its inline script and style', async () => {
    const app = buildAppApi(new FakeView(), { metrics: createMetrics({ defaultMetrics: false }) });
    try {
      const res = await app.inject({ method: 'GET', url: '/ui' });
      assert.equal(res.statusCode, 200);
      assert.match(String(res.headers['content-type']), /^text\/html/);
      assert.equal(res.headers['x-content-type-options'], 'nosniff');
      const csp = String(res.headers['content-security-policy']);
      const script = /<script>([\s\S]*?)<\/script>/.exec(res.body)?.[1] ?? '';
      const style = /<style>([\s\S]*?)<\/style>/.exec(res.body)?.[1] ?? '';
      assert.ok(script.length > 1000 && style.length > 100);
      assert.match(csp, /default-src 'none'/);
      assert.ok(csp.includes(`script-src 'sha256-${sha256(script)}'`), csp);
      assert.ok(csp.includes(`style-src 'sha256-${sha256(style)}'`), csp);
      assert.match(csp, /connect-src 'self'/);
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    } finally {
      await app.close();
    }
  });

  test('a missing page file is a counted 500 naming the file', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const app = Fastify();
    void app.register(uiPlugin, { metrics, file: '/nonexistent/status.html' });
    try {
      const res = await app.inject({ method: 'GET', url: '/ui' });
      assert.equal(res.statusCode, 500);
      assert.match(res.body, /nonexistent\/status\.html is missing/);
      assert.match(await metrics.render(), /swimring_http_rejections_total\{route="\/ui",code="internal"\} 1/);
    } finally {
      await app.close();
    }
  });
});

describe('GET /v1/info', () => {
  test('sums up the view: readiness, counts by state, shares, version and listeners', async () => {
    const view = new FakeView();
    view.ready = { ok: false, reasons: ['not settled'] };
    const app = buildAppApi(view, { metrics: createMetrics({ defaultMetrics: false }), listeners: () => ({ http: '127.0.0.1:7948' }) });
    try {
      const res = await app.inject({ method: 'GET', url: '/v1/info' });
      assert.equal(res.statusCode, 200);
      const info = res.json<Record<string, unknown>>();
      const table = view.table(false);
      assert.deepEqual(info, {
        name: 'm1',
        version: view.members().version,
        ready: { ok: false, reasons: ['not settled'] },
        live: { ok: true, reasons: [] },
        healthScore: null,
        members: { alive: 3, suspect: 0, dead: 0, left: 0, total: 3 },
        table: { shards: table.shards, replicas: table.replicas, members: table.members, shardsPerMember: table.shardsPerMember },
        claims: null,
        listeners: { http: '127.0.0.1:7948' },
      });
    } finally {
      await app.close();
    }
  });
});
