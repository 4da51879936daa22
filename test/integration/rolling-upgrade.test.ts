// Rolling upgrade across protocol versions, on real processes on loopback (docs/wire.md "Versions and
// rolling upgrades"). A "newer build" is the same dist/main.js started with the test-only switch
// SWIMRING_TEST_PROTOCOL_VERSIONS=1-2: it also speaks the test-only version 2. Default processes speak
// version 1 only, exactly as every build before ranges did.
//
//  1. A 1-2 member joins a version-1 cluster, serves and leaves; it talks version 1 to everyone.
//  2. Members that speak no version in common with the cluster (2 only) are refused with a clear
//     reason at the seed, whether the seed is a version-1 member or a 1-2 one, and never form a
//     cluster of their own beside it.
//  3. A four-member version-1 cluster is upgraded member by member (leave, restart under the same name
//     and address with the newer build): never a dead verdict, never a split, and once all speak 1-2
//     every gossip packet is version 2.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { PROTOCOL_TAG, TEST_VERSIONS_ENV } from '../../src/codec/protocol-version.js';
import type { MemberView } from '../../src/runtime/view.js';
import { Cluster, metricValue, viewOf, waitFor, type NodeSpec, type SidecarProcess } from './harness.js';

const NEWER = { [TEST_VERSIONS_ENV]: '1-2' };

/**
 * 2^10 shards: a joining member rebuilds its table on its event loop right after the join, long
 * enough at larger sizes on a loaded machine to miss probes (unrelated to versions; the zero-death
 * assertions here are about the version handling).
 */
function small(spec: NodeSpec): NodeSpec {
  return { ...spec, shards: 1024 };
}
const ONLY_TWO = { [TEST_VERSIONS_ENV]: '2' };

/** Every dead verdict any process logged about any member (none is expected in these scenarios). */
function deadVerdicts(nodes: readonly SidecarProcess[]): string[] {
  const out: string[] = [];
  for (const n of nodes) {
    for (const line of n.logs) {
      if (line.includes('"membership change"') && line.includes('"to":"dead"')) out.push(`${n.name}: ${line}`);
    }
  }
  return out;
}

/** Every running node sees exactly the running nodes alive (no split, nobody missing). */
async function oneView(nodes: readonly SidecarProcess[]): Promise<boolean> {
  const names = nodes.map((n) => n.name).sort().join();
  for (const n of nodes) {
    const alive = (await viewOf(n)).filter((m) => m.state === 'alive').map((m) => m.name).sort().join();
    if (alive !== names) return false;
  }
  return true;
}

async function ready(n: SidecarProcess): Promise<boolean> {
  return (await n.json('/readyz')).status === 200;
}

async function metric(n: SidecarProcess, name: string, filter = ''): Promise<number> {
  return metricValue(await n.metrics(), name, filter);
}

function memberIn(view: readonly MemberView[], name: string): MemberView | undefined {
  return view.find((m) => m.name === name);
}

async function startAndSettle(cluster: Cluster, spec: NodeSpec, all: () => SidecarProcess[]): Promise<SidecarProcess> {
  const node = cluster.start(spec);
  try {
    await waitFor(`${spec.name} ready`, 40_000, () => ready(node));
    await waitFor(`one view with ${spec.name}`, 30_000, () => oneView(all()));
  } catch (err) {
    console.error(cluster.dumpLogs());
    throw err;
  }
  return node;
}

async function leave(n: SidecarProcess): Promise<void> {
  n.signal('SIGTERM');
  await waitFor(`${n.name} exited`, 20_000, async () => !n.running);
  assert.equal(n.exitCode, 0, `${n.name}: exit ${n.exitCode} signal ${n.exitSignal}`);
}

