// Ownership follows the app's health, with real sidecar processes beside small test apps
// whose readiness the test flips: only serving members own shards; drain moves shards before leaving.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { Cluster, metricValue, waitFor, type SidecarProcess } from './harness.js';
import type { MemberView, RouteAnswer } from '../../src/runtime/view.js';
import { TestApp } from '../support/ready-app.js';

const KEYS = Array.from({ length: 2000 }, (_, i) => `k${i}`);

async function ownersOf(n: SidecarProcess): Promise<{ version: string; owners: string[] }> {
  const res = await n.json<{ version: string; routes: RouteAnswer[] }>('/v1/route', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ keys: KEYS }),
  });
  assert.equal(res.status, 200);
  return { version: res.body.version, owners: res.body.routes.map((r) => r.owner?.name ?? '-') };
}

async function memberOf(n: SidecarProcess, name: string): Promise<MemberView | undefined> {
  const res = await n.json<{ members: MemberView[] }>('/v1/members');
  return res.body.members.find((m) => m.name === name);
}

describe('ownership follows app health', { timeout: 240_000 }, () => {
  const cluster = new Cluster();
  const apps: TestApp[] = [];
  let nodes: SidecarProcess[] = [];
  let baseline: string[] = [];

  before(async () => {
    for (let i = 0; i < 4; i++) {
      const spec = cluster.spec(i);
      // The fourth app never becomes ready.
      const app = new TestApp(spec.host, spec.portBase + 4, i < 3);
      await app.start();
      apps.push(app);
      nodes.push(cluster.start({ ...spec, extraArgs: ['--app-health', app.url] }));
    }
    await cluster.withLogsOnFailure(async () => {
      await waitFor('three serving sidecars ready', 40_000, async () => {
        const ready = await Promise.all(nodes.slice(0, 3).map((n) => n.json('/readyz').then((r) => r.status === 200)));
        return ready.every(Boolean);
      });
      await waitFor('four members alive everywhere, three owners', 20_000, async () => {
        const all = await Promise.all(nodes.map(ownersOf));
        const alive = await Promise.all(nodes.map(async (n) => (await n.json<{ members: MemberView[] }>('/v1/members')).body.members.filter((m) => m.state === 'alive').length));
        return alive.every((a) => a === 4) && new Set(all.map((a) => a.version)).size === 1 && new Set(all[0]!.owners).size === 3;
      });
    });
    baseline = (await ownersOf(nodes[0]!)).owners;
  });

  after(async () => {
    await cluster.stopAll();
    await Promise.all(apps.map((a) => a.stop()));
  });

  test('a member whose app never becomes ready joins but owns nothing', async () => {
    for (const n of nodes) {
      const m = await memberOf(n, 'node-3');
      assert.equal(m?.state, 'alive');
      assert.equal(m?.serving, false);
      assert.ok(!(await ownersOf(n)).owners.includes('node-3'));
    }
    const readyz = await nodes[3]!.json<{ ok: boolean; reasons: string[] }>('/readyz');
    assert.equal(readyz.status, 503);
    assert.match(readyz.body.reasons.join(' '), /app not ready/);
  });

  test('app not ready: no route names it as owner, it stays alive; back: only its shards return', async () => {
    apps[1]!.ready = false;
    await waitFor('node-1 owns nothing anywhere', 20_000, async () => {
      const all = await Promise.all(nodes.map(ownersOf));
      return all.every((a) => !a.owners.includes('node-1')) && new Set(all.map((a) => a.version)).size === 1;
    });
    for (const n of nodes) assert.equal((await memberOf(n, 'node-1'))?.state, 'alive');
    const during = (await ownersOf(nodes[0]!)).owners;
    KEYS.forEach((k, i) => {
      if (baseline[i] !== 'node-1') assert.equal(during[i], baseline[i], `${k} moved although its owner kept serving`);
    });

    apps[1]!.ready = true;
    await waitFor('node-1 owns shards again everywhere', 20_000, async () => {
      const all = await Promise.all(nodes.map(ownersOf));
      return all.every((a) => a.owners.includes('node-1')) && new Set(all.map((a) => a.version)).size === 1;
    });
    const back = (await ownersOf(nodes[2]!)).owners;
    assert.deepEqual(back, baseline, 'the same serving set gives the same table: only node-1 shards moved back');
  });

  test('flapping app health is damped by the thresholds', async () => {
    const observer = nodes[2]!;
    const before = metricValue(await observer.metrics(), 'swimring_table_version_changes_total');
    const flapMs = 200;
    const durationMs = 6000;
    const t0 = Date.now();
    while (Date.now() - t0 < durationMs) {
      apps[0]!.ready = !apps[0]!.ready;
      await sleep(flapMs);
    }
    apps[0]!.ready = true;
    await sleep(3000);
    const changes = metricValue(await observer.metrics(), 'swimring_table_version_changes_total') - before;
    // Checks every 1 s; 3 failures in a row to stop serving, 1 success to serve again: at most one
    // out-and-back (2 table changes) per 3 s of flapping, plus the recovery at the end.
    const bound = 2 * Math.ceil(durationMs / 3000) + 1;
    console.log(`flapping ${durationMs} ms at ${flapMs} ms: ${changes} table changes (bound ${bound})`);
    assert.ok(changes <= bound, `${changes} table changes > bound ${bound}`);
    await waitFor('node-0 serving again', 20_000, async () => (await ownersOf(nodes[1]!)).owners.includes('node-0'));
  });

  test('drain: SIGTERM moves its shards before it is reported left; routes during drain name the new owner', async () => {
    const leaver = nodes[2]!;
    const rest = [nodes[0]!, nodes[1]!];
    leaver.signal('SIGTERM');
    const seen = await waitFor('shards moved away while still alive', 20_000, async () => {
      const all = await Promise.all(rest.map(ownersOf));
      const states = await Promise.all(rest.map((n) => memberOf(n, 'node-2')));
      if (all.some((a) => a.owners.includes('node-2'))) return undefined;
      return states.map((s) => s?.state);
    }, 50);
    assert.ok(seen.includes('alive'), `moves should be visible before the leave: states ${seen.join(',')}`);
    // The leaving sidecar itself still answers, with the new owners.
    const own = await ownersOf(leaver).catch(() => null);
    if (own) assert.ok(!own.owners.includes('node-2'), 'a route asked during the drain names the new owner');
    await waitFor('left everywhere', 20_000, async () => {
      const states = await Promise.all(rest.map((n) => memberOf(n, 'node-2')));
      return states.every((s) => s?.state === 'left');
    });
    await waitFor('exit', 20_000, async () => !leaver.running);
    assert.equal(leaver.exitCode, 0);
  });
});
