// Real sidecars on 127.0.0.90-92 (local profile) at a large shard count, whose tables are built on the
// main thread in slices (the table builder), not in a worker thread: the tables agree everywhere, the
// pre-encoded batch and single answers are the same JSON, and members' answers name each other's real
// addresses. (Later builds move to the worker only if a step of a build took over its budget, which a
// loaded machine may cause, so only the first build's place is asserted.)
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster, waitFor, type SidecarProcess } from './harness.js';
import type { RouteAnswer } from '../../src/runtime/view.js';

const SHARDS = 131_072;
const KEYS = Array.from({ length: 2_000 }, (_, i) => `perf-key-${i}`);

interface RoutesBody {
  version: string;
  routes: RouteAnswer[];
}

async function batch(n: SidecarProcess): Promise<{ status: number; text: string }> {
  const res = await fetch(`${n.httpBase}/v1/route`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ keys: KEYS }),
    signal: AbortSignal.timeout(10_000),
  });
  return { status: res.status, text: await res.text() };
}

describe('sidecars with large tables built in slices', { timeout: 120_000 }, () => {
  const cluster = new Cluster(undefined, { hostBase: 90, shards: SHARDS });

  before(async () => {
    for (let i = 0; i < 3; i++) {
      cluster.start(cluster.spec(i));
    }
    await cluster.withLogsOnFailure(async () => {
      await waitFor('three members owning shards everywhere, one version', 60_000, async () => {
        const bodies = await Promise.all(cluster.nodes.map((n) => batch(n)));
        if (bodies.some((b) => b.status !== 200)) return false;
        const parsed = bodies.map((b) => JSON.parse(b.text) as RoutesBody);
        const owners = new Set(parsed[0]!.routes.map((a) => a.owner?.name));
        return owners.size === 3 && new Set(bodies.map((b) => b.text)).size === 1;
      }, 250);
    });
  });

  after(async () => {
    await cluster.stopAll();
  });

  test('every member answers a batch with the same bytes', async () => {
    const bodies = await Promise.all(cluster.nodes.map((n) => batch(n)));
    assert.equal(new Set(bodies.map((b) => b.text)).size, 1);
    const body = JSON.parse(bodies[0]!.text) as RoutesBody;
    assert.equal(body.routes.length, KEYS.length);
    assert.deepEqual(body.routes.map((a) => a.key), KEYS);
  });

  test('single answers equal the batch answers, and name the members\' advertised addresses', async () => {
    const node = cluster.nodes[1]!;
    const body = JSON.parse((await batch(node)).text) as RoutesBody;
    const addresses = new Map(cluster.nodes.map((n) => [n.name, n.gossipAddr]));
    for (const answer of body.routes.slice(0, 50)) {
      const single = await node.json<RouteAnswer>(`/v1/route/${encodeURIComponent(answer.key)}`);
      assert.equal(single.status, 200);
      assert.deepEqual(single.body, answer);
      assert.equal(answer.shard < SHARDS, true);
      assert.equal(answer.owner?.addresses.gossip, addresses.get(answer.owner?.name ?? ''));
      assert.equal(answer.replicas.length, 2);
    }
  });

  test('each member built its first table of several members on the main thread, not in a worker', () => {
    for (const n of cluster.nodes) {
      // A table of one member is a fill, made on the main thread whatever the tuning.
      const built = n.logs.filter((l) => l.includes('ownership table rebuilt') && !/"owners":[01],/.test(l));
      assert.ok(built.length > 0, `${n.name} logged no table build of several members`);
      assert.ok(built[0]!.includes('"builtIn":"inline"'), `${n.name}: first build ${built[0]!}`);
    }
  });
});
