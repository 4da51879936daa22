// Five real sidecar processes on 127.0.0.10-14 (local profile): convergence, route agreement, crash,
// graceful leave, restart under the same name, a second live process with one name, hostile input.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { Cluster, metricValue, waitFor, type SidecarProcess } from './harness.js';
import type { MemberView, RouteAnswer } from '../../src/runtime/view.js';

const KEYS = Array.from({ length: 10_000 }, (_, i) => `key-${i}`);

interface MembersBody {
  version: string;
  members: MemberView[];
}
interface RoutesBody {
  version: string;
  routes: RouteAnswer[];
}

async function view(n: SidecarProcess): Promise<MembersBody> {
  return (await n.json<MembersBody>('/v1/members')).body;
}

function stateOf(body: MembersBody, name: string): string | undefined {
  return body.members.find((m) => m.name === name)?.state;
}

async function routes(n: SidecarProcess): Promise<RoutesBody> {
  const res = await n.json<RoutesBody>('/v1/route', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ keys: KEYS }),
  });
  assert.equal(res.status, 200, `POST /v1/route on ${n.name}: ${JSON.stringify(res.body).slice(0, 300)}`);
  return res.body;
}

/** owner|replicas per key, as one comparable string. */
function fingerprint(r: RoutesBody): string[] {
  return r.routes.map((a) => `${a.owner?.name ?? '-'}|${a.replicas.map((x) => x.name).join(',')}`);
}

async function allAgree(nodes: SidecarProcess[], expectedOwners: number): Promise<{ version: string; prints: string[] } | undefined> {
  const answers = await Promise.all(nodes.map(routes));
  const versions = new Set(answers.map((a) => a.version));
  if (versions.size !== 1) return undefined;
  const owners = new Set(answers[0]!.routes.map((a) => a.owner?.name));
  if (owners.size !== expectedOwners) return undefined;
  const prints = answers.map(fingerprint);
  for (const p of prints.slice(1)) if (p.join('\n') !== prints[0]!.join('\n')) return undefined;
  return { version: answers[0]!.version, prints: prints[0]! };
}

