// Partition and heal: two halves that declared each other dead merge back into one view.
//
// After a heal nothing crosses over by itself in plain SWIM: gossip only runs while news is queued,
// probes and push-pull skip dead members, and reaped members are forgotten. The core reconnects (like
// Serf) by now and then negotiating with a member it holds dead; these tests hold it to that, both
// for a heal right after the split and for one after the dead records were reaped.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Simulator, SimNode } from '../../src/sim/simulator.js';
import { converge, startCluster, viewProblems } from './helpers.js';

function splitCluster(sim: Simulator, sideA: readonly SimNode[], sideB: readonly SimNode[], limitMs: number): boolean {
  const split = (): boolean =>
    sideA.every((a) => sideB.every((b) => sim.observer.stateSeenBy(a.id, b.name) === 'dead')) &&
    sideB.every((b) => sideA.every((a) => sim.observer.stateSeenBy(b.id, a.name) === 'dead'));
  sim.network.partition([sideA.map((n) => n.id), sideB.map((n) => n.id)]);
  const start = sim.now;
  while (!split() && sim.now - start < limitMs) sim.runFor(1_000);
  return split();
}

function healAndWait(sim: Simulator, limitMs: number): string[] {
  sim.network.heal();
  sim.observer.resetConvergence(sim.now);
  const healedAt = sim.now;
  let problems = viewProblems(sim);
  while (problems.length > 0 && sim.now - healedAt < limitMs) {
    sim.runFor(1_000);
    problems = viewProblems(sim);
  }
  return problems;
}

test('both sides converge to one view after a heal as soon as each side has declared the other dead', () => {
  const { sim, nodes } = startCluster(20, { seed: 71 });
  converge(sim, 60_000);
  sim.runFor(5_000);
  assert.ok(splitCluster(sim, nodes.slice(0, 10), nodes.slice(10), 120_000), 'each side declared the other dead');
  const problems = healAndWait(sim, 120_000);
  assert.deepEqual(problems.slice(0, 5), [], `${problems.length} view problems 120 s after the heal`);
  assert.ok(!Number.isNaN(sim.observer.convergedAt));
});

test('both sides converge to one view after a heal following a long partition (records reaped)', () => {
  const { sim, nodes, config } = startCluster(20, { seed: 72 });
  converge(sim, 60_000);
  sim.runFor(5_000);
  assert.ok(splitCluster(sim, nodes.slice(0, 10), nodes.slice(10), 120_000));
  sim.runFor(config.deadRetentionMs + 10_000);
  const problems = healAndWait(sim, 180_000);
  assert.deepEqual(problems.slice(0, 5), [], `${problems.length} view problems 180 s after the heal`);
});

test('a partition shorter than failure detection heals without anyone declared dead', () => {
  const { sim, nodes } = startCluster(20, { seed: 73 });
  converge(sim, 60_000);
  sim.runFor(5_000);
  sim.network.partition([nodes.slice(0, 10).map((n) => n.id)]);
  sim.runFor(2_500);
  const problems = healAndWait(sim, 60_000);
  assert.deepEqual(problems, []);
  assert.deepEqual(
    nodes.filter((n) => sim.observer.falseDeaths(n.name) > 0).map((n) => n.name),
    [],
  );
});
