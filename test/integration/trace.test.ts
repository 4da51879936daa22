// W3C trace context through Apply between two real sidecars (127.0.0.155-156, local profile), each with
// an app that records the headers it gets: traceparent, tracestate and baggage reach the owner's app
// exactly as the caller sent them, forwarded over gRPC or delivered locally; none arrive when none
// were sent. Both sidecars run with an OpenTelemetry SDK preloaded (test/support/otel-preload.mjs): their
// route, apply, forward and deliver spans continue the caller's trace.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import type { RouteAnswer } from '../../src/runtime/view.js';
import { ApplyTestApp } from '../support/apply-app.js';
import { Cluster, waitFor, type SidecarProcess } from './harness.js';

const PRELOAD = fileURLToPath(new URL('../support/otel-preload.mjs', import.meta.url));

interface SpanLine {
  readonly name: string;
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string | null;
  readonly attributes: Record<string, unknown>;
}

const TRACE = {
  traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
  tracestate: 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7',
  baggage: 'userId=alice,isProduction=false;ttl=30',
};

describe('trace context through Apply', { timeout: 120_000 }, () => {
  const cluster = new Cluster();
  const apps: ApplyTestApp[] = [];
  const nodes: SidecarProcess[] = [];
  const keyOwnedBy: string[] = [];
  const spanDir = mkdtempSync(join(tmpdir(), 'swimring-spans-'));
  const spansOf = (i: number): SpanLine[] => {
    try {
      return readFileSync(join(spanDir, `tr-${i}.jsonl`), 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as SpanLine);
    } catch {
      return [];
    }
  };

  before(async () => {
    const p = cluster.portBase;
    for (let i = 0; i < 2; i++) {
      const host = `127.0.0.${155 + i}`;
      const app = new ApplyTestApp(`app-${i}`);
      await app.listen(host, p + 4);
      apps.push(app);
      nodes.push(cluster.start({ name: `tr-${i}`, host, portBase: p, seeds: i === 0 ? [] : [`127.0.0.155:${p + 1}`], shards: 1024, extraArgs: ['--app-handler-url', `http://${host}:${p + 4}/apply`], env: { NODE_OPTIONS: `--import ${PRELOAD}`, SWIMRING_TEST_SPANS_FILE: join(spanDir, `tr-${i}.jsonl`) } }));
    }
    await waitFor('both ready with one table version', 40_000, async () => {
      const versions = new Set<string>();
      for (const n of nodes) {
        if ((await n.json('/readyz')).status !== 200) return false;
        const t = await n.json<{ version: string; members: number }>('/v1/table');
        if (t.body.members !== 2) return false;
        versions.add(t.body.version);
      }
      return versions.size === 1;
    });
    for (let want = 0; want < 2; want++) {
      for (let i = 0; keyOwnedBy[want] === undefined; i++) {
        const key = `order-${i}`;
        if ((await nodes[0]?.json<RouteAnswer>(`/v1/route/${key}`))?.body.owner?.name === `tr-${want}`) keyOwnedBy[want] = key;
      }
    }
  });

  after(async () => {
    await cluster.stopAll();
    await Promise.all(apps.map((a) => a.close()));
    rmSync(spanDir, { recursive: true, force: true });
  });

  async function apply(key: string, requestId: string, headers: Record<string, string>): Promise<number> {
    const res = await fetch(`${nodes[0]?.httpBase}/v1/apply/${key}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': requestId, ...headers },
      body: '{}',
      signal: AbortSignal.timeout(10_000),
    });
    await res.arrayBuffer();
    return res.status;
  }

  test('forwarded over gRPC to the owner: the owner app gets the three headers unchanged', async () => {
    assert.equal(await apply(keyOwnedBy[1] ?? '', 'trace-fwd-1', TRACE), 200);
    const got = apps[1]?.received.find((r) => r.requestId === 'trace-fwd-1');
    assert.ok(got, 'the owner app got the request');
    assert.deepEqual(got.trace, TRACE);
    assert.equal(got.origin, 'tr-0', 'it came over the gRPC hop');
    assert.equal(apps[0]?.count('trace-fwd-1'), 0);
  });

  test('delivered locally: the same', async () => {
    assert.equal(await apply(keyOwnedBy[0] ?? '', 'trace-local-1', TRACE), 200);
    assert.deepEqual(apps[0]?.received.find((r) => r.requestId === 'trace-local-1')?.trace, TRACE);
  });

  test('no trace headers sent, none received; an invalid traceparent is dropped with its tracestate', async () => {
    assert.equal(await apply(keyOwnedBy[1] ?? '', 'trace-none-1', {}), 200);
    assert.deepEqual(apps[1]?.received.find((r) => r.requestId === 'trace-none-1')?.trace, {});
    assert.equal(await apply(keyOwnedBy[1] ?? '', 'trace-bad-1', { traceparent: 'garbage', tracestate: 'a=b', baggage: 'k=v' }), 200);
    assert.deepEqual(apps[1]?.received.find((r) => r.requestId === 'trace-bad-1')?.trace, { baggage: 'k=v' });
  });

  test("with an SDK registered, the sidecars' spans continue the caller's trace: apply, forward, the owner's deliver, route", async () => {
    const [, traceId, parentId] = TRACE.traceparent.split('-');
    assert.equal(await apply(keyOwnedBy[1] ?? '', 'trace-span-1', TRACE), 200);
    const routeParent = '00-11111111111111111111111111111111-2222222222222222-01';
    const routed = await fetch(`${nodes[0]?.httpBase}/v1/route/${keyOwnedBy[1]}`, { headers: { traceparent: routeParent } });
    assert.equal(routed.status, 200);
    await routed.arrayBuffer();
    const callerSpans = await waitFor('the caller sidecar spans', 10_000, async () => {
      const spans = spansOf(0);
      return spans.some((s) => s.name === 'swimring.route' && s.traceId === '11111111111111111111111111111111') && spans;
    });
    const applySpan = callerSpans.find((s) => s.name === 'swimring.apply' && s.attributes['swimring.request_id'] === 'trace-span-1');
    assert.ok(applySpan, 'an apply span');
    assert.equal(applySpan.traceId, traceId);
    assert.equal(applySpan.parentSpanId, parentId, "a child of the caller's span");
    assert.equal(applySpan.attributes['swimring.path'], 'forwarded');
    const forward = callerSpans.find((s) => s.name === 'swimring.forward' && s.parentSpanId === applySpan.spanId);
    assert.ok(forward, 'a forward span under the apply span');
    assert.equal(forward.attributes['swimring.owner'], 'tr-1');
    const route = callerSpans.find((s) => s.name === 'swimring.route' && s.traceId === '11111111111111111111111111111111');
    assert.equal(route?.parentSpanId, '2222222222222222');
    const deliver = await waitFor("the owner's deliver span", 10_000, async () => spansOf(1).find((s) => s.name === 'swimring.deliver' && s.attributes['swimring.request_id'] === 'trace-span-1'));
    assert.equal(deliver.traceId, traceId);
    assert.equal(deliver.parentSpanId, parentId, 'the owner continues the trace the caller sent, unchanged');
    assert.equal(deliver.attributes['swimring.origin'], 'tr-0');
    assert.deepEqual(apps[1]?.received.find((r) => r.requestId === 'trace-span-1')?.trace, TRACE, 'the app still gets the headers as sent');
  });
});
