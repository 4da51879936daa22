// Readiness describes this member, on real processes: six sidecars on loopback; three of them are killed
// and restarted one after another while the three that never change are polled on /readyz throughout.
// Every answer of a stable member must be 200 (the rule: src/runtime/readiness.ts, docs/http.md).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { Cluster, waitFor, type SidecarProcess } from './harness.js';
import type { MemberView } from '../../src/runtime/view.js';

const SIZE = 6;
const CHURNED = [1, 2, 3];
const STABLE = [0, 4, 5];

describe('readiness under other members\' churn', { timeout: 240_000 }, () => {
  const cluster = new Cluster();
  const byIndex = new Map<number, SidecarProcess>();

  before(async () => {
    for (let i = 0; i < SIZE; i++) byIndex.set(i, cluster.start(cluster.spec(i)));
    await cluster.withLogsOnFailure(async () => {
      await waitFor('all six ready, six alive everywhere', 60_000, async () => {
        const nodes = [...byIndex.values()];
        const ready = await Promise.all(nodes.map((n) => n.json('/readyz').then((r) => r.status === 200)));
        const views = await Promise.all(nodes.map((n) => n.json<{ members: MemberView[] }>('/v1/members')));
        return ready.every(Boolean) && views.every((v) => v.body.members.filter((m) => m.state === 'alive').length === SIZE);
      });
    });
  });

  after(async () => {
    await cluster.stopAll();
  });

  test('kill -9 and restart three members, one every 4 s: the three stable members never answer /readyz with anything but 200', async () => {
    const stable = STABLE.map((i) => byIndex.get(i) as SidecarProcess);
    const answers: { name: string; status: number; body: unknown }[] = [];
    const seenStates = new Set<string>();
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const round = await Promise.all(
          stable.map(async (n) => {
            const r = await n.json<unknown>('/readyz').catch((err: unknown) => ({ status: 0, body: String(err) }));
            return { name: n.name, status: r.status, body: r.body };
          }),
        );
        answers.push(...round);
        const view = await stable[1]?.json<{ members: MemberView[] }>('/v1/members').catch(() => null);
        for (const m of view?.body.members ?? []) if (m.state !== 'alive') seenStates.add(`${m.name}:${m.state}`);
        await sleep(100);
      }
    })();

    for (const i of CHURNED) {
      const old = byIndex.get(i) as SidecarProcess;
      await old.stop();
      await sleep(2000);
      byIndex.set(i, cluster.start(cluster.spec(i)));
      await sleep(2000);
    }
    // Until the cluster is whole again, and a little beyond.
    await waitFor('the restarted members ready and six alive on the stable ones', 60_000, async () => {
      const restarted = await Promise.all(CHURNED.map((i) => (byIndex.get(i) as SidecarProcess).json('/readyz')));
      const views = await Promise.all(stable.map((n) => n.json<{ members: MemberView[] }>('/v1/members')));
      return restarted.every((r) => r.status === 200) && views.every((v) => v.body.members.filter((m) => m.state === 'alive').length === SIZE);
    });
    await sleep(2000);
    polling = false;
    await poller;

    const bad = answers.filter((a) => a.status !== 200);
    assert.ok(answers.length >= 3 * 60, `polled ${answers.length} times`);
    assert.deepEqual(bad.slice(0, 5), [], `${bad.length} of ${answers.length} /readyz answers were not 200`);
    assert.equal(bad.length, 0);
    // The churn was real: the stable members saw the killed members suspect or dead.
    assert.ok([...seenStates].some((s) => /node-[123]:(suspect|dead)/.test(s)), `states seen: ${[...seenStates].join(', ')}`);
  });
});
