// Whole members in the simulator: readiness, table versions and serving flags are simulated, the same
// seed replays them exactly, and another member's crash or leave never takes a stable member's
// readiness away.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { profileConfig } from '../../src/core/config.js';
import { MemberFigures } from '../../src/sim/member-figures.js';
import { memberCoreFactory, SimMember } from '../../src/sim/member-core.js';
import { runScenario, type ScenarioOptions, type SimReport } from '../../src/sim/scenario.js';
import { Simulator, type SimNode } from '../../src/sim/simulator.js';
import { converge, reportWithoutWallClock } from './helpers.js';

const scenario: ScenarioOptions = {
  members: 30,
  seed: 9,
  profile: 'lan',
  loss: 0.02,
  crash: 1,
  pauseCount: 0,
  pauseSeconds: 0,
  durationS: 60,
};

test('a run of whole members gives the same report, member figures included, for the same seed', () => {
  const first = reportWithoutWallClock(scenario);
  assert.equal(reportWithoutWallClock(scenario), first);
  const parsed = JSON.parse(first) as SimReport;
  const member = parsed.member;
  assert.ok(member !== null, 'the run drove whole members');
  assert.equal(parsed.crashed_dead_everywhere, 1, 'the crash was detected');
  assert.equal(member.members_never_ready, 0);
  assert.equal(member.readiness_losses, 0);
  assert.equal(member.table_versions_at_end, 1, 'every live member serves one version at the end');
  assert.ok(member.one_table_version_s !== null && member.one_table_version_s > (parsed.faults_at_s ?? Infinity), 'the crash changed the version');
  assert.equal(member.serving_members, 29);
  assert.notEqual(reportWithoutWallClock({ ...scenario, seed: 10 }), first, 'another seed, another report');
});

test('bare cores still run when asked, without member figures', () => {
  const report = runScenario({ ...scenario, members: 10, durationS: 30, bareCores: true });
  assert.equal(report.member, null);
  assert.equal(report.crashed_dead_everywhere, 1);
});

test('stable members keep their readiness while another member crashes and one leaves', () => {
  const figures = new MemberFigures();
  const config = profileConfig('lan');
  const sim = new Simulator({ seed: 77, config, createCore: memberCoreFactory(figures), capacity: 20 });
  const nodes: SimNode[] = [];
  for (let i = 0; i < 20; i++) nodes.push(sim.addNode());
  const seeds = nodes.slice(0, 3);
  for (const node of nodes) sim.join(node, seeds);
  converge(sim, 30_000);
  sim.runFor(20_000);
  const lifeOf = (node: SimNode): SimMember => {
    assert.ok(node.core instanceof SimMember);
    return node.core;
  };
  for (const node of nodes) assert.equal(lifeOf(node).life.ready, true, `${node.name} is ready before the faults`);

  const crashed = nodes[7];
  const leaver = nodes[12];
  assert.ok(crashed !== undefined && leaver !== undefined);
  const leaverLife = lifeOf(leaver).life;
  sim.crash(crashed);
  sim.leave(leaver);
  sim.runFor(5_000);
  sim.stop(leaver);
  sim.runFor(40_000);

  const stable = nodes.filter((n) => n !== crashed && n !== leaver).map((n) => lifeOf(n).life);
  for (const life of stable) {
    assert.equal(life.transitions, 0, `${life.name} never changed readiness`);
    assert.equal(life.unreadyPollsAfterReady, 0, `${life.name} answered ready at every poll`);
    assert.equal(life.ready, true);
    assert.equal(life.serving, true);
  }
  assert.equal(figures.report(stable).readiness_losses, 0);
  assert.equal(leaverLife.transitions, 1, 'the leaver went unready once, at its leave');
  assert.equal(leaverLife.losses, 0, 'a leave is no loss');
  assert.equal(leaverLife.servingChanges, 1, 'the leaver stopped serving');
  const versions = new Set(stable.map((l) => l.version));
  assert.equal(versions.size, 1, 'the stable members serve one version after the faults');
  assert.equal(figures.report(stable).table_versions_at_end, 1);
});

test('members re-check only seeds whose process is up, as a headless Service lists them', () => {
  const rpcsAfterSeedCrash = (upOnly: boolean): number => {
    const figures = new MemberFigures();
    let sim: Simulator | null = null;
    const seedUp = (addr: string): boolean => sim?.listensOn(addr) ?? true;
    sim = new Simulator({ seed: 5, config: profileConfig('lan'), createCore: memberCoreFactory(figures, upOnly ? { seedUp } : {}), capacity: 10 });
    const nodes: SimNode[] = [];
    for (let i = 0; i < 10; i++) nodes.push(sim.addNode());
    for (const node of nodes) sim.join(node, nodes.slice(0, 3));
    converge(sim, 30_000);
    sim.runFor(10_000);
    const seed = nodes[0];
    assert.ok(seed !== undefined);
    sim.crash(seed);
    const before = sim.traffic().rpcsSent;
    sim.runFor(4 * sim.config.pushPullIntervalMs);
    assert.equal(sim.listensOn(seed.grpcAddr), false);
    return sim.traffic().rpcsSent - before;
  };
  const withDeadSeed = rpcsAfterSeedCrash(false);
  const upOnly = rpcsAfterSeedCrash(true);
  // Each of the 9 others would negotiate with the crashed seed on every re-check.
  assert.ok(withDeadSeed - upOnly >= 9 * 3, `${withDeadSeed} RPCs with the crashed seed listed, ${upOnly} without`);
});

test('the owners a member asks tables for, kept from its member events, are the ones a walk of its records finds', () => {
  const figures = new MemberFigures();
  const sim = new Simulator({
    seed: 31,
    config: profileConfig('lan'),
    createCore: memberCoreFactory(figures),
    capacity: 12,
    network: { loss: 0.05 },
    // After every step of every member: by then the member's events are all counted.
    onEvent: (node) => check(node),
  });
  let checks = 0;
  const check = (node: SimNode): void => {
    const core = node.core;
    assert.ok(core instanceof SimMember);
    const walked = core.members().filter((r) => (r.state === 'alive' || r.state === 'suspect') && r.meta.serving).map((r) => r.name);
    assert.equal(core.ownersVersion, figures.versionOf(walked), `${node.name} at ${sim.now}`);
    checks++;
  };
  const nodes: SimNode[] = [];
  for (let i = 0; i < 12; i++) nodes.push(sim.addNode());
  const seeds = nodes.slice(0, 3);
  for (const node of nodes) sim.join(node, seeds);
  converge(sim, 30_000);
  const [crashed, leaver, restarted] = [nodes[4], nodes[5], nodes[6]];
  assert.ok(crashed !== undefined && leaver !== undefined && restarted !== undefined);
  sim.crash(crashed);
  sim.leave(leaver);
  sim.runFor(3_000);
  sim.stop(leaver);
  sim.restart(restarted, { seeds });
  sim.runFor(60_000);
  const deadSeen = nodes.filter((n) => n.live).every((n) => n.core?.member(crashed.name)?.state !== 'alive');
  assert.ok(deadSeen, 'the crash was noticed, so owners were also taken away');
  assert.ok(checks > 100, `${checks} checks`);
  for (const node of nodes) if (node.live) check(node);
});
