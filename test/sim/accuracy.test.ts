// Accuracy: no running member is ever declared dead, without loss and with 10% uniform loss.
//
// The regression test at the end pins down one way a member can get a live member declared dead: it
// misses every copy of a refutation (1.5 s deaf) and then holds a stale suspicion. The suspect's own
// answers to its probes must repair that before the suspicion times out.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { converge, falselyDead, startCluster } from './helpers.js';

describe('accuracy', () => {
  test('50 members, no loss, no pauses, 120 s: nobody declared dead', () => {
    const { sim } = startCluster(50, { seed: 5 });
    sim.runUntil(120_000);
    assert.ok(sim.observer.isConverged(), 'the cluster converged');
    assert.deepEqual(falselyDead(sim), []);
    assert.equal(sim.observer.fromMismatches, 0, 'every event’s `from` matched the observer’s record');
  });

  test('50 members, 10% uniform loss, 600 s: nobody declared dead', () => {
    const { sim } = startCluster(50, { seed: 6, network: { loss: 0.1 } });
    sim.runUntil(600_000);
    assert.ok(sim.drops.loss > 10_000, `loss was exercised (${sim.drops.loss} packets dropped)`);
    assert.deepEqual(falselyDead(sim), []);
  });

  test('a member that missed a refutation does not declare the refuted member dead', () => {
    // Push-pull off so only the protocol's own repair paths count (push-pull would hide the gap
    // some of the time, depending on timing).
    const { sim, nodes } = startCluster(10, { seed: 3, overrides: { pushPullIntervalMs: 0 } });
    converge(sim, 30_000);
    sim.runFor(5_000);
    const [suspect, holder] = [nodes[5], nodes[8]];
    assert.ok(suspect !== undefined && holder !== undefined);
    // 1. Cut the suspect off until the holder suspects it.
    sim.network.partition([[suspect.id]]);
    assert.ok(sim.runFor(20_000, () => sim.observer.stateSeenBy(holder.id, suspect.name) === 'suspect'));
    // 2. Reconnect it; the holder hears nothing for 1.5 s, which is when the refutation spreads.
    sim.network.setInboundLoss(holder.id, 1);
    sim.network.heal();
    sim.runFor(1_500);
    sim.network.setInboundLoss(holder.id, 0);
    const others = nodes.filter((n) => n !== holder);
    assert.ok(others.every((n) => n === suspect || sim.observer.stateSeenBy(n.id, suspect.name) === 'alive'), 'everyone else took the refutation');
    assert.equal(sim.observer.stateSeenBy(holder.id, suspect.name), 'suspect', 'the holder missed it');
    // 3. Holder and suspect keep probing each other for longer than the suspicion timeout.
    sim.runFor(40_000);
    assert.equal(sim.observer.falseDeaths(suspect.name), 0, 'the holder declared the refuted member dead');
  });
});
