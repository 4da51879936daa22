import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { pushPullInterval } from '../../src/core/limits.js';
import type { SwimCore } from '../../src/core/swim.js';
import type { Effect, MemberRecord } from '../../src/core/types.js';
import { alive, carried, coreKnowing, heldDead, gossipAddr, gossipTo, grpcAddr, makeCore, memberEvents, record, sends, tickNext } from './harness.js';

type Negotiate = Extract<Effect, { type: 'negotiate' }>;
function negotiations(effects: readonly Effect[]): Negotiate[] {
  return effects.filter((e): e is Negotiate => e.type === 'negotiate');
}

describe('join', () => {
  test('join negotiates with each seed except itself', () => {
    const core = makeCore('a');
    const effects = core.join([grpcAddr('s1'), grpcAddr('a'), grpcAddr('s2'), grpcAddr('s1')], 0);
    const ns = negotiations(effects);
    assert.deepEqual(ns.map((n) => n.to), [grpcAddr('s1'), grpcAddr('s2')]);
    assert.ok(ns.every((n) => n.join));
    assert.notEqual(ns[0]?.requestId, ns[1]?.requestId);
    assert.deepEqual(ns[0]?.state.map((r) => r.name), ['a']);
    assert.equal(core.isJoined(), false);
  });

  test('a successful negotiate merges the remote state and marks the core joined', () => {
    const core = makeCore('a');
    const [n] = negotiations(core.join([grpcAddr('s')], 0));
    const effects = core.onNegotiateReply(n!.requestId, [record('s', 'alive'), record('t', 'alive')], 10);
    assert.equal(core.isJoined(), true);
    assert.deepEqual(core.members().map((r) => r.name).sort(), ['a', 's', 't']);
    assert.deepEqual(memberEvents(effects).map((e) => [e.name, e.to, e.reason]), [['s', 'alive', 'joined'], ['t', 'alive', 'joined']]);
  });

  test('once a seed answers, the joiner gossips its own alive at once, first in every packet', () => {
    const core = makeCore('a');
    const [n] = negotiations(core.join([grpcAddr('s')], 0));
    const others = ['s', 't', 'u', 'v'].map((name) => record(name, 'alive'));
    core.onNegotiateReply(n!.requestId, others, 10);
    const [at, effects] = tickNext(core);
    assert.equal(at, 10, 'no gossip interval waited');
    const gossip = sends(effects).filter((e) => e.packet.message === null);
    assert.equal(gossip.length, 3, 'gossipNodes members');
    for (const g of gossip) assert.deepEqual(g.packet.updates[0], alive('a', core.self.incarnation, core.self.lifeId, ''), 'our alive ahead of the introductions');
  });

  test('a push-pull answer (not a join) announces nothing of ours', () => {
    const core = coreKnowing('a', ['b'], {}, { pushPullIntervalMs: 0 });
    while (core.pendingBroadcasts() > 0) tickNext(core);
    core.onNegotiateReply(77, [record('b', 'alive')], 10_000);
    assert.equal(core.pendingBroadcasts(), 0);
  });

  test('a failed negotiate leaves the core unjoined', () => {
    const core = makeCore('a');
    const [n] = negotiations(core.join([grpcAddr('s')], 0));
    assert.deepEqual(core.onNegotiateFailed(n!.requestId, 10), []);
    assert.equal(core.isJoined(), false);
  });

  test('learning a peer by gossip also counts as joined', () => {
    const core = makeCore('a');
    gossipTo(core, [alive('b')]);
    assert.equal(core.isJoined(), true);
  });

  test('onNegotiate merges the remote list and replies with the full local state', () => {
    const core = coreKnowing('a', ['b']);
    const { reply, effects } = core.onNegotiate([record('n', 'alive')], true, 5);
    assert.deepEqual(reply.map((r) => r.name).sort(), ['a', 'b', 'n']);
    assert.deepEqual(memberEvents(effects).map((e) => [e.name, e.reason]), [['n', 'joined']]);
  });
});

