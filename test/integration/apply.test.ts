// Apply between real sidecar processes, each beside a small real HTTP app (test/support/apply-app.ts):
// local owner, remote owner, the same request id twice (and twice at once), refusals, and the owner killed
// with the request in its app's hands. Addresses 127.0.0.70-73.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster, metricValue, randomPortBase, waitFor, type SidecarProcess } from './harness.js';
import { ApplyTestApp } from '../support/apply-app.js';
import { buildTable } from '../../src/placement/index.js';
import type { RouteAnswer } from '../../src/runtime/view.js';

const MAX_BODY = 4096;
/** node-3 runs without --app-handler-url. */
const WITHOUT_HANDLER = 3;
/** node-2 is killed in the last test. */
const VICTIM = 2;

interface ApplyResponse {
  status: number;
  headers: Headers;
  text: string;
  json: Record<string, unknown>;
}

async function apply(node: SidecarProcess, key: string, body: string, headers: Record<string, string> = {}): Promise<ApplyResponse> {
  const res = await fetch(`${node.httpBase}/v1/apply/${encodeURIComponent(key)}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
    signal: AbortSignal.timeout(20_000),
  });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // Non-JSON app answers are compared as text.
  }
  return { status: res.status, headers: res.headers, text, json };
}

function errorOf(r: ApplyResponse): Record<string, unknown> {
  const e = r.json['error'];
  assert.ok(typeof e === 'object' && e !== null, `an error body, got ${r.status} ${r.text}`);
  return e as Record<string, unknown>;
}

async function ownerOf(node: SidecarProcess, key: string): Promise<string> {
  const res = await node.json<RouteAnswer>(`/v1/route/${encodeURIComponent(key)}`);
  return res.body.owner?.name ?? '';
}

describe('Apply between real sidecars', { timeout: 120_000 }, () => {
  const cluster = new Cluster(randomPortBase());
  const apps: ApplyTestApp[] = [];
  let nodes: SidecarProcess[] = [];
  /** A key owned by each node, in node-0's view. */
  const keyOf: string[] = [];

  before(async () => {
    const p = cluster.portBase;
    for (let i = 0; i < 4; i++) {
      const host = `127.0.0.${70 + i}`;
      const app = new ApplyTestApp(`app-${i}`);
      if (i !== WITHOUT_HANDLER) await app.listen(host, p + 4);
      apps.push(app);
      cluster.start({
        name: `node-${i}`,
        host,
        portBase: p,
        seeds: i === 0 ? [] : [`127.0.0.70:${p + 1}`],
        shards: 4096,
        extraArgs: [
          ...(i !== WITHOUT_HANDLER ? ['--app-handler-url', `http://${host}:${p + 4}/apply`] : []),
          '--apply-max-body-bytes',
          String(MAX_BODY),
        ],
      });
    }
    nodes = cluster.nodes;
    try {
      await waitFor('four members, one table version everywhere, all ready', 40_000, async () => {
        const versions = new Set<string>();
        for (const n of nodes) {
          const ready = await n.json('/readyz');
          if (ready.status !== 200) return false;
          const t = await n.json<{ version: string; members: number }>('/v1/table');
          if (t.body.members !== 4) return false;
          versions.add(t.body.version);
        }
        return versions.size === 1;
      });
      const node0 = nodes[0]!;
      // Once node-2 is gone, its key must move to a member with a handler, for the kill test to end in a delivery.
      const afterKill = buildTable(['node-0', 'node-1', `node-${WITHOUT_HANDLER}`], { shards: 4096, replicas: 2 });
      for (let want = 0; want < 4; want++) {
        for (let i = 0; ; i++) {
          const key = `job-${want}-${i}`;
          if (want === VICTIM && afterKill.ownerOf(afterKill.shardOf(key)) === `node-${WITHOUT_HANDLER}`) continue;
          if ((await ownerOf(node0, key)) === `node-${want}`) {
            keyOf[want] = key;
            break;
          }
        }
      }
    } catch (err) {
      process.stderr.write(cluster.dumpLogs());
      throw err;
    }
  });

  after(async () => {
    await cluster.stopAll();
    await Promise.all(apps.map((a, i) => (i === WITHOUT_HANDLER ? undefined : a.close())));
  });

  test('a key this member owns: its own app answers, and the answer comes back as is', async () => {
    const r = await apply(nodes[0]!, keyOf[0]!, 'hello', { 'content-type': 'text/plain', 'idempotency-key': 'local-1' });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers.get('x-swimring-path'), 'local');
    assert.equal(r.headers.get('x-swimring-owner'), 'node-0');
    assert.equal(r.headers.get('x-swimring-duplicate'), 'false');
    assert.equal(r.headers.get('x-request-id'), 'local-1');
    assert.equal(r.json['app'], 'app-0');
    assert.equal(r.json['key'], keyOf[0]);
    assert.equal(r.json['body'], 'hello');
    assert.equal(r.json['contentType'], 'text/plain');
    assert.equal(apps[0]!.count('local-1'), 1);
  });

  test("a key another member owns: that member's app gets it, and its answer returns", async () => {
    const r = await apply(nodes[0]!, keyOf[1]!, JSON.stringify({ status: 201 }), { 'x-request-id': 'remote-1' });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.headers.get('x-swimring-path'), 'forwarded');
    assert.equal(r.headers.get('x-swimring-owner'), 'node-1');
    assert.equal(r.json['app'], 'app-1');
    assert.equal(r.json['origin'], 'node-0', 'the owner tells its app which member the request came through');
    assert.equal(apps[1]!.count('remote-1'), 1);
    assert.equal(apps[0]!.count('remote-1'), 0);
  });

  test('a request id without a header is made up and returned', async () => {
    const r = await apply(nodes[2]!, keyOf[1]!, '{}');
    assert.equal(r.status, 200, r.text);
    const id = r.headers.get('x-request-id') ?? '';
    assert.match(id, /^[0-9a-f-]{36}$/);
    assert.equal(apps[1]!.count(id), 1);
  });

  test('the same request id twice, from two members: delivered once, the second answer flagged duplicate', async () => {
    const first = await apply(nodes[0]!, keyOf[2]!, '{"n": 1}', { 'idempotency-key': 'twice-1' });
    const second = await apply(nodes[1]!, keyOf[2]!, '{"n": 2}', { 'idempotency-key': 'twice-1' });
    assert.equal(first.status, 200, first.text);
    assert.equal(second.status, 200, second.text);
    assert.equal(first.headers.get('x-swimring-duplicate'), 'false');
    assert.equal(second.headers.get('x-swimring-duplicate'), 'true');
    assert.equal(second.text, first.text, 'the stored answer of the first delivery');
    assert.equal(apps[2]!.count('twice-1'), 1);
  });

  test('the same request id twice at once: the second waits for the first, the app sees it once', async () => {
    const body = JSON.stringify({ delayMs: 400 });
    const [a, b] = await Promise.all([
      apply(nodes[0]!, keyOf[1]!, body, { 'idempotency-key': 'concurrent-1' }),
      apply(nodes[2]!, keyOf[1]!, body, { 'idempotency-key': 'concurrent-1' }),
    ]);
    assert.equal(a.status, 200, a.text);
    assert.equal(b.status, 200, b.text);
    assert.deepEqual([a.headers.get('x-swimring-duplicate'), b.headers.get('x-swimring-duplicate')].sort(), ['false', 'true']);
    assert.equal(apps[1]!.count('concurrent-1'), 1);
  });

  test('refusals answer JSON with a code, and are counted', async () => {
    const before = await nodes[0]!.metrics();
    const big = await apply(nodes[0]!, keyOf[1]!, 'x'.repeat(MAX_BODY + 1), { 'idempotency-key': 'big-1' });
    assert.equal(big.status, 413, big.text);
    assert.equal(errorOf(big)['code'], 'body_too_large');
    const badId = await apply(nodes[0]!, keyOf[1]!, '{}', { 'idempotency-key': 'has space' });
    assert.equal(badId.status, 400, badId.text);
    assert.equal(errorOf(badId)['code'], 'invalid_request_id');
    const noHandler = await apply(nodes[0]!, keyOf[WITHOUT_HANDLER]!, '{}', { 'idempotency-key': 'nohandler-1' });
    assert.equal(noHandler.status, 501, noHandler.text);
    assert.equal(errorOf(noHandler)['code'], 'no_app_handler');
    assert.equal(errorOf(noHandler)['owner'], `node-${WITHOUT_HANDLER}`);
    assert.equal(errorOf(noHandler)['retriable'], false);
    assert.equal(apps[1]!.count('big-1'), 0);
    const after = await nodes[0]!.metrics();
    const grew = (name: string, labels: string): number => metricValue(after, name, labels) - metricValue(before, name, labels);
    assert.equal(grew('swimring_apply_requests_total', 'outcome="rejected"'), 2, 'oversized body and bad request id');
    assert.equal(grew('swimring_apply_requests_total', 'outcome="no_app_handler"'), 1);
    assert.equal(grew('swimring_http_rejections_total', 'code="body_too_large"'), 1);
    assert.ok(metricValue(after, 'swimring_apply_requests_total', 'path="forwarded"') >= 3);
    const owner2 = await nodes[2]!.metrics();
    assert.ok(metricValue(owner2, 'swimring_apply_duplicates_suppressed_total') >= 1, 'node-2 answered twice-1 from its record');
  });

  test('the owner is killed (SIGKILL) while its app holds the request: an error that says it may have been delivered, then success at the new owner with the same id', async () => {
    const victim = VICTIM;
    const key = keyOf[victim]!;
    const id = 'killed-1';
    const pending = apply(nodes[0]!, key, JSON.stringify({ hold: true }), { 'idempotency-key': id });
    await waitFor('the owner app to hold the request', 10_000, async () => apps[victim]!.count(id) === 1);
    await nodes[victim]!.stop();

    const failedAnswer = await pending;
    // What is asserted: a retriable 503 naming the request id, saying the request may have reached an app,
    // and naming an owner. Its code is owner_unavailable (node-0's view still named node-2 after the
    // attempts) or owner_changed (the view had moved to the new owner, which is then the one named).
    assert.equal(failedAnswer.status, 503, failedAnswer.text);
    const e = errorOf(failedAnswer);
    assert.ok(e['code'] === 'owner_unavailable' || e['code'] === 'owner_changed', String(e['code']));
    assert.equal(e['retriable'], true);
    assert.equal(e['mayHaveBeenDelivered'], true);
    assert.equal(e['requestId'], id);
    assert.ok(failedAnswer.headers.get('retry-after'), 'Retry-After is set');
    assert.ok(typeof e['owner'] === 'string' && e['owner'] !== '', 'an owner is named');
    if (e['code'] === 'owner_changed') assert.notEqual(e['owner'], `node-${victim}`);

    // The app retries with the same id once its sidecar routes the key elsewhere: the new owner delivers.
    const newOwner = await waitFor('node-0 to route the key elsewhere', 30_000, async () => {
      const o = await ownerOf(nodes[0]!, key);
      return o !== '' && o !== `node-${victim}` ? o : false;
    });
    assert.notEqual(newOwner, `node-${WITHOUT_HANDLER}`);
    const retried = await apply(nodes[0]!, key, '{"retry": true}', { 'idempotency-key': id });
    assert.equal(retried.status, 200, retried.text);
    assert.equal(retried.headers.get('x-swimring-owner'), newOwner);
    assert.equal(retried.headers.get('x-swimring-duplicate'), 'false');
    const newApp = apps[Number(newOwner.slice('node-'.length))]!;
    assert.equal(newApp.count(id), 1, 'the new owner delivered it once');
    // At-least-once across an owner failure: the dead owner's app had it too (docs/apply.md).
    assert.equal(apps[victim]!.count(id), 1);
  });
});
