// A rolling restart of a StatefulSet of ten sidecar pods (kubectl rollout restart): from the highest
// ordinal down, each pod is deleted, and once it is gone recreated under the same name on a new
// address, the next only when it is Ready (OrderedReady). Same kubelet semantics as fleet.test.ts.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { hostsSkipReason } from './netns.js';
import { AVAILABLE_BOUND_MS, FleetRun } from './fleet-scenario.js';
import { seconds } from './checks.js';

const skip = hostsSkipReason();
const REPLICAS = 10;
/** `<statefulset>-<ordinal>`; the set's name is unique to this run. */
const SET = `db${process.pid.toString(36)}`;

describe('a StatefulSet of ten sidecar pods at Kubernetes semantics', { timeout: 10 * 60_000 }, () => {
  const fleet = new FleetRun(
    Array.from({ length: REPLICAS }, (_, i) => `${SET}-${i}`),
    'swimring-hosts-fleet-statefulset-summary.md',
  );

  fleet.hooksFor(skip);

  test('rolling restart: same names, new addresses, one pod at a time', { skip }, async () => {
    await fleet.scenario('StatefulSet rolling restart (10 pods)', async (c) => {
      const steps: number[] = [];
      for (let ordinal = REPLICAS - 1; ordinal >= 0; ordinal--) {
        const t = Date.now();
        const name = `${SET}-${ordinal}`;
        const old = c.kubelet.byName(name);
        assert.ok(old, `${name} is running`);
        await c.remove(old);
        const fresh = await c.create(name, old.slot);
        assert.notEqual(fresh.life.host, old.life.host, 'a new address');
        // A StatefulSet has no minReadySeconds here: Ready is enough for the next ordinal.
        await c.kubelet.available(fresh, AVAILABLE_BOUND_MS, 0);
        steps.push(Date.now() - t);
      }
      c.notes.push(`steps (delete -> gone -> recreated Ready) ${seconds(steps.reduce((a, b) => a + b, 0) / steps.length)} mean, ${seconds(Math.max(...steps))} max`);
    });
  });
});
