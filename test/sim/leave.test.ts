// Leave propagation: a graceful leave is seen as `left` by everyone, never as `dead`, and is reaped
// after the retention.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { converge, startCluster } from './helpers.js';

test('a leaving member is left everywhere, never dead, and reaped after the retention', () => {
  const { sim, nodes, config } = startCluster(40, { seed: 41 });
  converge(sim, 60_000);
  sim.runFor(5_000);
  const leaver = nodes[20];
  assert.ok(leaver !== undefined);
  const leftAt = sim.now;
  sim.leave(leaver);
  sim.runFor(5_000);
  sim.stop(leaver); // the process exits once its news has had time to spread
  sim.runFor(10_000);
  const everyoneLeft = sim.observer.everyoneSawAt(leaver.name, 'left');
  assert.ok(!Number.isNaN(everyoneLeft), 'every member saw the leave');
  assert.ok(everyoneLeft - leftAt < 5_000, `the leave spread in ${everyoneLeft - leftAt} ms`);
  sim.runFor(config.deadRetentionMs + 5_000);
  assert.equal(sim.observer.transitionsInto(leaver.name, 'dead'), 0, 'nobody ever saw it dead');
  assert.equal(sim.observer.transitionsInto(leaver.name, 'suspect'), 0, 'nobody ever suspected it');
  for (const node of nodes) {
    if (node === leaver) continue;
    assert.equal(node.runningCore.member(leaver.name), undefined, `${node.name} reaped the left member`);
  }
  assert.ok(sim.observer.isConverged());
});
