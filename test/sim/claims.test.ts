// Claims in the simulator: whole members run the claims state machine on the engine's clock and
// control plane, so races across a partition, skewed clocks and departures run deterministically.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseSimArgs, SIM_USAGE } from '../../src/cli/sim.js';
import { profileConfig } from '../../src/core/config.js';
import { SimClaims, type ClaimsReport } from '../../src/sim/claims.js';
import { MemberFigures } from '../../src/sim/member-figures.js';
import { memberCoreFactory } from '../../src/sim/member-core.js';
import { runScenario, type ScenarioOptions, type SimReport } from '../../src/sim/scenario.js';
import { Simulator, type SimNode } from '../../src/sim/simulator.js';
import { converge, reportWithoutWallClock } from './helpers.js';

interface ClaimsCluster {
  sim: Simulator;
  nodes: SimNode[];
  claims: SimClaims;
}

interface ClusterShape {
  /** Claim attempts per second once started. @default 0 */
  rate?: number;
  /** Member i's wall clock is off by offsets[i]. */
  offsets?: readonly number[];
  loss?: number;
  /** How often the members' claims are sampled for two owners at one table version. @default 1000 */
  sampleEveryMs?: number;
}

/** n whole members with claims (claims made by hand have no TTL), converged. */
function claimsCluster(n: number, seed: number, shape: ClusterShape = {}): ClaimsCluster {
  let sim: Simulator | undefined;
  const offsets = shape.offsets ?? [];
  const claims = new SimClaims(() => sim as Simulator, seed, { rate: shape.rate ?? 0, clockOffsetMs: (i) => offsets[i] ?? 0, options: { defaultTtlMs: null }, ...(shape.sampleEveryMs === undefined ? {} : { sampleEveryMs: shape.sampleEveryMs }) });
  sim = new Simulator({
    seed,
    config: profileConfig('lan'),
    createCore: memberCoreFactory(new MemberFigures(), { claims }),
    capacity: n,
    network: { loss: shape.loss ?? 0 },
  });
  const nodes: SimNode[] = [];
  for (let i = 0; i < n; i++) nodes.push(sim.addNode());
  for (const node of nodes) sim.join(node, nodes.slice(0, 3));
  converge(sim, 30_000);
  claims.start();
  return { sim, nodes, claims };
}

/** Each live member's owner of `id` ('-' when it sees none), in node order. */
function ownersSeen(c: ClaimsCluster, id: string): string[] {
  return c.nodes.filter((n) => n.live).map((n) => c.claims.member(n.name)?.service.store.get(id)?.owner ?? '-');
}

/** Live members that hold themselves the owner of `id`. */
function selfOwners(c: ClaimsCluster, id: string): string[] {
  return c.nodes.filter((n) => n.live && c.claims.member(n.name)?.service.store.get(id)?.owner === n.name).map((n) => n.name);
}

describe('a partition where both sides claim one id, then a heal', () => {
  /**
   * Side A = members 0-2, side B = members 3-5. A's member-1 claims "cart" as the cut starts, 2.5 s
   * before B's member-4 does; the members of `behind` have their wall clock 2 s behind the others', so
   * the earlier claim also carries the earlier stamp whichever side is behind. Both claims and
   * member-4's race window (1 s, when two owners are not yet counted) fit before the first death
   * verdict of the cut (about 4 s at the lan defaults with 6 members), which gives each side a table
   * version of its own; sampling every 100 ms sees the overlap in between.
   */
  function race(behind: 'A' | 'B'): { winner: string[]; selfOwners: string[]; fence: string; loserFence: string; lost: number; doubles: number } {
    const offsets = [0, 1, 2, 3, 4, 5].map((i) => ((i < 3) === (behind === 'A') ? -2000 : 0));
    const c = claimsCluster(6, 41, { offsets, sampleEveryMs: 100 });
    const [a, b] = [c.nodes.slice(0, 3), c.nodes.slice(3)];
    c.sim.network.partition([a.map((n) => n.id), b.map((n) => n.id)]);
    assert.equal(c.claims.claim('member-1', 'cart'), 'claimed');
    c.sim.runFor(2500);
    assert.equal(c.claims.claim('member-4', 'cart'), 'claimed', 'side B cannot see side A\'s claim');
    const loserFence = c.claims.member('member-4')?.service.store.get('cart')?.fence.toString() ?? '';
    c.sim.runFor(1000);
    assert.deepEqual(ownersSeen(c, 'cart'), ['member-1', 'member-1', 'member-1', 'member-4', 'member-4', 'member-4'], 'each side follows its own claimant');
    c.sim.runFor(25_000);
    c.sim.network.heal();
    c.sim.runFor(60_000);
    const report = c.claims.report();
    return {
      winner: ownersSeen(c, 'cart'),
      selfOwners: selfOwners(c, 'cart'),
      fence: c.claims.member('member-1')?.service.store.get('cart')?.fence.toString() ?? '',
      loserFence,
      lost: report.claims_lost,
      doubles: report.double_owner_samples,
    };
  }

  test('the earlier claim wins on every member and the loser gives its claim up, whichever side\'s clock is behind', () => {
    for (const behind of ['A', 'B'] as const) {
      const out = race(behind);
      assert.deepEqual(out.winner, Array(6).fill('member-1'), `clock behind on side ${behind}: one winner everywhere`);
      assert.deepEqual(out.selfOwners, ['member-1'], 'exactly one member holds itself the owner');
      assert.equal(out.lost, 1, 'member-4 lost its claim');
      assert.ok(BigInt(out.fence) > BigInt(out.loserFence), 'the winner took a fencing token above the loser\'s, so the loser\'s writes are the stale ones');
      // During the cut both sides served one table version (before they declared each other dead) and each had an owner.
      assert.ok(out.doubles > 0, 'the overlap is counted while the sides still served one table version');
    }
  });

  test('the outcome is deterministic: the same run gives the same winner and fencing token', () => {
    const first = race('B');
    const second = race('B');
    assert.equal(second.fence, first.fence);
    assert.ok(first.fence !== '');
    assert.deepEqual(second, first);
  });
});

