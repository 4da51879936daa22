// Two live processes claiming one name: the conflict is reported, and the cluster does not flap
// between them forever.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { converge, startCluster } from './helpers.js';

test('a second live process with a taken name is reported and the view settles', () => {
  const changesAboutName: number[] = [];
  const duplicated = 'member-7';
  const { sim, seeds } = startCluster(30, {
    seed: 61,
    onEvent: (_node, event, now) => {
      if (event.type === 'member' && event.name === duplicated) changesAboutName.push(now);
    },
  });
  converge(sim, 60_000);
  sim.runFor(5_000);
  const impostor = sim.addNode({ name: duplicated });
  sim.join(impostor, seeds);
  const start = sim.now;
  sim.runFor(180_000);
  assert.ok(sim.observer.nameConflicts > 0, 'someone reported the name conflict');
  const lateChanges = changesAboutName.filter((t) => t > start + 120_000).length;
  assert.equal(lateChanges, 0, `no flapping in the last minute (${lateChanges} changes; ${changesAboutName.filter((t) => t > start).length} in total)`);
  const original = sim.node(duplicated);
  assert.ok(original.running && impostor.running, 'both processes still run');
});
