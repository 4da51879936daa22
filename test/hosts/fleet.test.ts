// Fleet operations on a Deployment of ten pods, each a sidecar in its own network namespace, at the
// shipped manifest's Kubernetes semantics (fleet.ts): a rolling update (maxSurge 1, maxUnavailable 0,
// new names and addresses; an old pod is deleted once its replacement is available), then a node drain
// that deletes three pods at once while their replacements start. docs/faults.md, "Fleet operations".
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { hostsSkipReason } from './netns.js';
import { AVAILABLE_BOUND_MS, FleetRun } from './fleet-scenario.js';
import { seconds } from './checks.js';

const skip = hostsSkipReason();
const REPLICAS = 10;
const DRAINED = 3;
/** Pod names as a ReplicaSet makes them (template hash, then a suffix), unique to this run. */
const RUN = process.pid.toString(36);
let podCount = 0;
const podName = (templateHash: string): string => `web-${templateHash}${RUN}-${(podCount++).toString(36).padStart(5, '0')}`;

describe('a Deployment of ten sidecar pods at Kubernetes semantics', { timeout: 15 * 60_000 }, () => {
  const fleet = new FleetRun(
    Array.from({ length: REPLICAS }, () => podName('a')),
    'swimring-hosts-fleet-summary.md',
  );

  fleet.hooksFor(skip);

  test('rolling update: maxSurge 1, maxUnavailable 0, every pod replaced by one with a new name and address', { skip }, async () => {
    const { maxSurge, maxUnavailable } = fleet.template;
    // The controller below is the one for these settings; other settings need another loop.
    assert.deepEqual({ maxSurge, maxUnavailable }, { maxSurge: 1, maxUnavailable: 0 }, 'the shipped rollout strategy');
    await fleet.scenario('rolling update (10 pods, surge 1)', async (c) => {
      const old = c.kubelet.live();
      assert.equal(old.length, REPLICAS);
      const removals: Promise<void>[] = [];
      const steps: number[] = [];
      // One surge pod at a time; an old pod is deleted once the new one is available (Ready for
      // minReadySeconds), and the next surge pod is created then, while that old pod terminates.
      for (const pod of old) {
        const t = Date.now();
        const fresh = await c.create(podName('b'));
        await c.kubelet.available(fresh, AVAILABLE_BOUND_MS);
        removals.push(c.remove(pod));
        steps.push(Date.now() - t);
      }
      await Promise.all(removals);
      c.notes.push(`steps (create -> available) ${seconds(steps.reduce((a, b) => a + b, 0) / steps.length)} mean, ${seconds(Math.max(...steps))} max`);
    });
  });

  test('node drain: three pods deleted at once while their replacements start', { skip }, async () => {
    await fleet.scenario('node drain (3 pods at once)', async (c) => {
      const victims = c.kubelet.live().slice(0, DRAINED);
      const t = Date.now();
      const removals = victims.map((p) => c.remove(p));
      // The ReplicaSet sees three pods terminating and creates three at once.
      const fresh = [];
      for (let i = 0; i < DRAINED; i++) fresh.push(await c.create(podName('b')));
      await Promise.all(fresh.map((p) => c.kubelet.available(p, AVAILABLE_BOUND_MS)));
      const available = Date.now() - t;
      await Promise.all(removals);
      c.notes.push(`replacements available ${seconds(available)}, drained pods gone ${seconds(Date.now() - t)}`);
    });
  });
});