describe('follow-up exchanges after a join', () => {
  // Periodic push-pull off, so every negotiate after the join is a follow-up.
  const noPushPull = { pushPullIntervalMs: 0 };
  function negotiationsUntil(core: SwimCore, until: number): { at: number; n: Negotiate }[] {
    const found: { at: number; n: Negotiate }[] = [];
    while (core.nextDeadline() <= until) {
      const [at, effects] = tickNext(core);
      for (const n of negotiations(effects)) found.push({ at, n });
    }
    return found;
  }

  test('two exchanges after the first join reply: a seed that answered after 1-2 probe intervals, then a random member after 3-4', () => {
    const core = makeCore('a', {}, noPushPull);
    const [n1, n2] = negotiations(core.join([grpcAddr('s1'), grpcAddr('s2')], 0));
    core.onNegotiateFailed(n1!.requestId, 5);
    core.onNegotiateReply(n2!.requestId, [record('s2', 'alive'), record('t', 'alive'), record('u', 'alive')], 10);
    const found = negotiationsUntil(core, 60_000);
    assert.equal(found.length, 2);
    const [first, second] = found;
    assert.equal(first!.n.to, grpcAddr('s2'), 'the seed that answered, not the one that failed');
    assert.ok(first!.at >= 10 + 200 && first!.at < 10 + 400, `first at ${first!.at}`);
    assert.ok([grpcAddr('s2'), grpcAddr('t'), grpcAddr('u')].includes(second!.n.to));
    assert.ok(second!.at >= 10 + 600 && second!.at < 10 + 800, `second at ${second!.at}`);
    assert.ok(found.every((f) => !f.n.join), 'follow-ups are plain exchanges, not joins');
    assert.deepEqual(first!.n.state.map((r) => r.name).sort(), ['a', 's2', 't', 'u'], 'they carry our full state');
  });

  test('more seed replies do not add more follow-ups', () => {
    const core = makeCore('a', {}, noPushPull);
    const ns = negotiations(core.join([grpcAddr('s1'), grpcAddr('s2'), grpcAddr('s3')], 0));
    for (const [i, n] of ns.entries()) core.onNegotiateReply(n.requestId, [record(`s${i + 1}`, 'alive')], 10 + i);
    const found = negotiationsUntil(core, 60_000);
    assert.equal(found.length, 2);
    assert.ok([grpcAddr('s1'), grpcAddr('s2'), grpcAddr('s3')].includes(found[0]!.n.to));
  });

  test('a seed answering after the first follow-up does not turn the second one into a seed exchange', () => {
    const core = makeCore('a', {}, noPushPull);
    const [n1, n2] = negotiations(core.join([grpcAddr('s1'), grpcAddr('s2')], 0));
    const others = Array.from({ length: 20 }, (_, i) => record(`m${i}`, 'alive'));
    core.onNegotiateReply(n1!.requestId, [record('s1', 'alive'), ...others], 10);
    const first = negotiationsUntil(core, 500);
    assert.deepEqual(first.map((f) => f.n.to), [grpcAddr('s1')]);
    core.onNegotiateReply(n2!.requestId, [record('s2', 'alive')], 510);
    const second = negotiationsUntil(core, 60_000);
    assert.equal(second.length, 1);
    assert.ok(second[0]!.n.to.startsWith('m'), `second follow-up to ${second[0]!.n.to}, a random member, not s2`);
  });

  test('no follow-ups when no seed answered, or for a negotiate that was not a join', () => {
    const failed = makeCore('a', {}, noPushPull);
    for (const n of negotiations(failed.join([grpcAddr('s1'), grpcAddr('s2')], 0))) failed.onNegotiateFailed(n.requestId, 5);
    gossipTo(failed, [alive('b')], 6);
    assert.deepEqual(negotiationsUntil(failed, 60_000), []);

    const pushPulled = coreKnowing('a', ['b'], {}, noPushPull);
    pushPulled.onNegotiateReply(77, [record('b', 'alive')], 10);
    assert.deepEqual(negotiationsUntil(pushPulled, 60_000), []);
  });

  test('a retried join replaces the pending follow-ups instead of adding to them', () => {
    const core = makeCore('a', {}, noPushPull);
    const [first] = negotiations(core.join([grpcAddr('s1')], 0));
    core.onNegotiateReply(first!.requestId, [record('s1', 'alive')], 10);
    const [retry] = negotiations(core.join([grpcAddr('s2')], 100));
    core.onNegotiateReply(first!.requestId, [record('s1', 'alive')], 110);
    assert.deepEqual(negotiationsUntil(core, 60_000), [], 'a late answer to the old join schedules nothing');
    core.onNegotiateReply(retry!.requestId, [record('s2', 'alive')], 60_010);
    const found = negotiationsUntil(core, 120_000);
    assert.equal(found.length, 2);
    assert.equal(found[0]!.n.to, grpcAddr('s2'));
  });

  test('leaving cancels pending follow-ups', () => {
    const core = makeCore('a', {}, noPushPull);
    const [n] = negotiations(core.join([grpcAddr('s')], 0));
    core.onNegotiateReply(n!.requestId, [record('s', 'alive')], 10);
    core.leave(20);
    assert.deepEqual(negotiationsUntil(core, 60_000), []);
  });
});

