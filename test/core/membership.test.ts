import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { SwimCore } from '../../src/core/swim.js';
import type { MemberState, Update } from '../../src/core/types.js';
import { alive, carried, coreKnowing, dead, gossipAddr, gossipTo, heldDead, left, makeCore, memberEvents, sends, suspect } from './harness.js';

/** A core that sees member `b` in `state` at incarnation 1000 (and knows c, d as alive), and the time it got there. */
function coreWithB(state: MemberState): { core: SwimCore; t: number } {
  const core = coreKnowing('a', ['b', 'c', 'd']);
  let t = 0;
  if (state === 'dead') t = heldDead(core, 'b');
  else if (state === 'suspect') gossipTo(core, [suspect('b')]);
  else if (state === 'left') gossipTo(core, [left('b')]);
  assert.equal(core.member('b')?.state, state);
  return { core, t };
}

describe('SWIM 4.2 precedence (as memberlist applies it)', () => {
  const table: [from: MemberState, update: Update, state: MemberState, incarnation: number][] = [
    ['alive', alive('b', 1000), 'alive', 1000],
    ['alive', alive('b', 1001), 'alive', 1001],
    ['alive', suspect('b', 999), 'alive', 1000],
    ['alive', suspect('b', 1000), 'suspect', 1000],
    ['alive', suspect('b', 1001), 'suspect', 1001],
    ['alive', dead('b', 999), 'alive', 1000],
    // A dead verdict from another member is a suspicion by that accuser: only our own timer kills.
    ['alive', dead('b', 1000), 'suspect', 1000],
    ['alive', dead('b', 1001), 'suspect', 1001],
    ['alive', left('b', 1000), 'left', 1000],
    ['suspect', alive('b', 1000), 'suspect', 1000],
    ['suspect', alive('b', 1001), 'alive', 1001],
    ['suspect', suspect('b', 999), 'suspect', 1000],
    ['suspect', suspect('b', 1001), 'suspect', 1001],
    ['suspect', dead('b', 1000), 'suspect', 1000],
    ['suspect', left('b', 1000), 'left', 1000],
    ['dead', alive('b', 1000), 'dead', 1000],
    ['dead', alive('b', 1001), 'alive', 1001],
    ['dead', suspect('b', 1001), 'dead', 1000],
    ['dead', dead('b', 1001), 'dead', 1000],
    ['dead', left('b', 1001), 'dead', 1000],
    ['left', alive('b', 1000), 'left', 1000],
    ['left', alive('b', 1001), 'alive', 1001],
    ['left', suspect('b', 1001), 'left', 1000],
    ['left', dead('b', 1001), 'left', 1000],
  ];
  for (const [from, update, state, incarnation] of table) {
    test(`${from}(1000) + ${update.kind}(${update.incarnation}) -> ${state}(${incarnation})`, () => {
      const { core, t } = coreWithB(from);
      gossipTo(core, [update], t + 10);
      assert.equal(core.member('b')?.state, state);
      assert.equal(core.member('b')?.incarnation, incarnation);
    });
  }

  test('suspect with same incarnation overrides alive', () => {
    const core = coreKnowing('a', ['b']);
    const effects = gossipTo(core, [suspect('b', 1000, 'c')], 5);
    assert.equal(core.member('b')?.state, 'suspect');
    const [event] = memberEvents(effects);
    assert.deepEqual([event?.name, event?.from, event?.to, event?.reason], ['b', 'alive', 'suspect', 'gossip']);
  });

  test('alive needs a higher incarnation to clear suspect', () => {
    const { core } = coreWithB('suspect');
    assert.deepEqual(memberEvents(gossipTo(core, [alive('b', 1000)], 5)), []);
    assert.equal(core.member('b')?.state, 'suspect');
    const [event] = memberEvents(gossipTo(core, [alive('b', 1001)], 6));
    assert.deepEqual([event?.from, event?.to, event?.reason, event?.incarnation], ['suspect', 'alive', 'refuted', 1001]);
  });

  test('an unknown member is learned from its alive at any incarnation', () => {
    const core = makeCore('a');
    const [event] = memberEvents(gossipTo(core, [alive('b', 0)]));
    assert.deepEqual([event?.name, event?.from, event?.to, event?.reason], ['b', null, 'alive', 'joined']);
    assert.equal(core.aliveCount(), 2);
  });

  test('suspect, dead and left about unknown members are ignored', () => {
    const core = makeCore('a');
    const effects = gossipTo(core, [suspect('x'), dead('y'), left('z')]);
    assert.deepEqual(effects, []);
    assert.equal(core.members().length, 1);
  });

  test('left is not dead: a graceful leave is its own state and event', () => {
    const core = coreKnowing('a', ['b', 'c']);
    const [event] = memberEvents(gossipTo(core, [left('b', 1001)], 5));
    assert.deepEqual([event?.from, event?.to, event?.reason], ['alive', 'left', 'left']);
    assert.equal(core.member('b')?.state, 'left');
    gossipTo(core, [dead('b', 1001)], 6);
    assert.equal(core.member('b')?.state, 'left', 'a later dead does not turn left into dead');
    const [failure] = memberEvents(gossipTo(core, [dead('c', 1000)], 7));
    assert.deepEqual([failure?.to, failure?.reason], ['suspect', 'gossip'], 'a dead verdict about an alive member is a suspicion');
  });

  test('meta changes arrive as alive with a higher incarnation and raise a meta event', () => {
    const core = coreKnowing('a', ['b']);
    const changed: Update = { ...alive('b', 1001), meta: { appAddr: 'b:8080', serving: false, tags: { zone: 'z1' } } };
    const [event] = memberEvents(gossipTo(core, [changed], 5));
    assert.deepEqual([event?.from, event?.to, event?.reason], ['alive', 'alive', 'meta']);
    assert.equal(core.member('b')?.meta.serving, false);
    assert.deepEqual(memberEvents(gossipTo(core, [alive('b', 1002)], 6)).map((e) => e.reason), ['meta']);
    assert.deepEqual(memberEvents(gossipTo(core, [alive('b', 1003)], 7)), [], 'same advertisement: no event');
  });

  test('aliveCount counts alive and suspect members including self', () => {
    const core = coreKnowing('a', ['b', 'c', 'd', 'e']);
    assert.equal(core.aliveCount(), 5);
    const t = heldDead(core, 'c');
    gossipTo(core, [suspect('b'), left('d')], t + 5);
    assert.equal(core.aliveCount(), 3);
    gossipTo(core, [alive('c', 1001)], t + 6);
    assert.equal(core.aliveCount(), 4);
  });

  test('malformed updates are counted and ignored, never thrown', () => {
    const core = makeCore('a');
    const bad = [
      { kind: 'alive', name: '', lifeId: 'x', incarnation: 1, gossipAddr: 'x', grpcAddr: 'x', meta: { appAddr: '', serving: true, tags: {} } },
      { kind: 'alive', name: 'b', lifeId: 'x', incarnation: -1, gossipAddr: 'x', grpcAddr: 'x', meta: { appAddr: '', serving: true, tags: {} } },
      { kind: 'suspect', name: 'b', incarnation: Number.NaN, from: 'c' },
      { kind: 'bogus', name: 'b', incarnation: 1 },
      null,
    ] as unknown as Update[];
    assert.doesNotThrow(() => gossipTo(core, bad));
    assert.equal(core.counters.updatesRejected, 5);
    assert.equal(core.members().length, 1);
  });

  test('the member table is bounded; alive updates beyond it are dropped and counted', () => {
    const core = makeCore('a', { maxMembers: 3 });
    gossipTo(core, ['b', 'c', 'd', 'e'].map((n) => alive(n)));
    assert.equal(core.members().length, 3);
    assert.equal(core.counters.membersDropped, 2);
  });
});

