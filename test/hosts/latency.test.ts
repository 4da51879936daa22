// Scenario 7: 200 ms +/- 50 ms one-way delay on every link (round trips 300-500 ms), LAN profile.
// This kernel has no netem, so each member advertises the address of a userspace delay relay in the
// hub (delay-relay.ts); every SWIM packet and gRPC byte between members crosses one relay per hop.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { CleanupHooks } from './cleanup-hooks.js';
import { HostCluster, waitFor, type Life } from './cluster.js';
import { routesAgree, seconds, sumMetric, viewsConverged } from './checks.js';
import { hostsSkipReason, removeStaleNamespaces } from './netns.js';
import { Summary } from './summary.js';

const skip = hostsSkipReason();
const SCALE = Number(process.env.SWIMRING_HOSTS_SCALE ?? '1');
const WATCH_MS = 60_000 * SCALE;

describe('ten sidecars behind 200 ms +/- 50 ms links', { timeout: 6 * 60_000 }, () => {
  const cluster = new HostCluster(10, 'lan', { delayMs: 200, jitterMs: 50 });
  const summary = new Summary('swimring-hosts-latency-summary.md', false);
  const startedAt = Date.now();
  const names = (lives: readonly Life[]): string[] => lives.map((l) => l.name);
  const hooks = new CleanupHooks(() => cluster.destroySync());

  before(() => {
    if (skip) return;
    removeStaleNamespaces();
    hooks.install();
  });

  after(() => {
    if (skip) return;
    hooks.release();
    summary.finish(Date.now() - startedAt);
  });

  test('7 latency: the cluster forms and nobody is declared dead', { skip }, async () => {
    const t0 = Date.now();
    const measured: string[] = [];
    try {
      await cluster.create();
      const lives = cluster.all();
      await waitFor('every member alive in every view, one table version', 120_000, () => viewsConverged(cluster, lives, names(lives)), 500);
      await waitFor('route agreement', 30_000, () => routesAgree(cluster, lives, names(lives)), 500);
      measured.push(`formed and converged ${seconds(Date.now() - t0)}`);
      const t1 = Date.now();
      const suspicions0 = await sumMetric(cluster, lives, 'swimring_suspicions_total');
      await sleep(WATCH_MS);
      const suspicions = (await sumMetric(cluster, lives, 'swimring_suspicions_total')) - suspicions0;
      const deaths = cluster.memberEvents(t1, (e) => e.to === 'dead');
      const stillConverged = await viewsConverged(cluster, lives, names(lives));
      measured.push(`over ${seconds(WATCH_MS)}: ${suspicions} suspicions raised, ${deaths.length} deaths`);
      assert.equal(deaths.length, 0, `false deaths under delay: ${JSON.stringify(deaths.map((e) => ({ observer: e.observer, ...e.event })))}`);
      assert.ok(stillConverged, 'views still agree at the end');
      summary.add('7 latency (200 +/- 50 ms per link)', 'pass', measured, Date.now() - t0);
    } catch (err) {
      summary.add('7 latency (200 +/- 50 ms per link)', `FAIL: ${String((err as Error).message).split('\n')[0]}`, measured, Date.now() - t0);
      console.error(await cluster.describeViews());
      console.error(cluster.dumpLogs(15));
      throw err;
    }
  });
});
