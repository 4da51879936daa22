// Zero false deaths after a heal: members cut off (--isolate) or a cluster split in two (--split), then
// healed, at 10-50 members over 20 seeds each. A dead verdict is false when its target runs and the
// observer could reach it at that moment (src/sim/cut.ts). Before the core weighed every gossiped dead
// as a suspicion (src/core/README.md), the returning side's stale verdicts killed healthy members in
// most of these runs.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { MembershipEvent } from '../../src/core/types.js';
import { CutTracker } from '../../src/sim/cut.js';
import { runScenario, type ScenarioOptions } from '../../src/sim/scenario.js';
import { SimNode } from '../../src/sim/simulator.js';

const SEEDS = Array.from({ length: 20 }, (_, i) => i + 1);
const base = { profile: 'lan', loss: 0, crash: 0, pauseCount: 0, pauseSeconds: 0 } as const;
/** 10..50 members, spread over the seeds. */
const membersFor = (seed: number): number => 10 + ((seed * 7) % 41);

function check(options: ScenarioOptions): void {
  const r = runScenario(options);
  const what = `seed ${options.seed}, ${options.members} members`;
  assert.ok(r.packets_dropped.partition > 0, `${what}: the cut dropped packets`);
  assert.ok(r.refutations > 0, `${what}: verdicts crossed the healed cut and were refuted`);
  assert.equal(r.false_dead, 0, `${what}: ${r.false_dead} dead verdicts about reachable running members`);
  assert.equal(typeof r.reconverged_s, 'number', `${what}: one view again after the heal`);
}

describe('no false deaths after a heal (simulator, lan profile)', () => {
  for (const seed of SEEDS) {
    const members = membersFor(seed);
    const count = 1 + (seed % 3);
    test(`isolate ${count} of ${members} for 30 s, seed ${seed}`, () => {
      check({ ...base, members, seed, durationS: 150, isolate: { count, seconds: 30 } });
    });
  }
  for (const seed of SEEDS) {
    const members = membersFor(seed);
    const a = Math.max(1, Math.floor(members * 0.3));
    test(`split ${a}|${members - a} for 60 s, seed ${seed}`, () => {
      check({ ...base, members, seed, durationS: 200, split: { a, b: members - a, seconds: 60 } });
    });
  }
});

describe('false_dead counts only verdicts about members the observer could reach', () => {
  const meta = { appAddr: '', serving: true, tags: {} };
  function nodes(): SimNode[] {
    return ['a', 'b', 'c'].map((name, id) => {
      const n = new SimNode(id, name, meta);
      n.core = {} as SimNode['core'];
      n.lifeId = `${name}-1`;
      n.gossipAddr = `${name}:7946`;
      return n;
    });
  }
  const dead = (target: SimNode): MembershipEvent => ({
    type: 'member',
    name: target.name,
    from: 'suspect',
    to: 'dead',
    reason: 'suspicion-timeout',
    incarnation: 0,
    member: { name: target.name, lifeId: target.lifeId, incarnation: 0, state: 'dead', gossipAddr: target.gossipAddr, grpcAddr: '', meta },
  } as MembershipEvent);

  test('across the cut while it lasts: not counted; same side: counted; after the heal: counted once heard from', () => {
    const [a, b, c] = nodes() as [SimNode, SimNode, SimNode];
    const cut = new CutTracker([a, b, c]);
    cut.onEvent(a, dead(b));
    assert.equal(cut.falseDeadVerdicts, 1, 'before the cut everyone is reachable');
    cut.start({ groups: [[a]], seconds: 10 }, () => undefined);
    cut.onEvent(a, dead(b));
    cut.onEvent(b, dead(a));
    assert.equal(cut.falseDeadVerdicts, 1, 'verdicts across the cut are what a cut looks like');
    cut.onEvent(b, dead(c));
    assert.equal(cut.falseDeadVerdicts, 2, 'same side');
    cut.heal(5, () => undefined);
    cut.onEvent(a, dead(c));
    assert.equal(cut.falseDeadVerdicts, 2, 'not heard from since the heal');
    cut.onPacketDelivered(a, c.gossipAddr);
    cut.onEvent(a, dead(c));
    assert.equal(cut.falseDeadVerdicts, 3, 'heard from since the heal');
    assert.deepEqual([...cut.falselyDead], [['b', 1], ['c', 2]]);
  });
});
