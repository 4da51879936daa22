// Restarts: a member that comes back under the same name (new lifeId, incarnation = boot time,
// possibly a new address) supersedes its previous life everywhere, under one record.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { converge, startCluster, viewProblems } from './helpers.js';

test('a quick restart on a new address is seen everywhere with the new life and address, one record', () => {
  const { sim, nodes, seeds } = startCluster(40, { seed: 51 });
  converge(sim, 60_000);
  sim.runFor(5_000);
  const node = nodes[30];
  assert.ok(node !== undefined);
  const oldLife = node.lifeId;
  const oldAddr = node.gossipAddr;
  sim.crash(node);
  sim.runFor(1_000);
  sim.restart(node, { newAddress: true, seeds });
  assert.notEqual(node.lifeId, oldLife);
  assert.notEqual(node.gossipAddr, oldAddr);
  sim.runFor(20_000);
  assert.deepEqual(viewProblems(sim), []);
  assert.equal(sim.observer.falseDeaths(node.name), 0, 'the new life was never declared dead');
});

test('a restart after being declared dead everywhere brings the member back, one record', () => {
  const { sim, nodes, seeds } = startCluster(40, { seed: 52 });
  converge(sim, 60_000);
  const node = nodes[11];
  assert.ok(node !== undefined);
  sim.crash(node);
  const dead = sim.runFor(120_000, () => !Number.isNaN(sim.observer.everyoneSawAt(node.name, 'dead')));
  assert.ok(dead, 'the crash was detected everywhere');
  sim.restart(node, { seeds });
  sim.runFor(20_000);
  assert.deepEqual(viewProblems(sim), []);
  assert.equal(sim.observer.falseDeaths(node.name), 0);
});
