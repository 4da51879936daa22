// Ownership claims between real sidecar processes over real gRPC: a race on one id from two
// members (one winner everywhere, the loser told), route answers naming the claimant, first touch,
// expiry, GetLocalActorIds, and claims released when their owner is killed or leaves.
// Addresses 127.0.0.60-63.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster, metricValue, randomPortBase, waitFor, type SidecarProcess } from './harness.js';
import { ControlPlaneClient } from '../../src/grpc/client.js';
import { getLocalActorIds } from '../../src/ownership/grpc.js';
import type { RouteAnswer } from '../../src/runtime/view.js';

interface ClaimBody {
  id: string;
  ownerName: string;
  claimedAtMs: number;
  expiresAtMs: number | null;
  fence: string;
}
interface ClaimResults {
  version: string;
  results: { id: string; status: string; claim?: ClaimBody }[];
}

/** node-3 is killed with SIGKILL, node-1 leaves with SIGTERM. */
const KILLED = 3;
const LEAVER = 1;

async function claim(node: SidecarProcess, ids: string[], ttlMs?: number | null): Promise<{ status: number; body: ClaimResults }> {
  return node.json<ClaimResults>('/v1/claims', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(ttlMs === undefined ? { ids } : { ids, ttl_ms: ttlMs }),
  });
}

async function ownerSeenBy(node: SidecarProcess, id: string): Promise<string | null> {
  const res = await node.json<ClaimBody>(`/v1/claims/${encodeURIComponent(id)}`);
  return res.status === 200 ? res.body.ownerName : null;
}

/** The owner every node in `nodes` reports for `id`, once they all agree (null = unclaimed everywhere). */
async function agreedOwner(nodes: readonly SidecarProcess[], id: string, want: (owner: string | null) => boolean): Promise<string | null> {
  const owners = await waitFor(`one view of ${id} on ${nodes.map((n) => n.name).join(', ')}`, 20_000, async () => {
    const seen = await Promise.all(nodes.map((n) => ownerSeenBy(n, id)));
    return new Set(seen).size === 1 && want(seen[0] ?? null) ? seen : false;
  });
  return owners[0] ?? null;
}