describe('a 1-2 member in a version-1 cluster; members with no common version refused', { timeout: 240_000 }, () => {
  const cluster = new Cluster();
  after(async () => {
    await cluster.stopAll();
  });

  test('joins, serves and leaves, talking version 1; a version-2-only member is refused by either seed', async () => {
    const v1 = [0, 1, 2].map((i) => cluster.start(small(cluster.spec(i))));
    await waitFor('version-1 cluster ready', 40_000, async () => (await Promise.all(v1.map(ready))).every(Boolean));
    await waitFor('version-1 cluster in one view', 30_000, () => oneView(v1));

    const newer = await startAndSettle(cluster, small(cluster.spec(3, { env: NEWER })), () => [...v1, cluster.nodes[3]!]);

    // Serving: every member, old ones included, sees it alive and serving, with its range advertised
    // in its record (carried by version-1 members that do not read it).
    for (const n of v1) {
      const rec = memberIn(await viewOf(n), newer.name);
      assert.equal(rec?.serving, true, `${n.name} sees ${newer.name} serving`);
      assert.equal(rec?.tags[PROTOCOL_TAG], '1-2', `${n.name} carries ${newer.name}'s range`);
    }
    await waitFor(`${newer.name} has sent and accepted gossip`, 20_000, async () => {
      return (await metric(newer, 'swimring_gossip_packets_by_version_total', 'direction="in"')) > 20;
    });
    // With only version-1 peers it wrote and received version 1 alone, and no old member refused a packet.
    assert.equal(await metric(newer, 'swimring_gossip_packets_by_version_total', 'version="2"'), 0);
    assert.ok((await metric(newer, 'swimring_gossip_packets_by_version_total', 'direction="out",version="1"')) > 0);
    for (const n of v1) assert.equal(await metric(n, 'swimring_decode_rejections_total', 'reason="unsupported-version"'), 0, n.name);

    // A member speaking only version 2 is refused by a version-1 seed (its own check) and by the 1-2
    // seed (members node-0..2 speak only 1). It never serves beside the cluster: not even with
    // --bootstrap (whether the refusal beats its join timeout or comes after it bootstrapped alone).
    const refusedAtOld = cluster.start(small(cluster.spec(5, { env: ONLY_TWO, seeds: [v1[0]!.grpcAddr] })));
    const refusedAtNew = cluster.start(
      small(cluster.spec(6, { env: ONLY_TWO, seeds: [newer.grpcAddr], extraArgs: ['--bootstrap', '--join-timeout-ms', '1000'] })),
    );
    for (const refused of [refusedAtOld, refusedAtNew]) {
      await waitFor(`${refused.name} counts its refusal`, 20_000, async () => {
        return (await metric(refused, 'swimring_join_refusals_total', 'reason="unsupported-version"')) > 0;
      });
    }
    assert.ok((await metric(v1[0]!, 'swimring_grpc_rejections_total', 'reason="unsupported-version"')) > 0);
    assert.ok((await metric(newer, 'swimring_grpc_rejections_total', 'reason="unsupported-version"')) > 0);
    const refusalLog = (n: SidecarProcess): string => n.logs.find((l) => l.includes('a seed refused this member')) ?? '';
    assert.match(refusalLog(refusedAtOld), /protocolVersion: 2 is not supported|protocol versions 2-2/);
    assert.match(refusalLog(refusedAtNew), /speaks protocol versions 2-2; member node-[0-2] speaks 1-1/);
    // Well past the join timeout: unready, saying why, and unknown to the cluster.
    await sleep(2_000);
    for (const refused of [refusedAtOld, refusedAtNew]) {
      assert.equal(refused.running, true);
      const readyz = await refused.json<{ ok: boolean; reasons: string[] }>('/readyz');
      assert.equal(readyz.status, 503, `${refused.name} stays unready`);
      assert.match(readyz.body.reasons.join(';'), /refused by seed .*protocol/, `${refused.name}: ${JSON.stringify(readyz.body)}`);
      for (const n of [...v1, newer]) assert.equal(memberIn(await viewOf(n), refused.name), undefined, `${n.name} never lists ${refused.name}`);
    }
    assert.ok(!refusedAtOld.logs.some((l) => l.includes('bootstrapping a new cluster alone')), 'without --bootstrap it never forms a cluster');

    // An incompatible pod among a healthy member's seeds (as in a headless Service) refuses that
    // member's joins, which is counted, but the member is in the cluster and stays ready.
    const healthy = cluster.start(small(cluster.spec(4, { seeds: [refusedAtOld.grpcAddr, v1[0]!.grpcAddr] })));
    await waitFor(`${healthy.name} ready`, 40_000, () => ready(healthy));
    await waitFor(`${healthy.name} refused by the incompatible seed`, 20_000, async () => {
      return (await metric(healthy, 'swimring_join_refusals_total', 'reason="unsupported-version"')) > 0;
    });
    await sleep(1_500); // past a seed-watch period, which tries the refusing seed again
    assert.equal((await healthy.json('/readyz')).status, 200, `${healthy.name} stays ready`);
    v1.push(healthy);
    await waitFor('one view with the healthy member', 20_000, () => oneView([...v1, newer]));
    await refusedAtOld.stop();
    await refusedAtNew.stop();

    // Leaves gracefully: left everywhere, never dead.
    await leave(newer);
    await waitFor(`${newer.name} left everywhere`, 15_000, async () => {
      const views = await Promise.all(v1.map(viewOf));
      return views.every((v) => memberIn(v, newer.name)?.state === 'left');
    });
    assert.ok(await oneView(v1), 'the version-1 members still share one view');
    assert.deepEqual(deadVerdicts(cluster.nodes), []);
  });
});