describe('memory sharing between cores in one process', () => {
  test('cores that receive the same update object hold the same record object', () => {
    const update = alive('b');
    const one = makeCore('a');
    const two = makeCore('c');
    gossipTo(one, [update]);
    gossipTo(two, [update]);
    assert.equal(one.member('b'), two.member('b'));
  });

  test('a push-pull of state we already share changes nothing and queues nothing', () => {
    const core = coreKnowing('a', ['b', 'c']);
    const before = core.counters.updatesQueued;
    const { effects } = core.onNegotiate(core.members(), false, 5);
    assert.deepEqual(effects, []);
    assert.equal(core.counters.updatesQueued, before);
  });
});

describe('dead verdicts from other members', () => {
  test('a dead verdict from a member we hold dead only makes us suspect', () => {
    const core = coreKnowing('a', ['b', 'c']);
    const t = heldDead(core, 'c', 1000, 0, 'b');
    const effects = gossipTo(core, [dead('b', 1000, 'c')], t + 10);
    assert.equal(core.member('b')?.state, 'suspect', 'b is suspected, not killed, on the word of a member held dead');
    assert.ok(!memberEvents(effects).some((e) => e.name === 'b' && e.to === 'dead'));
  });

  test('a dead verdict from a member we hold alive only makes us suspect too: the accused can refute it', () => {
    const core = coreKnowing('a', ['b', 'c']);
    const effects = gossipTo(core, [dead('c', 1000, 'b')], 10);
    assert.equal(core.member('c')?.state, 'suspect');
    assert.deepEqual(memberEvents(effects).map((e) => [e.name, e.to, e.reason]), [['c', 'suspect', 'gossip']]);
    // What spreads is the suspicion, not the verdict.
    assert.ok(!carried(core.tick(11)).some((u) => u.kind === 'dead'));
    const [refuted] = memberEvents(gossipTo(core, [alive('c', 1001)], 20));
    assert.deepEqual([refuted?.from, refuted?.to, refuted?.reason], ['suspect', 'alive', 'refuted']);
  });

  test('from an unknown accuser, or one claiming to be us, the same', () => {
    for (const from of ['nobody-we-know', 'a']) {
      const core = coreKnowing('a', ['b']);
      gossipTo(core, [dead('b', 1000, from)], 10);
      assert.equal(core.member('b')?.state, 'suspect', from);
    }
  });

  test("an independent accuser's verdict confirms the suspicion (Lifeguard), so a member really gone is declared dead sooner", () => {
    const core = coreKnowing('a', ['b', 'c', 'd', 'e']);
    gossipTo(core, [suspect('b', 1000, 'c')], 0);
    const before = core.suspicionDeadline('b') ?? 0;
    gossipTo(core, [dead('b', 1000, 'd')], 1);
    assert.equal(core.suspicionConfirmations('b'), 1);
    assert.ok((core.suspicionDeadline('b') ?? Infinity) < before);
    core.tick(core.suspicionDeadline('b') ?? 0);
    assert.equal(core.member('b')?.state, 'dead');
  });
});