describe('push-pull merge (memberlist mergeState)', () => {
  test('remote dead becomes suspect locally; remote left stays left', () => {
    const core = coreKnowing('a', ['b', 'c']);
    const { effects } = core.onNegotiate([record('b', 'dead'), record('c', 'left')], false, 5);
    assert.equal(core.member('b')?.state, 'suspect');
    assert.equal(core.member('c')?.state, 'left');
    assert.deepEqual(memberEvents(effects).map((e) => [e.name, e.to, e.reason]), [['b', 'suspect', 'push-pull'], ['c', 'left', 'left']]);
  });

  test('a remote suspect we never heard of is learned, then suspected by us', () => {
    const core = makeCore('a');
    core.onNegotiate([record('b', 'suspect')], false, 5);
    assert.equal(core.member('b')?.state, 'suspect');
    assert.equal(core.member('b')?.gossipAddr, gossipAddr('b'));
  });

  test('remote dead or left members we never knew are not added', () => {
    const core = makeCore('a');
    core.onNegotiate([record('x', 'left'), record('y', 'dead', 1000)], false, 5);
    assert.equal(core.member('x'), undefined);
    assert.equal(core.member('y'), undefined);
  });

  test('a remote view of ourselves as dead is refuted', () => {
    const core = coreKnowing('a', ['b']);
    const { effects } = core.onNegotiate([record('a', 'dead', 1000)], false, 5);
    assert.equal(core.self.incarnation, 1001);
    assert.ok(effects.some((e) => e.type === 'event' && e.event.type === 'refuted' && e.event.accusation === 'dead'));
  });

  test('malformed records are counted and skipped', () => {
    const core = makeCore('a');
    const bad = [{ name: 'x', state: 'zombie' }, null, record('ok', 'alive')] as unknown as MemberRecord[];
    core.onNegotiate(bad, false, 1);
    assert.equal(core.counters.updatesRejected, 2);
    assert.equal(core.member('ok')?.state, 'alive');
  });
});

describe('healing partitions', () => {
  const slow = { probeIntervalMs: 100_000, probeTimeoutMs: 50_000, deadRetentionMs: 5000, tombstoneMs: 60_000 };

  test('full state carries reaped members as they were last seen', () => {
    const core = coreKnowing('a', ['b', 'c'], {}, slow);
    const t = heldDead(core, 'b');
    core.tick(t + 5000);
    assert.equal(core.member('b'), undefined);
    const state = core.fullState();
    assert.deepEqual(state.map((r) => `${r.name}:${r.state}`).sort(), ['a:alive', 'b:dead', 'c:alive']);
    assert.deepEqual(core.members().map((r) => r.name).sort(), ['a', 'c'], 'members() lists only the table');
    const { reply, effects } = core.onNegotiate([], false, t + 6000);
    assert.deepEqual(reply, state, 'an empty Negotiate answers with the same full state');
    assert.deepEqual(effects, []);
  });

  test('fullState() is a query: reading it changes nothing a later step can see', () => {
    const run = (readState: boolean): unknown => {
      const core = coreKnowing('a', ['b', 'c'], {}, slow);
      const t = heldDead(core, 'b');
      const effects = [...core.tick(t + 5000)];
      if (readState) for (let i = 0; i < 3; i++) core.fullState().pop();
      effects.push(...core.tick(t + 200_000), ...core.join([grpcAddr('c')], t + 200_001));
      return { effects, state: core.fullState(), members: core.members(), pending: core.pendingBroadcasts(), joined: core.isJoined() };
    };
    assert.deepEqual(run(true), run(false));
  });

  test('a member told it is held dead (even reaped) refutes, and the refutation gets through the tombstone', () => {
    const holder = coreKnowing('a', ['b'], {}, slow);
    const t = heldDead(holder, 'b');
    holder.tick(t + 5000);
    const b = coreKnowing('b', ['a'], {}, slow);
    const [n] = negotiations(holder.tick(t + 1_000_000).concat(holder.join([grpcAddr('b')], t + 1_000_000)));
    const { reply, effects } = b.onNegotiate(n!.state, false, t + 1_000_001);
    assert.ok(effects.some((e) => e.type === 'event' && e.event.type === 'refuted' && e.event.accusation === 'dead'));
    holder.onNegotiateReply(n!.requestId, reply, t + 1_000_002);
    assert.equal(holder.member('b')?.state, 'alive');
    assert.equal(holder.member('b')?.incarnation, 1001);
  });

  test('each push-pull period also negotiates with one member held dead or reaped (reconnect)', () => {
    const core = coreKnowing('a', ['b', 'c'], {}, slow);
    heldDead(core, 'b');
    // Counted from here: the tick that ran b's suspicion out may have started a push-pull already.
    const pushPulls = core.counters.pushPullsStarted;
    const reconnects = core.counters.reconnectsStarted;
    const found: Negotiate[] = [];
    for (let i = 0; i < 500 && found.length < 2; i++) found.push(...negotiations(tickNext(core)[1]));
    assert.deepEqual(found.map((n) => n.to).sort(), [grpcAddr('b'), grpcAddr('c')]);
    assert.equal(core.counters.reconnectsStarted - reconnects, 1);
    assert.equal(core.counters.pushPullsStarted - pushPulls, 1);
  });
});

