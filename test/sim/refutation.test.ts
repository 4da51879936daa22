// Refutation: a member wrongly suspected (here: cut off for a few seconds) hears of it and refutes
// with a higher incarnation before anyone declares it dead.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { converge, startCluster, viewProblems } from './helpers.js';

test('a briefly isolated member is suspected, refutes, and is never declared dead', () => {
  const refutedBy: string[] = [];
  const { sim, nodes } = startCluster(30, {
    seed: 31,
    onEvent: (node, event) => {
      if (event.type === 'refuted') refutedBy.push(node.name);
    },
  });
  converge(sim, 60_000);
  sim.runFor(10_000);
  const victim = nodes[12];
  assert.ok(victim !== undefined);
  const incarnationBefore = victim.runningCore.members().find((r) => r.name === victim.name)?.incarnation ?? -1;
  sim.network.partition([[victim.id]]);
  const suspected = sim.runFor(15_000, () => sim.observer.count(victim.name, 'suspect') > 0);
  assert.ok(suspected, 'someone suspected the isolated member');
  sim.network.heal();
  sim.runFor(30_000);
  assert.ok(refutedBy.includes(victim.name), 'the suspected member refuted');
  assert.equal(sim.observer.falseDeaths(victim.name), 0, 'nobody declared it dead');
  assert.deepEqual(viewProblems(sim), []);
  for (const node of nodes) {
    if (node === victim) continue;
    const seen = node.runningCore.member(victim.name);
    assert.ok(seen !== undefined && seen.incarnation > incarnationBefore, `${node.name} has the refuted incarnation`);
  }
});
