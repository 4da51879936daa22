// A converged start (`swimring sim --start converged`): every member begins holding every other alive,
// from one list of records shared by all cores, with nothing queued; then faults run as after a cold start.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { profileConfig } from '../../src/core/config.js';
import { startConverged } from '../../src/sim/converged-start.js';
import { memberCoreFactory } from '../../src/sim/member-core.js';
import { MemberFigures } from '../../src/sim/member-figures.js';
import { runScenario } from '../../src/sim/scenario.js';
import { Simulator } from '../../src/sim/simulator.js';

const MEMBERS = 50;

describe('converged start', () => {
  test('every member holds one view of everyone alive at 0 s, the same record objects, nothing queued', () => {
    const sim = new Simulator({ seed: 3, config: profileConfig('lan'), createCore: memberCoreFactory(new MemberFigures()), capacity: MEMBERS });
    const nodes = Array.from({ length: MEMBERS }, () => sim.addNode());
    startConverged(sim, nodes, nodes.slice(0, 3));
    assert.equal(sim.now, 0);
    const reference = nodes[0]?.runningCore.members() ?? [];
    assert.equal(reference.length, MEMBERS);
    let notAlive = 0;
    let differing = 0;
    let queued = 0;
    for (const node of nodes) {
      const core = node.runningCore;
      const view = core.members();
      assert.equal(view.length, MEMBERS);
      for (const record of view) {
        if (record.state !== 'alive') notAlive++;
        // One shared record per member: each core holds the object its owner holds about itself.
        if (record !== reference.find((r) => r.name === record.name)) differing++;
      }
      queued += core.pendingBroadcasts();
    }
    assert.equal(notAlive, 0);
    assert.equal(differing, 0);
    assert.equal(queued, 0);
    assert.equal(sim.observer.convergedAt, 0);
  });

  test('a crash after a converged start is detected everywhere with no false deaths', () => {
    const report = runScenario({ members: MEMBERS, seed: 5, profile: 'lan', loss: 0, crash: 2, pauseCount: 0, pauseSeconds: 0, durationS: 60, start: 'converged' });
    assert.equal(report.convergence_s, 0);
    assert.equal(report.settle_capped, false);
    assert.equal(report.crashed_dead_everywhere, 2);
    assert.equal(report.false_dead, 0);
    assert.equal(report.false_suspect, 0);
    assert.equal(report.name_conflicts, 0);
    assert.equal(report.alive_view_fraction, 1);
  });

  test('bare cores cannot start converged', () => {
    assert.throws(
      () => runScenario({ members: 5, seed: 1, profile: 'lan', loss: 0, crash: 0, pauseCount: 0, pauseSeconds: 0, durationS: 5, start: 'converged', bareCores: true }),
      /whole members only/,
    );
  });
});
