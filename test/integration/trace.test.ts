// W3C trace context through Apply between two real sidecars (127.0.0.155-156, local profile), each with
// an app that records the headers it gets: traceparent, tracestate and baggage reach the owner's app
// exactly as the caller sent them, forwarded over gRPC or delivered locally; none arrive when none
// were sent.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { RouteAnswer } from '../../src/runtime/view.js';
import { ApplyTestApp } from '../support/apply-app.js';
import { Cluster, waitFor, type SidecarProcess } from './harness.js';

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

  before(async () => {
    const p = cluster.portBase;
    for (let i = 0; i < 2; i++) {
      const host = `127.0.0.${155 + i}`;
      const app = new ApplyTestApp(`app-${i}`);
      await app.listen(host, p + 4);
      apps.push(app);
      nodes.push(cluster.start({ name: `tr-${i}`, host, portBase: p, seeds: i === 0 ? [] : [`127.0.0.155:${p + 1}`], shards: 1024, extraArgs: ['--app-handler-url', `http://${host}:${p + 4}/apply`] }));
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
});
