// Fleet operations at Kubernetes semantics in the simulator (src/sim/fleet.ts): a Deployment's rolling
// update, a node drain and a StatefulSet's rolling restart, with the shipped manifest's probes and
// lifecycle. Asserted as on real processes (test/hosts/fleet.test.ts): no readiness probe failure on a
// pod that is not being replaced, nobody declared dead, and every sampled key owned by a running pod
// that serves, every simulated second. docs/faults.md gives the 200-member table.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MEMBER_OPTIONS } from '../../src/config/options-member.js';
import { POD_TEMPLATE, type FleetOperation } from '../../src/sim/fleet.js';
import type { FleetReport } from '../../src/sim/fleet-run.js';
import { runScenario, type SimReport } from '../../src/sim/scenario.js';
import { shippedPodTemplate } from '../hosts/fleet.js';

/**
 * A rolling update or restart replaces every pod one at a time (10-20 s of virtual time each): at 200
 * pods that is up to an hour simulated and 25-40 s of CPU per operation, too long for every `npm test`.
 * The test runs 50; SWIMRING_SIM_FLEET_PODS=200 runs the same assertions on 200 (docs/faults.md).
 */
const ROLLING_PODS = fleetPods(process.env['SWIMRING_SIM_FLEET_PODS']);

function fleetPods(raw: string | undefined): number {
  if (raw === undefined || raw === '') return 50;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 4 || n > 2000) throw new Error(`SWIMRING_SIM_FLEET_PODS must be a whole number from 4 to 2000 (got "${raw}")`);
  return n;
}

function fleetRun(members: number, fleet: FleetOperation, seed = 1): { report: SimReport; fleet: FleetReport } {
  const report = runScenario({ members, seed, profile: 'lan', loss: 0, crash: 0, pauseCount: 0, pauseSeconds: 0, durationS: 60, fleet });
  assert.equal(report.aborted, null, 'the operation finished');
  assert.ok(report.fleet !== null, 'a fleet report');
  return { report, fleet: report.fleet };
}

/** What the issue asks to hold at every observed instant, and the operation's own bookkeeping. */
function assertSafe(f: FleetReport): void {
  assert.deepEqual(f.failures, [], 'what went wrong');
  assert.equal(f.probe_failures_on_serving_pods, 0, 'readiness probe failures on pods not being replaced');
  assert.equal(f.pods_left_service, 0, 'pods out of their Service without being replaced');
  assert.equal(f.false_dead, 0, 'dead verdicts');
  assert.equal(f.keys_without_serving_owner, 0, 'keys without a running, serving owner');
  assert.ok(f.keys_checked > 0 && f.route_rounds > 0, 'keys were sampled');
  assert.equal(f.pods_killed, 0, 'pods SIGKILLed at the grace period');
  assert.equal(f.startup_exhausted, 0, 'startup probes that ran out');
  assert.ok(f.done_at_s !== null, 'the operation is done');
  assert.equal(f.one_view_missing, 0, 'one view after every change');
  assert.equal(f.joins_without_seeds, 0, 'new pods whose first join attempt resolved no seed');
}

test('the checks catch a fleet that kills pods before their leave: deaths, keys owned by exited pods, SIGKILLs', () => {
  // No grace period: the kubelet SIGKILLs each drained sidecar as it deletes the pod, before it could tell
  // anyone it stopped serving or announce its leave. Every member still holds it alive and serving, so keys
  // route to an exited pod until it is suspected, and then it is declared dead. (The replacements join at
  // once: this does not rest on the new pods being slow to join.)
  const report = runScenario({
    members: 30,
    seed: 1,
    profile: 'lan',
    loss: 0,
    crash: 0,
    pauseCount: 0,
    pauseSeconds: 0,
    durationS: 60,
    fleet: { kind: 'drain', pods: 3 },
    fleetTemplate: { ...POD_TEMPLATE, appDrainMs: 0, gracePeriodMs: 0 },
  });
  const f = report.fleet;
  assert.ok(f !== null);
  assert.equal(f.pods_killed, 3);
  assert.equal(f.joins_without_seeds, 0, 'the replacements resolved the Service');
  assert.ok(f.false_dead > 0, `dead verdicts: ${f.false_dead}`);
  assert.ok(f.keys_without_serving_owner > 0, `keys without a serving owner: ${f.keys_without_serving_owner}`);
  assert.ok(f.failures.length > 0);
});

