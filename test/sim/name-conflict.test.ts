// Two live processes claiming one name: the conflict is reported, neither gives the name up, and the
// race between them is paced (one refutation per probe interval each).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { converge, startCluster } from './helpers.js';

test('a second live process with a taken name is reported, and the race is paced', () => {
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
  // Neither process gives the name up, so views keep following whichever refuted last; each refutes at
  // most once per probe interval (1 s), so an observer sees at most two changes a second.
  assert.ok(lateChanges > 0, 'the original member still contests its name');
  const observers = 31;
  assert.ok(lateChanges <= observers * 2 * 60, `paced: ${lateChanges} changes in the last minute`);
  const original = sim.node(duplicated);
  assert.ok(original.running && impostor.running, 'both processes still run');
});