describe('ownership claims between real sidecars', { timeout: 150_000 }, () => {
  const cluster = new Cluster(randomPortBase());
  let nodes: SidecarProcess[] = [];

  before(async () => {
    const p = cluster.portBase;
    for (let i = 0; i < 4; i++) {
      cluster.start({
        name: `node-${i}`,
        host: `127.0.0.${60 + i}`,
        portBase: p,
        seeds: i === 0 ? [] : [`127.0.0.60:${p + 1}`],
        shards: 4096,
        // A wide announcement window makes the race below a real one: both claims are made before
        // either member hears of the other's.
        extraArgs: ['--claim-announce-window-ms', '400'],
      });
    }
    nodes = cluster.nodes;
    try {
      await waitFor('four members, one table version everywhere, all ready', 40_000, async () => {
        const versions = new Set<string>();
        for (const n of nodes) {
          if ((await n.json('/readyz')).status !== 200) return false;
          const t = await n.json<{ version: string; members: number }>('/v1/table');
          if (t.body.members !== 4) return false;
          versions.add(t.body.version);
        }
        return versions.size === 1;
      });
    } catch (err) {
      process.stderr.write(cluster.dumpLogs());
      throw err;
    }
  });

  after(async () => {
    await cluster.stopAll();
  });

  test('a race on one id: one winner everywhere, the loser drops its claim and is told', async () => {
    const [a, b] = [nodes[1]!, nodes[2]!];
    const [ra, rb] = await Promise.all([claim(a, ['race-1'], null), claim(b, ['race-1'], null)]);
    assert.equal(ra.status, 200);
    assert.equal(rb.status, 200);
    const statuses = [ra.body.results[0]?.status, rb.body.results[0]?.status];
    const winner = await agreedOwner(nodes, 'race-1', (o) => o !== null);
    assert.ok(winner === a.name || winner === b.name, `winner ${winner}`);
    const loser = winner === a.name ? b : a;
    if (statuses.every((s) => s === 'claimed')) {
      // Both claimed locally: the earlier claim (claimedAtMs, then name) won, the loser was told.
      const claimedAt = (r: typeof ra) => r.body.results[0]?.claim?.claimedAtMs ?? 0;
      const [winnerAt, loserAt] = winner === a.name ? [claimedAt(ra), claimedAt(rb)] : [claimedAt(rb), claimedAt(ra)];
      assert.ok(winnerAt < loserAt || (winnerAt === loserAt && winner! < loser.name), 'the earlier claim wins');
      await waitFor('the loser counts a lost claim', 10_000, async () => metricValue(await loser.metrics(), 'swimring_claim_losses_total', 'reason="lost"') === 1);
      // The winner's fencing token ends above the loser's, on every member's route answers.
      const loserFence = BigInt((winner === a.name ? rb : ra).body.results[0]?.claim?.fence ?? '0');
      await waitFor('one fence above the loser\'s on every member', 10_000, async () => {
        const fences = await Promise.all(nodes.map(async (n) => (await n.json<RouteAnswer>('/v1/route/race-1')).body.fence));
        return new Set(fences).size === 1 && fences[0] !== undefined && BigInt(fences[0]) > loserFence;
      });
    } else {
      assert.ok(statuses.includes('owned_elsewhere'), `statuses ${statuses.join(',')}`);
    }
    const local = await loser.json<{ ids: string[] }>('/v1/claims/local');
    assert.ok(!local.body.ids.includes('race-1'));
  });

  test('route answers name the claimant; first touch claims for the asking member', async () => {
    const winner = (await ownerSeenBy(nodes[0]!, 'race-1'))!;
    for (const n of nodes) {
      const r = await n.json<RouteAnswer>('/v1/route/race-1');
      assert.equal(r.body.claimed, true);
      assert.equal(r.body.owner?.name, winner);
    }
    const batch = await nodes[0]!.json<{ routes: RouteAnswer[] }>('/v1/route', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ keys: ['race-1', 'not-claimed-1'] }),
    });
    assert.equal(batch.body.routes[0]?.owner?.name, winner);
    assert.equal(batch.body.routes[0]?.claimed, true);
    assert.equal(batch.body.routes[1]?.claimed, undefined);

    const touched = await nodes[2]!.json<RouteAnswer>('/v1/route/touch-1?claim=true');
    assert.equal(touched.body.claimed, true);
    assert.equal(touched.body.owner?.name, 'node-2');
    await agreedOwner(nodes, 'touch-1', (o) => o === 'node-2');
    const elsewhere = await nodes[0]!.json<RouteAnswer>('/v1/route/touch-1?claim=true');
    assert.equal(elsewhere.body.owner?.name, 'node-2', 'a claimed key is not re-claimed by another member');
  });

  test('GetLocalActorIds over gRPC lists what a member owns, page by page', async () => {
    const n0 = nodes[0]!;
    const ids = ['page-a', 'page-b', 'page-c'];
    const res = await claim(n0, ids, null);
    assert.deepEqual(res.body.results.map((r) => r.status), ['claimed', 'claimed', 'claimed']);
    const client = new ControlPlaneClient({ sender: 'test' });
    try {
      const first = await getLocalActorIds(client, n0.grpcAddr, 2, '', 5000);
      assert.deepEqual(first.ids, ['page-a', 'page-b']);
      assert.notEqual(first.nextPageToken, '');
      const second = await getLocalActorIds(client, n0.grpcAddr, 2, first.nextPageToken, 5000);
      assert.deepEqual(second.ids, ['page-c']);
      assert.equal(second.nextPageToken, '');
    } finally {
      client.close();
    }
    const http = await n0.json<{ ids: string[]; next_page_token: string }>('/v1/claims/local?limit=10');
    assert.deepEqual(http.body.ids, ['page-a', 'page-b', 'page-c']);
  });

  test('a claim that expires is dropped everywhere; a release too', async () => {
    const res = await claim(nodes[0]!, ['ttl-1'], 1500);
    assert.equal(res.body.results[0]?.status, 'claimed');
    await agreedOwner(nodes, 'ttl-1', (o) => o === 'node-0');
    await agreedOwner(nodes, 'ttl-1', (o) => o === null);

    await claim(nodes[2]!, ['released-1'], null);
    await agreedOwner(nodes, 'released-1', (o) => o === 'node-2');
    const del = await nodes[2]!.json<{ released: boolean }>('/v1/claims/released-1', { method: 'DELETE' });
    assert.equal(del.status, 200);
    await agreedOwner(nodes, 'released-1', (o) => o === null);
    const notMine = await nodes[0]!.json<{ error: { code: string } }>('/v1/claims/touch-1', { method: 'DELETE' });
    assert.equal(notMine.status, 409);
    assert.equal(notMine.body.error.code, 'claimed_elsewhere');
  });

  test('fencing tokens grow with each new owner of an id and reach every answer', async () => {
    const first = await claim(nodes[2]!, ['fence-1'], null);
    const f1 = BigInt(first.body.results[0]?.claim?.fence ?? '0');
    assert.ok(f1 > 0n);
    await agreedOwner(nodes, 'fence-1', (o) => o === 'node-2');
    const route = await nodes[0]!.json<RouteAnswer>('/v1/route/fence-1');
    assert.equal(route.body.fence, f1.toString());
    assert.equal((await nodes[0]!.json<RouteAnswer>('/v1/route/never-claimed')).body.fence, undefined);
    assert.equal((await nodes[2]!.json('/v1/claims/fence-1', { method: 'DELETE' })).status, 200);
    await agreedOwner(nodes, 'fence-1', (o) => o === null);
    const second = await claim(nodes[0]!, ['fence-1'], null);
    assert.equal(second.body.results[0]?.status, 'claimed');
    const f2 = BigInt(second.body.results[0]?.claim?.fence ?? '0');
    assert.ok(f2 > f1, `the next owner's token ${f2} is above the previous owner's ${f1}`);
    await agreedOwner(nodes, 'fence-1', (o) => o === 'node-0');
    const seen = await nodes[2]!.json<ClaimBody>('/v1/claims/fence-1');
    assert.equal(seen.body.fence, f2.toString());
  });

  test('claims of a member killed with SIGKILL are released on the others', async () => {
    const victim = nodes[KILLED]!;
    await claim(victim, ['dead-1', 'dead-2'], null);
    await agreedOwner(nodes, 'dead-1', (o) => o === victim.name);
    await victim.stop();
    const rest = nodes.filter((n) => n !== victim);
    await agreedOwner(rest, 'dead-1', (o) => o === null);
    await agreedOwner(rest, 'dead-2', (o) => o === null);
    const released = metricValue(await nodes[0]!.metrics(), 'swimring_claims_released_on_departure_total');
    assert.ok(released >= 2, `released ${released}`);
  });

  test('claims of a member that leaves (SIGTERM) are released on the others', async () => {
    const leaver = nodes[LEAVER]!;
    await claim(leaver, ['leave-1'], null);
    const rest = nodes.filter((n) => n !== leaver && n.running);
    await agreedOwner([...rest, leaver], 'leave-1', (o) => o === leaver.name);
    leaver.signal('SIGTERM');
    await agreedOwner(rest, 'leave-1', (o) => o === null);
    const r = await rest[0]!.json<RouteAnswer>('/v1/route/leave-1');
    assert.equal(r.body.claimed, undefined);
    assert.notEqual(r.body.owner?.name, leaver.name);
  });
});
