import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { MembershipEvent } from '../../src/core/types.js';
import { alive, coreKnowing, heldDead, events, gossipTo, makeCore, memberEvents, sends, suspect } from './harness.js';

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

  test('our own news echoed back changes nothing; an older life changes nothing but is answered', () => {
    const core = makeCore('b', { lifeId: 'b-life-2', incarnation: 5000 });
    assert.deepEqual(gossipTo(core, [alive('b', 5000, 'b-life-2')], 5), []);
    // Its sender may still hold the older life (a stale or forged claim): it gets our record straight back.
    const older = gossipTo(core, [alive('b', 4000, 'b-life-1')], 6);
    assert.deepEqual(events(older), []);
    assert.deepEqual(
      sends(older).map((s) => [s.to, s.packet.updates[0]]),
      [['gossiper:7946', alive('b', 5000, 'b-life-2')]],
    );
    assert.equal(core.self.incarnation, 5000);
  });
});

describe('two live processes with one name', () => {
  test('a second live process is reported once per window, and refuted every time', () => {
    const core = makeCore('x', { lifeId: 'mine', incarnation: 1000 });
    const all: MembershipEvent[] = [];
    // The impostor keeps superseding us: each time we bump, it bumps again (one claim per second).
    for (let i = 0; i < 6; i++) {
      all.push(...events(gossipTo(core, [alive('x', core.self.incarnation + 1, 'other')], 1000 * i)));
    }
    const reported = conflicts(all);
    assert.equal(reported.length, 1);
    assert.deepEqual(reported[0], { type: 'name-conflict', name: 'x', localLifeId: 'mine', otherLifeId: 'other', otherAddr: 'x:7946' });
    assert.equal(core.counters.nameConflicts, 1);
    assert.equal(all.filter((e) => e.type === 'refuted').length, 6, 'every claim refuted: the name is never given up');
    const after = core.self.incarnation;
    gossipTo(core, [alive('x', after + 10, 'other')], 10_000);
    assert.equal(core.self.incarnation, after + 11);
    // A minute later it is reported again (once per window), so a lasting conflict stays visible.
    const later: MembershipEvent[] = [];
    for (let i = 0; i < 3; i++) later.push(...events(gossipTo(core, [alive('x', core.self.incarnation, 'other')], 70_000 + 1000 * i)));
    assert.equal(conflicts(later).length, 1);
  });

  test('supersessions spread beyond the window are restarts, not a conflict', () => {
    const core = makeCore('x', { lifeId: 'mine', incarnation: 1000 });
    const all: MembershipEvent[] = [];
    for (let i = 0; i < 5; i++) all.push(...events(gossipTo(core, [alive('x', core.self.incarnation, 'other')], 40_000 * i)));
    assert.deepEqual(conflicts(all), []);
    assert.equal(core.self.incarnation, 1005);
  });

  test('a fresh life id on every claim does not hide the conflict, and each claim is refuted', () => {
    const core = makeCore('x', { lifeId: 'mine', incarnation: 1000 });
    const all: MembershipEvent[] = [];
    for (let i = 0; i < 6; i++) all.push(...events(gossipTo(core, [alive('x', core.self.incarnation + 5, `forged-${i}`)], 1000 * i)));
    assert.equal(conflicts(all).length, 1);
    assert.equal(all.filter((e) => e.type === 'refuted').length, 6);
    assert.equal(core.self.lifeId, 'mine');
  });

  test('our own life id with an incarnation or addresses we never sent is refuted', () => {
    const core = makeCore('x', { lifeId: 'mine', incarnation: 1000 });
    const higher = gossipTo(core, [alive('x', 5000, 'mine', '9')], 10);
    assert.deepEqual(events(higher), [{ type: 'refuted', incarnation: 5001, accusation: 'stale-life' }]);
    const sameIncarnation = gossipTo(core, [alive('x', 5001, 'mine', '9')], 2000);
    assert.deepEqual(events(sameIncarnation), [{ type: 'refuted', incarnation: 5002, accusation: 'stale-life' }]);
    assert.equal(core.self.gossipAddr, 'x:7946', 'our addresses are kept');
    assert.deepEqual(gossipTo(core, [alive('x', 5002, 'mine')], 4000), [], 'our own record echoed back is no claim');
  });

  test('a flood of claims is refuted once per probe interval, above the highest claim', () => {
    const core = makeCore('x', { lifeId: 'mine', incarnation: 1000 }); // local profile: 200 ms
    const all: MembershipEvent[] = [];
    for (let i = 0; i < 50; i++) all.push(...events(gossipTo(core, [alive('x', 2000 + i, `flood-${i}`)], i)));
    assert.equal(all.filter((e) => e.type === 'refuted').length, 1, 'the first at once, the rest deferred');
    const at = core.nextDeadline();
    assert.ok(at <= 200, `the deferred refutation is due at the end of the cooldown (${at})`);
    const due = events(core.tick(200));
    assert.deepEqual(due.filter((e) => e.type === 'refuted'), [{ type: 'refuted', incarnation: 2050, accusation: 'stale-life' }]);
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