describe('five sidecars on loopback', { timeout: 240_000 }, () => {
  const cluster = new Cluster();
  let baseline: { version: string; prints: string[] };

  before(async () => {
    for (let i = 0; i < 5; i++) cluster.start(cluster.spec(i));
    await cluster.withLogsOnFailure(async () => {
      await waitFor('all five ready', 30_000, async () => {
        const ready = await Promise.all(cluster.nodes.map((n) => n.json('/readyz').then((r) => r.status === 200)));
        return ready.every(Boolean);
      });
    });
  });

  after(async () => {
    await cluster.stopAll();
  });

  test('converge: every member sees five alive members', async () => {
    await waitFor('five alive everywhere', 20_000, async () => {
      const views = await Promise.all(cluster.nodes.map(view));
      return views.every((v) => v.members.filter((m) => m.state === 'alive').length === 5);
    });
  });

  test('all five give the same owner, replicas and table version for 10,000 keys', async () => {
    baseline = await waitFor('route agreement', 20_000, () => allAgree(cluster.nodes, 5));
    assert.equal(baseline.prints.length, KEYS.length);
    for (const p of baseline.prints) {
      const [owner, replicas] = p.split('|');
      const reps = replicas!.split(',');
      assert.equal(reps.length, 2, 'two replicas');
      assert.ok(!reps.includes(owner!), 'replicas never include the owner');
      assert.equal(new Set(reps).size, 2, 'replicas distinct');
    }
  });

  test('kill -9 one member: everyone marks it dead, routes converge, only its shards moved', async () => {
    const victim = cluster.nodes[4]!;
    victim.signal('SIGKILL');
    await victim.exited;
    const rest = cluster.nodes.slice(0, 4);
    await waitFor('victim dead everywhere', 30_000, async () => {
      const views = await Promise.all(rest.map(view));
      return views.every((v) => stateOf(v, victim.name) === 'dead');
    });
    const after = await waitFor('route agreement after crash', 20_000, () => allAgree(rest, 4));
    assert.notEqual(after.version, baseline.version);
    for (let i = 0; i < KEYS.length; i++) {
      const beforeOwner = baseline.prints[i]!.split('|')[0];
      const afterOwner = after.prints[i]!.split('|')[0];
      if (beforeOwner !== victim.name) assert.equal(afterOwner, beforeOwner, `key ${KEYS[i]} moved although its owner survived`);
      else assert.notEqual(afterOwner, victim.name);
    }
  });

  test('SIGTERM one member: the others see it as left, and it exits 0', async () => {
    const leaver = cluster.nodes[3]!;
    leaver.signal('SIGTERM');
    await waitFor('leaver exited', 20_000, async () => !leaver.running);
    assert.equal(leaver.exitCode, 0, `exit code ${leaver.exitCode} signal ${leaver.exitSignal}`);
    const rest = cluster.nodes.slice(0, 3);
    await waitFor('leaver left everywhere', 10_000, async () => {
      const views = await Promise.all(rest.map(view));
      return views.every((v) => stateOf(v, leaver.name) === 'left');
    });
  });

  test('a restart under the same name on a new address supersedes the old record', async () => {
    const restarted = cluster.start(cluster.spec(4, { host: '127.0.0.24', seeds: [cluster.nodes[0]!.grpcAddr] }));
    const rest = cluster.nodes.slice(0, 3);
    await waitFor('restarted member alive at its new address everywhere', 20_000, async () => {
      const views = await Promise.all(rest.map(view));
      return views.every((v) => {
        const recs = v.members.filter((m) => m.name === 'node-4');
        return recs.length === 1 && recs[0]!.state === 'alive' && recs[0]!.addresses.gossip === restarted.gossipAddr;
      });
    });
  });

  test('a second live process with the same name is reported', async () => {
    const twin = cluster.start(cluster.spec(4, { host: '127.0.0.25', seeds: [cluster.nodes[0]!.grpcAddr] }));
    try {
      await waitFor('name conflict counted', 30_000, async () => {
        const texts = await Promise.all([...cluster.live()].map((n) => n.metrics().catch(() => '')));
        return texts.some((t) => metricValue(t, 'swimring_name_conflicts_total') > 0);
      });
    } finally {
      await twin.stop();
    }
  });

  test('malformed UDP, gRPC and HTTP input is rejected and counted; the sidecar keeps serving', async () => {
    const target = cluster.nodes[0]!;
    const before = await target.metrics();
    const sock = createSocket('udp4');
    const junk = [Buffer.from('hello'), Buffer.alloc(0), Buffer.from([0x53, 0x57, 0xff, 0x00, 0x01]), Buffer.alloc(2000, 0xab)];
    for (const j of junk) await new Promise<void>((res) => sock.send(j, target.spec.portBase, target.spec.host, () => res()));
    sock.close();

    const badJson = await target.json<{ error: { code: string } }>('/v1/route', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"keys": [1,2' });
    assert.equal(badJson.status, 400);
    const badShape = await target.json<{ error: { code: string } }>('/v1/route', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"keys": "nope"}' });
    assert.equal(badShape.status, 400);
    assert.ok(badShape.body.error, 'error body names the problem');

    const { ControlPlaneClient } = await import('../../src/grpc/client.js');
    const client = new ControlPlaneClient();
    await assert.rejects(
      client.negotiate(target.grpcAddr, [{ name: '', lifeId: 'x', incarnation: -1, state: 'alive', gossipAddr: 'nope', grpcAddr: 'nope', meta: { appAddr: '', serving: true, tags: {} } }], false, 5000),
      /INVALID_ARGUMENT|invalid/i,
    );
    client.close();

    const afterText = await waitFor('rejections counted', 5000, async () => {
      const t = await target.metrics();
      return metricValue(t, 'swimring_decode_rejections_total') >= metricValue(before, 'swimring_decode_rejections_total') + 3 ? t : undefined;
    });
    assert.ok(metricValue(afterText, 'swimring_grpc_rejections_total') > metricValue(before, 'swimring_grpc_rejections_total'));
    assert.ok(metricValue(afterText, 'swimring_http_rejections_total') >= metricValue(before, 'swimring_http_rejections_total') + 2);
    const still = await target.json<RouteAnswer>('/v1/route/still-serving');
    assert.equal(still.status, 200);
    assert.ok(still.body.owner);
    assert.ok(target.running);
  });
});
