// Claims between real sidecars whose clocks are off, faked with the test-only
// SWIMRING_TEST_CLAIM_CLOCK_OFFSET_MS (docs/ownership.md, "Clocks"): tolerance 60 s; node-1 runs 45 s
// ahead (within it), node-2 two minutes behind (beyond it). Addresses 127.0.0.64-66.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { Cluster, metricValue, randomPortBase, waitFor, type SidecarProcess } from './harness.js';
import type { RouteAnswer } from '../../src/runtime/view.js';

const OFFSETS = [0, 45_000, -120_000];

async function claim(node: SidecarProcess, ids: string[], ttlMs: number | null): Promise<{ status: number; body: { results?: { status: string }[]; error?: { code: string } } }> {
  return node.json('/v1/claims', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ids, ttl_ms: ttlMs }) });
}

async function ownerSeenBy(node: SidecarProcess, id: string): Promise<string | null> {
  const res = await node.json<{ ownerName: string }>(`/v1/claims/${encodeURIComponent(id)}`);
  return res.status === 200 ? res.body.ownerName : null;
}

describe('claims between sidecars with clocks that are off', { timeout: 120_000 }, () => {
  const cluster = new Cluster(randomPortBase());
  let nodes: SidecarProcess[] = [];

  before(async () => {
    const p = cluster.portBase;
    for (let i = 0; i < 3; i++) {
      cluster.start({
        name: `node-${i}`,
        host: `127.0.0.${64 + i}`,
        portBase: p,
        seeds: i === 0 ? [] : [`127.0.0.64:${p + 1}`],
        shards: 4096,
        extraArgs: ['--claim-max-clock-skew-ms', '60000'],
        env: { SWIMRING_TEST_CLAIM_CLOCK_OFFSET_MS: String(OFFSETS[i]) },
      });
    }
    nodes = cluster.nodes;
    try {
      await waitFor('three members, all ready', 40_000, async () => {
        for (const n of nodes) {
          if ((await n.json('/readyz')).status !== 200) return false;
          if ((await n.json<{ members: number }>('/v1/table')).body.members !== 3) return false;
        }
        return true;
      });
    } catch (err) {
      process.stderr.write(cluster.dumpLogs());
      throw err;
    }
  });

  after(async () => {
    await cluster.stopAll();
  });

  test('a receiver 45 s ahead keeps a 10 s claim for its TTL (measured from receipt, not by its clock)', async () => {
    const [n0, n1] = [nodes[0]!, nodes[1]!];
    const res = await claim(n0, ['ahead-1'], 10_000);
    assert.equal(res.body.results?.[0]?.status, 'claimed');
    await waitFor('node-1 to learn the claim', 10_000, async () => (await ownerSeenBy(n1, 'ahead-1')) === 'node-0');
    // node-1's clock reads 35 s past the claim's expiry; the sweep (every second) must not drop it.
    await sleep(2500);
    assert.equal(await ownerSeenBy(n1, 'ahead-1'), 'node-0');
    const route = await n1.json<RouteAnswer>('/v1/route/ahead-1');
    assert.equal(route.body.claimed, true);
    assert.equal(route.body.owner?.name, 'node-0');
  });

  test('a claimant two minutes behind is refused and counted; it then refuses to claim', async () => {
    const [n0, n1, n2] = [nodes[0]!, nodes[1]!, nodes[2]!];
    // Its first claim goes out before it knows: the others refuse it, and their acks tell it.
    const first = await claim(n2, ['behind-1'], null);
    assert.equal(first.status, 200);
    await waitFor('node-0 to refuse node-2\'s claim', 10_000, async () => metricValue(await n0.metrics(), 'swimring_claim_clock_refused_total') >= 1);
    await waitFor('node-1 to refuse node-2\'s claim', 10_000, async () => metricValue(await n1.metrics(), 'swimring_claim_clock_refused_total') >= 1);
    assert.equal(await ownerSeenBy(n0, 'behind-1'), null);
    assert.equal(await ownerSeenBy(n1, 'behind-1'), null);
    assert.equal(metricValue(await n0.metrics(), 'swimring_claim_clock_peers_off'), 1);
    await waitFor('node-2 to find its own clock off', 10_000, async () => metricValue(await n2.metrics(), 'swimring_claim_clock_self_off') === 1);
    const refused = await claim(n2, ['behind-2'], null);
    assert.equal(refused.status, 503);
    assert.equal(refused.body.error?.code, 'clock_skew');
    assert.equal(metricValue(await n0.metrics(), 'swimring_claim_clock_self_off'), 0);
    // The members whose clocks agree still claim, and node-2 follows them, the id it claimed too.
    const mine = await claim(n0, ['behind-1'], null);
    assert.equal(mine.body.results?.[0]?.status, 'claimed');
    await waitFor('every member to name node-0 for behind-1', 10_000, async () => {
      const seen = await Promise.all(nodes.map((n) => ownerSeenBy(n, 'behind-1')));
      return seen.every((o) => o === 'node-0');
    });
    const route = await n2.json<RouteAnswer>('/v1/route/behind-1');
    assert.equal(route.body.owner?.name, 'node-0');
  });
});