test('a claim made after hearing of a release sorts after it, though the new claimant\'s clock is 8 s behind (hybrid clock)', () => {
  const c = claimsCluster(6, 77, { offsets: [0, 0, 0, 0, -8000, 0] });
  assert.equal(c.claims.claim('member-1', 'cart'), 'claimed');
  c.sim.runFor(1000);
  const first = c.claims.member('member-1')!.service.store.get('cart')!;
  assert.equal(c.claims.release('member-1', 'cart'), 'released');
  c.sim.runFor(1000);
  assert.equal(c.claims.member('member-4')!.service.store.get('cart'), undefined, 'member-4 heard of the release');
  assert.equal(c.claims.claim('member-4', 'cart'), 'claimed');
  const second = c.claims.member('member-4')!.service.store.get('cart')!;
  const wall4 = c.claims.member('member-4')!.service.clockGuard.wallNow();
  assert.ok(wall4 < first.claimedAtMs, 'by its own wall clock member-4 claims before member-1 did');
  assert.ok(second.claimedAtMs >= first.claimedAtMs && second.fence > first.fence, 'its stamp and fencing token still come after member-1\'s');
  c.sim.runFor(1000);
  assert.deepEqual([...new Set(ownersSeen(c, 'cart'))], ['member-4']);
});

test('a member whose clock is off beyond the tolerance is detected, counted and refused as claimant', () => {
  const c = claimsCluster(7, 12, { offsets: [0, 0, 0, 0, 0, 0, 60_000] });
  const skewed = 'member-6';
  // It claims before it knows its clock is off: every peer refuses the claim (its stamp is a minute ahead).
  assert.equal(c.claims.claim(skewed, 'early'), 'claimed');
  // Sound members claim; their announcements tell the skewed member how far off it is.
  for (let i = 0; i < 6; i++) c.claims.claim(`member-${i}`, `sound-${i}`);
  c.sim.runFor(5000);
  const others = c.nodes.filter((n) => n.name !== skewed).map((n) => c.claims.member(n.name)!);
  for (const m of others) {
    assert.equal(m.service.clockGuard.peerOff(skewed), true, 'every sound member found the skewed clock');
    assert.equal(m.service.store.recordsFor('early').length, 0, 'and refused its claim');
    assert.equal(m.service.clockOff(), false);
  }
  assert.equal(c.claims.member(skewed)!.service.clockOff(), true, 'the skewed member found its own clock off');
  assert.equal(c.claims.claim(skewed, 'later'), 'clock_skew', 'it takes no new claims');
  // Another member claims the id the skewed member still holds: the skewed member gives it up.
  assert.equal(c.claims.claim('member-2', 'early'), 'claimed');
  c.sim.runFor(5000);
  assert.deepEqual(selfOwners(c, 'early'), ['member-2']);
  assert.deepEqual([...new Set(ownersSeen(c, 'early'))], ['member-2']);
  const report = c.claims.report();
  assert.equal(report.members_clock_off, 1);
  assert.equal(report.refused_own_clock_skew, 1);
  assert.ok(report.refused_records_clock_skew >= 6, `each sound member refused the skewed claim (${report.refused_records_clock_skew})`);
  assert.equal(report.double_owner_samples, 0);
});

test('at every sample, at most one member holds itself the owner of an id at one table version (loss, a crash, a restart)', () => {
  const c = claimsCluster(12, 5, { rate: 20, loss: 0.05 });
  c.sim.runFor(20_000);
  c.sim.crash(c.nodes[7]!);
  c.claims.memberGone('member-7');
  c.sim.runFor(20_000);
  c.sim.restart(c.nodes[7]!, { seeds: c.nodes.slice(0, 3) });
  c.sim.runFor(30_000);
  const report = c.claims.report();
  assert.ok(report.samples >= 69, `sampled each second (${report.samples})`);
  assert.ok(report.claims_made > 100, `claims were made (${report.claims_made})`);
  assert.equal(report.double_owner_samples, 0);
  assert.equal(report.max_owners_one_version, 1);
  assert.ok(report.propagation_p99_ms !== null && report.propagation_p50_ms !== null);
});