describe('periodic push-pull', () => {
  test('negotiates with one random alive member every interval', () => {
    // Probing pushed out so b and c stay alive without anyone answering.
    const core = coreKnowing('a', ['b', 'c'], {}, { probeIntervalMs: 100_000, probeTimeoutMs: 50_000 });
    const found: { at: number; n: Negotiate }[] = [];
    for (let i = 0; i < 2000 && found.length < 2; i++) {
      const [at, effects] = tickNext(core);
      for (const n of negotiations(effects)) found.push({ at, n });
    }
    assert.equal(found.length, 2);
    assert.ok([grpcAddr('b'), grpcAddr('c')].includes(found[0]!.n.to));
    assert.equal(found[0]!.n.join, false);
    assert.ok(found[0]!.at < 5000, 'first push-pull within one interval (random phase)');
    assert.equal(found[1]!.at - found[0]!.at, 5000, 'local push-pull interval');
    assert.equal(core.counters.pushPullsStarted, 2);
  });

  test('the first push-pull falls uniformly over the interval scaled to the cluster, not its unscaled start', () => {
    // 100 members: the local 5 s interval scales to 15 s. The phase is drawn before the members are known.
    const others = Array.from({ length: 99 }, (_, i) => `m${i}`);
    const quiet = { probeIntervalMs: 100_000, probeTimeoutMs: 50_000 };
    const firsts: number[] = [];
    for (let c = 0; c < 16; c++) {
      const core = coreKnowing(`a${c}`, others, {}, quiet);
      const found: number[] = [];
      for (let i = 0; i < 5000 && found.length < 2; i++) {
        const [at, effects] = tickNext(core);
        if (negotiations(effects).length > 0) found.push(at);
      }
      assert.equal(found.length, 2);
      assert.ok(found[0]! < 15_000, `first push-pull at ${found[0]} within the scaled interval`);
      assert.equal(found[1]! - found[0]!, 15_000, 'then every scaled interval');
      assert.equal(core.counters.pushPullsStarted, 2, 'moving the first exchange to its scaled phase sends nothing');
      firsts.push(found[0]!);
    }
    // Uniform over 15 s: about two thirds land past the unscaled 5 s (none did before), some in each third.
    assert.ok(firsts.filter((at) => at >= 5000).length >= 8, `first push-pulls ${firsts.join(', ')}`);
    assert.ok(firsts.some((at) => at < 5000) && firsts.some((at) => at >= 10_000), `first push-pulls ${firsts.join(', ')}`);
  });

  test('push-pull interval scales up for big clusters (memberlist pushPullScale)', () => {
    const table: [n: number, expected: number][] = [
      [1, 30_000],
      [32, 30_000],
      [33, 60_000],
      [64, 60_000],
      [65, 90_000],
      [128, 90_000],
      [1000, 180_000],
    ];
    for (const [n, expected] of table) assert.equal(pushPullInterval(30_000, n), expected, `n ${n}`);
  });

  test('an interval of 0 turns periodic push-pull off', () => {
    const core = coreKnowing('a', ['b'], {}, { pushPullIntervalMs: 0 });
    const all: Effect[] = [];
    for (let i = 0; i < 300; i++) all.push(...tickNext(core)[1]);
    assert.deepEqual(negotiations(all), []);
  });
});

