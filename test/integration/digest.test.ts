// Digest anti-entropy between real sidecar processes (127.0.0.80-83, local profile, push-pull 5 s):
// the digest RPCs over real gRPC, periodic rounds that find equal roots, a member view repaired by a
// digest round, claims repaired by the digest exchange while the claimant cannot reach a member, and
// the richer Ping.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { GrpcDigestPeer } from '../../src/antientropy/grpc.js';
import { ControlPlaneClient } from '../../src/grpc/client.js';
import { DEFAULT_LIMITS } from '../../src/grpc/limits.js';
import type { MemberView } from '../../src/runtime/view.js';
import { metricValue, waitFor, type SidecarProcess } from './harness.js';
import { blockIncomingTcp, DigestCluster, nftSkipReason, unblock } from './digest-harness.js';
import { memberRecord } from '../support/member-record.js';

interface MembersBody {
  version: string;
  members: MemberView[];
}

async function aliveNames(n: SidecarProcess): Promise<string[]> {
  const body = (await n.json<MembersBody>('/v1/members')).body;
  return body.members.filter((m) => m.state === 'alive').map((m) => m.name).sort();
}

describe('digest anti-entropy between real processes', { timeout: 120_000 }, () => {
  const cluster = new DigestCluster();
  const client = new ControlPlaneClient({ sender: 'digest-test' });
  let claimMade = false;

  before(async () => {
    for (let i = 0; i < 3; i++) cluster.start(cluster.spec(i, { extraArgs: ['--push-pull-interval-ms', '2000'] }));
    await cluster.withLogsOnFailure(async () => {
      await waitFor('three members alive everywhere', 30_000, async () => {
        const views = await Promise.all(cluster.nodes.map(aliveNames));
        return views.every((v) => v.length === 3);
      });
    });
  });

  after(async () => {
    unblock();
    client.close();
    await cluster.stopAll();
  });

  test('ExchangeRoots over real gRPC: converged members hold equal member roots', async () => {
    const [a, b] = cluster.nodes as [SidecarProcess, SidecarProcess];
    await waitFor('equal member roots', 20_000, async () => {
      const ra = await new GrpcDigestPeer(client, a.grpcAddr, 5000, DEFAULT_LIMITS).exchangeRoots([]);
      const rb = await new GrpcDigestPeer(client, b.grpcAddr, 5000, DEFAULT_LIMITS).exchangeRoots([]);
      const ma = ra.find((r) => r.tree === 'members');
      const mb = rb.find((r) => r.tree === 'members');
      assert.ok(ma && mb, 'both members answer with a members root');
      assert.equal(ma.leaves, 256);
      return ma.root.hi === mb.root.hi && ma.root.lo === mb.root.lo && ma.entries === 3;
    });
  });

  test('GetLeaves and FetchEntries over real gRPC answer within the tree shape and refuse outside it', async () => {
    const a = cluster.nodes[0]!;
    const peer = new GrpcDigestPeer(client, a.grpcAddr, 5000, DEFAULT_LIMITS);
    const level1 = await peer.getLeaves('members', 1, [0]);
    assert.equal(level1.length, 16 * 8);
    const all = await peer.fetch('members', Array.from({ length: 256 }, (_, i) => i), { members: [], claims: [] });
    assert.deepEqual(all.members.map((m) => m.name).sort(), ['e-node-0', 'e-node-1', 'e-node-2']);
    await assert.rejects(peer.getLeaves('members', 3, [0]), /level: must be 1\.\.2/);
    await assert.rejects(peer.fetch('members', [256], { members: [], claims: [] }), /buckets\[0\]/);
  });

  test('periodic rounds go by digest: roots compared, equal, nothing swapped', async () => {
    const a = cluster.nodes[0]!;
    const inSync = await waitFor('an in-sync digest round', 20_000, async () => {
      const v = metricValue(await a.metrics(), 'swimring_antientropy_rounds_total', 'result="in_sync"');
      return v > 0 ? v : undefined;
    });
    assert.ok(inSync > 0);
    assert.equal(metricValue(await a.metrics(), 'swimring_antientropy_rounds_total', 'result="fallback"'), 0);
  });

  test('a member record pushed through FetchEntries is merged by the core and reaches every view', async () => {
    // Pushed through FetchEntries (the push half of a digest swap), as a peer's round would.
    const [a, b, c] = cluster.nodes as [SidecarProcess, SidecarProcess, SidecarProcess];
    const ghost = memberRecord('e-ghost', {
      lifeId: 'ghost-life',
      incarnation: 5,
      gossipAddr: '127.0.0.89:9',
      grpcAddr: '127.0.0.89:9',
      meta: { appAddr: '', serving: false, tags: {} },
    });
    const peer = new GrpcDigestPeer(client, a.grpcAddr, 5000, DEFAULT_LIMITS);
    const tree = await peer.exchangeRoots([]);
    assert.ok(tree.length > 0);
    // Which bucket does not matter to the callee's merge; it only bounds what it answers.
    await peer.fetch('members', [0], { members: [ghost], claims: [] });
    const knows = async (n: SidecarProcess): Promise<boolean> => (await n.json<MembersBody>('/v1/members')).body.members.some((m) => m.name === 'e-ghost');
    await waitFor('the ghost on the member it was pushed to', 10_000, () => knows(a));
    // The others learn it from gossip of the merge or from digest rounds; either way the views converge.
    await waitFor('the ghost everywhere', 30_000, async () => (await knows(b)) && (await knows(c)));
  });

  test('claims repaired by the digest exchange while the claimant cannot reach the member', { skip: nftSkipReason() }, async () => {
    const [a, b] = cluster.nodes as [SidecarProcess, SidecarProcess];
    const wired = await b.json('/v1/claims/local');
    assert.equal(wired.status, 200, `the claims HTTP API answers on every agent: ${JSON.stringify(wired.body)}`);
    const before = metricValue(await a.metrics(), 'swimring_antientropy_entries_received_total', 'tree="claims"');
    // Incoming gRPC to A is cut: B's announcement cannot reach it. A's own digest rounds (outgoing
    // gRPC) still can, and are the only way A can learn the claim while the cut lasts.
    blockIncomingTcp(a.spec.host, a.spec.portBase + 1);
    try {
      const made = await b.json<{ results: { status: string }[] }>('/v1/claims', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ids: ['e-digest-id'] }),
      });
      assert.equal(made.status, 200, JSON.stringify(made.body));
      assert.equal(made.body.results[0]?.status, 'claimed');
      claimMade = true;
      await waitFor('A knows B owns e-digest-id', 40_000, async () => {
        const got = await a.json<{ ownerName?: string }>('/v1/claims/e-digest-id');
        return got.status === 200 && got.body.ownerName === b.name;
      });
      const after = metricValue(await a.metrics(), 'swimring_antientropy_entries_received_total', 'tree="claims"');
      assert.ok(after > before, `claims received by digest on A: ${before} -> ${after}`);
    } finally {
      unblock();
    }
  });

  test('Ping over real gRPC reports member count, live members, health score, claims and table version', async () => {
    const a = cluster.nodes[0]!;
    const ping = await client.ping(a.grpcAddr, 5000);
    assert.equal(ping.name, 'e-node-0');
    assert.ok(ping.members >= 3, `members ${ping.members}`);
    assert.ok(ping.liveMembers >= 3 && ping.liveMembers <= ping.members, `live ${ping.liveMembers}`);
    assert.ok(ping.healthScore >= 0);
    if (claimMade) assert.ok(ping.claims >= 1, `claims ${ping.claims}`);
    else assert.equal(ping.claims, 0);
    const body = (await a.json<MembersBody>('/v1/members')).body;
    assert.equal(ping.tableVersion, body.version);
  });
});