test('the claims of a member that crashed or left are dropped on every member', () => {
  const c = claimsCluster(8, 23);
  const ids = ['c1', 'c2', 'c3'];
  for (const id of ids) assert.equal(c.claims.claim('member-5', id), 'claimed');
  assert.equal(c.claims.claim('member-6', 'l1'), 'claimed');
  c.sim.runFor(2000);
  for (const n of c.nodes) if (n.name !== 'member-5') assert.equal(c.claims.member(n.name)?.service.store.get('c1')?.owner, 'member-5');
  c.sim.crash(c.nodes[5]!);
  c.claims.memberGone('member-5');
  c.sim.leave(c.nodes[6]!);
  c.sim.runFor(30_000);
  c.sim.stop(c.nodes[6]!);
  c.sim.runFor(5000);
  for (const n of c.nodes.filter((x) => x.live)) {
    const store = c.claims.member(n.name)!.service.store;
    assert.equal(store.liveIdsOf('member-5').size, 0, `${n.name} dropped the crashed member's claims`);
    assert.equal(store.liveIdsOf('member-6').size, 0, `${n.name} dropped the departed member's claims`);
  }
  assert.deepEqual(ownersSeen(c, 'c1'), Array(6).fill('-'));
  assert.equal(c.claims.claim('member-0', 'c1'), 'claimed', 'the id is free again');
  assert.ok(c.claims.report().released_on_departure >= 6 * 4, 'every remaining member released them');
});

describe('claims in the sim report', () => {
  const scenario: ScenarioOptions = {
    members: 15,
    seed: 31,
    profile: 'lan',
    loss: 0.01,
    crash: 1,
    pauseCount: 0,
    pauseSeconds: 0,
    durationS: 60,
    claimsRate: 10,
    clockSkewMs: 4000,
    clockOffsetsMs: [45_000],
  };

  test('the same seed gives the same report, claims figures included; another seed another', () => {
    const first = reportWithoutWallClock(scenario);
    assert.equal(reportWithoutWallClock(scenario), first);
    const claims = (JSON.parse(first) as SimReport).claims as ClaimsReport;
    assert.ok(claims.claims_made > 0 && claims.attempts >= claims.claims_made);
    assert.equal(claims.members_clock_off, 1, 'the member 45 s off found its clock off');
    assert.ok(claims.refused_records_clock_skew > 0);
    assert.equal(claims.double_owner_samples, 0);
    assert.ok(claims.released_on_departure > 0, 'the crashed member\'s claims were dropped');
    assert.notEqual(reportWithoutWallClock({ ...scenario, seed: 32 }), first);
  });

  test('claims leave every SWIM and member figure of a run as it was', () => {
    const plain: ScenarioOptions = { ...scenario, claimsRate: undefined, clockSkewMs: undefined, clockOffsetsMs: undefined } as ScenarioOptions;
    const strip = (text: string): Partial<SimReport> => {
      const report = JSON.parse(text) as Partial<SimReport>;
      delete report.claims;
      delete report.events; // the claims' own events
      return report;
    };
    assert.deepEqual(strip(reportWithoutWallClock(scenario)), strip(reportWithoutWallClock(plain)));
  });

  test('a run without --claims has no claims part', () => {
    const report = runScenario({ ...scenario, members: 5, durationS: 20, crash: 0, claimsRate: undefined, clockSkewMs: undefined, clockOffsetsMs: undefined } as ScenarioOptions);
    assert.equal(report.claims, null);
  });
});

describe('swimring sim claims flags', () => {
  const base = ['--members', '10', '--seed', '1'];

  test('--claims, --clock-skew and --clock-offsets reach the scenario', () => {
    const parsed = parseSimArgs([...base, '--claims', '2.5', '--clock-skew', '3000', '--clock-offsets', '60000,-1500']);
    assert.ok(parsed !== 'help');
    assert.equal(parsed.options.claimsRate, 2.5);
    assert.equal(parsed.options.clockSkewMs, 3000);
    assert.deepEqual(parsed.options.clockOffsetsMs, [60_000, -1500]);
    assert.match(SIM_USAGE, /--claims RATE/);
    assert.match(SIM_USAGE, /--clock-offsets LIST/);
  });

  for (const [args, message] of [
    [['--clock-skew', '1000'], /need --claims/],
    [['--claims', '1', '--clock-offsets', '1,x'], /whole milliseconds/],
    [['--claims', '1', '--clock-offsets', '1,2,3,4,5,6,7,8,9,10,11'], /11 offsets for 10 members/],
    [['--claims', 'x'], /non-negative/],
    [['--claims', '1', '--clock-skew', '999999999'], /between 0 and/],
  ] as const) {
    test(`refuses ${args.join(' ')}`, () => {
      assert.throws(() => parseSimArgs([...base, ...args]), message);
    });
  }
});