describe('a version-1 cluster upgraded member by member', { timeout: 360_000 }, () => {
  const cluster = new Cluster();
  after(async () => {
    await cluster.stopAll();
  });

  test('no dead verdict, one view after every step, and version 2 between upgraded members', async () => {
    const size = 4;
    const current: SidecarProcess[] = [];
    for (let i = 0; i < size; i++) current.push(cluster.start(small(cluster.spec(i))));
    await waitFor('version-1 cluster ready', 40_000, async () => (await Promise.all(current.map(ready))).every(Boolean));
    await waitFor('version-1 cluster in one view', 30_000, () => oneView(current));

    for (let i = 0; i < size; i++) {
      const old = current[i]!;
      const others = current.filter((n) => n !== old);
      // A pod replaced in place (a StatefulSet): leave, then the newer build under the same name and
      // address, seeded at a member that stays.
      await leave(old);
      await waitFor(`${old.name} left everywhere`, 15_000, async () => {
        const views = await Promise.all(others.map(viewOf));
        return views.every((v) => memberIn(v, old.name)?.state === 'left');
      });
      const spec = small(cluster.spec(i, { env: NEWER, seeds: [others[0]!.grpcAddr] }));
      current[i] = await startAndSettle(cluster, spec, () => current.map((n, j) => (j === i ? cluster.nodes.at(-1)! : n)));
      for (const n of current) {
        assert.equal(await metric(n, 'swimring_decode_rejections_total', 'reason="unsupported-version"'), 0, `${n.name} after step ${i}`);
      }
      assert.deepEqual(deadVerdicts(cluster.nodes), [], `no dead verdict after step ${i}`);
    }

    // Every member now speaks 1-2 and knows every other's range: all gossip is version 2.
    const sentV1 = async (): Promise<number[]> => Promise.all(current.map((n) => metric(n, 'swimring_gossip_packets_by_version_total', 'direction="out",version="1"')));
    const sentV2 = async (): Promise<number> => {
      let sum = 0;
      for (const n of current) sum += await metric(n, 'swimring_gossip_packets_by_version_total', 'direction="out",version="2"');
      return sum;
    };
    const v1Before = await sentV1();
    const v2Before = await sentV2();
    await waitFor('version-2 gossip flowing', 20_000, async () => (await sentV2()) > v2Before + 50);
    assert.deepEqual(await sentV1(), v1Before, 'no version-1 packet once every member speaks 2');
    for (const n of current) {
      assert.ok((await metric(n, 'swimring_gossip_packets_by_version_total', 'direction="in",version="2"')) > 0, `${n.name} received version 2`);
    }
    assert.ok(await oneView(current), 'one view at the end');
    assert.deepEqual(deadVerdicts(cluster.nodes), []);
  });
});