describe('leave', () => {
  test('leave marks self left with incarnation+1, broadcasts it, and sends Closing to closingFanout alive members', () => {
    const core = coreKnowing('a', ['b', 'c', 'd', 'e', 'f', 'g', 'h']);
    const effects = core.leave(10);
    assert.equal(core.isLeaving(), true);
    assert.equal(core.self.state, 'left');
    assert.equal(core.self.incarnation, 1001);
    const closings = effects.filter((e) => e.type === 'closing');
    assert.equal(closings.length, 5);
    assert.equal(new Set(closings.map((c) => (c.type === 'closing' ? c.to : ''))).size, 5);
    assert.ok(closings.every((c) => c.type === 'closing' && c.name === 'a' && c.incarnation === 1001));
    assert.deepEqual(memberEvents(effects).map((e) => [e.name, e.from, e.to, e.reason]), [['a', 'alive', 'left', 'left']]);
    assert.equal(core.aliveCount(), 7);
    assert.deepEqual(core.leave(11), [], 'leaving twice does nothing');
  });

  test('a leaving core stops probing but answers pings and gossips until its queue drains', () => {
    const core = coreKnowing('a', ['b', 'c', 'd']);
    core.leave(0);
    const effects: Effect[] = [];
    for (let i = 0; i < 100 && core.pendingBroadcasts() > 0; i++) effects.push(...tickNext(core)[1]);
    assert.equal(core.pendingBroadcasts(), 0);
    assert.ok(carried(effects).some((u) => u.kind === 'left' && u.name === 'a'));
    assert.ok(!sends(effects).some((s) => s.packet.message?.type === 'ping'), 'no probes');
    assert.equal(core.nextDeadline(), Infinity, 'nothing left to do: no probe rounds, no push-pull');
    const reply = sends(core.receive(gossipAddr('b'), { message: { type: 'ping', seq: 4, from: 'b', fromAddr: gossipAddr('b'), target: 'a' }, updates: [] }, 10_000));
    assert.deepEqual(reply[0]?.packet.message, { type: 'ack', seq: 4, from: 'a' });
  });

  test('onClosing marks the member left', () => {
    const core = coreKnowing('a', ['b']);
    const effects = core.onClosing('b', 1001, 5);
    assert.equal(core.member('b')?.state, 'left');
    assert.deepEqual(memberEvents(effects).map((e) => [e.from, e.to, e.reason]), [['alive', 'left', 'left']]);
    assert.equal(core.pendingBroadcasts() > 0, true);
  });
});

describe('updateMeta', () => {
  test('raises the incarnation, broadcasts alive and reports a meta event', () => {
    const core = coreKnowing('a', ['b']);
    const meta = { appAddr: 'a:8080', serving: false, tags: {} };
    const effects = core.updateMeta(meta, 5);
    assert.equal(core.self.incarnation, 1001);
    assert.deepEqual(core.self.meta, meta);
    assert.deepEqual(memberEvents(effects).map((e) => [e.name, e.from, e.to, e.reason]), [['a', 'alive', 'alive', 'meta']]);
    const reply = sends(core.receive(gossipAddr('b'), { message: { type: 'ping', seq: 1, from: 'b', fromAddr: gossipAddr('b'), target: 'a' }, updates: [] }, 6));
    assert.ok(reply[0]?.packet.updates.some((u) => u.kind === 'alive' && u.name === 'a' && u.incarnation === 1001 && !u.meta.serving));
  });

  test('is ignored once leaving', () => {
    const core = coreKnowing('a', ['b']);
    core.leave(1);
    assert.deepEqual(core.updateMeta({ appAddr: '', serving: true, tags: {} }, 2), []);
    assert.equal(core.self.state, 'left');
  });
});