describe('a packet from a member we suspect', () => {
  test('restarts the suspicion once and tells the sender, which can then refute; a second packet changes nothing', () => {
    const core = coreKnowing('a', ['b', 'c', 'd']);
    gossipTo(core, [suspect('b', 1000, 'c')], 0);
    gossipTo(core, [suspect('b', 1000, 'd')], 1);
    const confirmed = core.suspicionDeadline('b') ?? 0;
    const effects = gossipTo(core, [], 2000, 'b');
    const told = sends(effects).filter((s) => s.to === gossipAddr('b'));
    assert.equal(told.length, 1);
    assert.deepEqual(told[0]?.packet.updates[0], { kind: 'suspect', name: 'b', incarnation: 1000, from: 'a' });
    const restarted = core.suspicionDeadline('b') ?? 0;
    assert.ok(restarted > confirmed, `a whole timeout from the packet on: ${confirmed} -> ${restarted}`);
    assert.equal(core.suspicionConfirmations('b'), 0);
    gossipTo(core, [], 3000, 'b');
    assert.equal(core.suspicionDeadline('b'), restarted, 'only the first packet restarts it');
    core.tick(restarted);
    assert.equal(core.member('b')?.state, 'dead', 'a suspect that never refutes is still declared dead');
  });

  test('a packet from a member we hold alive changes nothing', () => {
    const core = coreKnowing('a', ['b']);
    assert.deepEqual(gossipTo(core, [], 10, 'b'), []);
  });
});
