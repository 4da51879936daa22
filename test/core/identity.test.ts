import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { MembershipEvent } from '../../src/core/types.js';
import { alive, coreKnowing, dead, heldDead, events, gossipTo, makeCore, memberEvents, suspect } from './harness.js';

function conflicts(list: readonly MembershipEvent[]): Extract<MembershipEvent, { type: 'name-conflict' }>[] {
  return list.filter((e): e is Extract<MembershipEvent, { type: 'name-conflict' }> => e.type === 'name-conflict');
}

describe('restarts', () => {
  test('restart with new lifeId supersedes at once, with the new addresses', () => {
    for (const prior of ['alive', 'suspect', 'dead'] as const) {
      const core = coreKnowing('a', ['b', 'c']);
      if (prior === 'suspect') gossipTo(core, [suspect('b')]);
      const t = prior === 'dead' ? heldDead(core, 'b') : 0;
      const effects = gossipTo(core, [alive('b', 50_000, 'b-life-2', '1')], t + 10);
      const member = core.member('b');
      assert.equal(member?.state, 'alive', prior);
      assert.equal(member?.lifeId, 'b-life-2');
      assert.equal(member?.gossipAddr, 'b:79461');
      assert.deepEqual(memberEvents(effects).map((e) => [e.from, e.to, e.reason]), [[prior, 'alive', 'restarted']]);
      assert.deepEqual(conflicts(events(effects)), [], 'a single restart is no conflict');
    }
  });

  test('the old life cannot come back over the new one', () => {
    const core = coreKnowing('a', ['b']);
    gossipTo(core, [alive('b', 50_000, 'b-life-2')], 10);
    gossipTo(core, [alive('b', 1001, 'b-life-1')], 11);
    assert.equal(core.member('b')?.lifeId, 'b-life-2');
  });

  test('a restart behind the old life (slow clock) raises its incarnation above the old one', () => {
    // The new life booted with incarnation 900, but peers still hold the old life at 1000.
    const core = makeCore('b', { lifeId: 'b-life-2', incarnation: 900 });
    const effects = gossipTo(core, [alive('b', 1000, 'b-life-1')], 5);
    assert.equal(core.self.incarnation, 1001);
    assert.equal(core.self.lifeId, 'b-life-2');
    assert.deepEqual(events(effects), [{ type: 'refuted', incarnation: 1001, accusation: 'stale-life' }]);
    assert.equal(core.healthScore(), 0, 'a stale life says nothing about our health');
    assert.equal(core.pendingBroadcasts(), 1);
  });

  test('our own news echoed back, or an older life, changes nothing', () => {
    const core = makeCore('b', { lifeId: 'b-life-2', incarnation: 5000 });
    assert.deepEqual(gossipTo(core, [alive('b', 5000, 'b-life-2'), alive('b', 4000, 'b-life-1')], 5), []);
    assert.equal(core.self.incarnation, 5000);
  });
});

describe('two live processes with one name', () => {
  test('second live process with same name reported once', () => {
    const core = makeCore('x', { lifeId: 'mine', incarnation: 1000 });
    const all: MembershipEvent[] = [];
    // The impostor keeps superseding us: each time we bump, it bumps again.
    for (let i = 0; i < 6; i++) {
      all.push(...events(gossipTo(core, [alive('x', core.self.incarnation + 1, 'other')], 1000 * i)));
    }
    const reported = conflicts(all);
    assert.equal(reported.length, 1);
    assert.deepEqual(reported[0], { type: 'name-conflict', name: 'x', localLifeId: 'mine', otherLifeId: 'other', otherAddr: 'x:7946' });
    assert.equal(core.counters.nameConflicts, 1);
    assert.equal(all.filter((e) => e.type === 'refuted').length, 2, 'bumped twice, then stopped racing');
    const frozen = core.self.incarnation;
    gossipTo(core, [alive('x', frozen + 10, 'other')], 10_000);
    assert.equal(core.self.incarnation, frozen, 'no flapping after the report');
  });

  test('supersessions spread beyond the window are restarts, not a conflict', () => {
    const core = makeCore('x', { lifeId: 'mine', incarnation: 1000 });
    const all: MembershipEvent[] = [];
    for (let i = 0; i < 5; i++) all.push(...events(gossipTo(core, [alive('x', core.self.incarnation, 'other')], 40_000 * i)));
    assert.deepEqual(conflicts(all), []);
    assert.equal(core.self.incarnation, 1005);
  });

  test('each other life is reported on its own', () => {
    const core = makeCore('x', { lifeId: 'mine', incarnation: 1000 });
    const all: MembershipEvent[] = [];
    for (const other of ['o1', 'o2']) {
      for (let i = 0; i < 3; i++) all.push(...events(gossipTo(core, [alive('x', core.self.incarnation, other)], i)));
    }
    assert.deepEqual(conflicts(all).map((e) => e.otherLifeId), ['o1', 'o2']);
  });

  test('peers report a name conflict when two lives alternate', () => {
    const core = coreKnowing('a', ['x']);
    const all: MembershipEvent[] = [];
    all.push(...events(gossipTo(core, [alive('x', 2000, 'x-life-2')], 1)));
    assert.deepEqual(conflicts(all), [], 'one change of life is a restart');
    all.push(...events(gossipTo(core, [alive('x', 3000, 'x-life-1')], 2)));
    all.push(...events(gossipTo(core, [alive('x', 4000, 'x-life-2')], 3)));
    all.push(...events(gossipTo(core, [alive('x', 5000, 'x-life-1')], 4)));
    const reported = conflicts(all);
    assert.equal(reported.length, 1);
    assert.deepEqual([reported[0]?.name, reported[0]?.localLifeId, reported[0]?.otherLifeId], ['x', 'x-life-2', 'x-life-1']);
    assert.equal(core.member('x')?.incarnation, 5000, 'precedence still follows incarnations');
  });
});