test('new pods resolve the Service on their first join attempt: a drain creates its replacements, and a rolling update its first pod, as the operation starts', () => {
  for (const fleet of [{ kind: 'drain', pods: 3 }, { kind: 'rolling-update' }, { kind: 'statefulset-restart' }] as const) {
    const report = runScenario({ members: 12, seed: 1, profile: 'lan', loss: 0, crash: 0, pauseCount: 0, pauseSeconds: 0, durationS: 60, fleet });
    assert.ok(report.fleet !== null && report.fleet.pods_created > 0, fleet.kind);
    assert.equal(report.fleet.joins_without_seeds, 0, `${fleet.kind}: ${report.fleet.failures.join('; ')}`);
  }
});

test('the simulated pod template is the shipped native-sidecar Deployment and the agent defaults', () => {
  const shipped = shippedPodTemplate();
  assert.deepEqual(
    { readiness: POD_TEMPLATE.readiness, startup: POD_TEMPLATE.startup },
    {
      readiness: { periodMs: shipped.readiness.periodMs, failureThreshold: shipped.readiness.failureThreshold },
      startup: { periodMs: shipped.startup.periodMs, failureThreshold: shipped.startup.failureThreshold },
    },
  );
  for (const field of ['minReadyMs', 'gracePeriodMs', 'appDrainMs', 'maxSurge', 'maxUnavailable'] as const) assert.equal(POD_TEMPLATE[field], shipped[field], field);
  assert.equal(String(POD_TEMPLATE.drainMs), MEMBER_OPTIONS.drainMs.default, '--drain-ms default');
  assert.equal(String(POD_TEMPLATE.leaveTimeoutMs), MEMBER_OPTIONS.leaveTimeoutMs.default, '--leave-timeout-ms default');
});

test(`a rolling update of ${ROLLING_PODS} pods (maxSurge 1, maxUnavailable 0): every pod replaced, nobody else unready, no death, every key owned`, () => {
  const { report, fleet } = fleetRun(ROLLING_PODS, { kind: 'rolling-update' });
  assertSafe(fleet);
  assert.equal(fleet.pods_replaced, ROLLING_PODS);
  assert.equal(fleet.pods_created, ROLLING_PODS);
  assert.equal(fleet.new_names, ROLLING_PODS, 'a Deployment names every new pod anew');
  assert.equal(fleet.new_addresses, ROLLING_PODS, 'and gives it a new address');
  // Each step waits for the new pod to be available: minReadySeconds on top of its first Ready probe.
  assert.ok((fleet.step_s_mean ?? 0) >= POD_TEMPLATE.minReadyMs / 1000, `steps of ${fleet.step_s_mean} s`);
  assert.ok(report.member !== null);
  assert.equal(report.member.serving_members, ROLLING_PODS, 'every new pod serves at the end');
  assert.equal(report.member.table_versions_at_end, 1, 'one table version at the end');
  assert.ok(fleet.shard_moves > 0 && fleet.shard_moves_ideal > 0);
});

test('a node drain taking 3 of 200 pods at once: replacements under new names, nobody else unready, no death, every key owned', () => {
  const { report, fleet } = fleetRun(200, { kind: 'drain', pods: 3 });
  assertSafe(fleet);
  assert.equal(fleet.pods_replaced, 3);
  assert.equal(fleet.pods_created, 3);
  assert.equal(fleet.new_names, 3);
  assert.equal(fleet.new_addresses, 3);
  assert.ok(report.member !== null);
  assert.equal(report.member.serving_members, 200);
  assert.equal(report.member.table_versions_at_end, 1);
});

test(`a StatefulSet rolling restart of ${ROLLING_PODS} pods: same names on new addresses, one at a time, nobody else unready, no death, every key owned`, () => {
  const { report, fleet } = fleetRun(ROLLING_PODS, { kind: 'statefulset-restart' });
  assertSafe(fleet);
  assert.equal(fleet.pods_replaced, ROLLING_PODS);
  assert.equal(fleet.pods_created, ROLLING_PODS);
  assert.equal(fleet.new_names, 0, 'a StatefulSet pod keeps its name');
  assert.equal(fleet.new_addresses, ROLLING_PODS, 'on a new address');
  assert.ok(report.member !== null);
  assert.equal(report.member.serving_members, ROLLING_PODS);
  assert.equal(report.member.table_versions_at_end, 1);
});
