import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { SwimCore } from '../../src/core/swim.js';
import type { Effect, Message } from '../../src/core/types.js';
import { ack, alive, carried, coreKnowing, dead, heldDead, events, gossipAddr, gossipTo, left, memberEvents, nack, nextPing, pingReqs, sends, suspect, tickNext, untilNextPing } from './harness.js';

describe('probing', () => {
  test('a direct ping goes to one member per protocol period', () => {
    const core = coreKnowing('a', ['b', 'c', 'd', 'e']);
    const { send, ping } = nextPing(core);
    assert.ok(['b', 'c', 'd', 'e'].includes(ping.target));
    assert.equal(send.to, gossipAddr(ping.target));
    assert.equal(ping.from, 'a');
    assert.equal(ping.fromAddr, gossipAddr('a'));
    assert.equal(core.counters.probesSent, 1);
  });

  test('round-robin: every member is probed once per round, in a fresh order each round', () => {
    const members = ['b', 'c', 'd', 'e', 'f', 'g', 'h'];
    const core = coreKnowing('a', members, {}, { probeIntervalMs: 1000, probeTimeoutMs: 500 });
    const rounds: string[][] = [];
    for (let r = 0; r < 4; r++) {
      const round: string[] = [];
      for (let i = 0; i < members.length; i++) {
        const { at, ping } = nextPing(core);
        ack(core, ping.seq, ping.target, at + 1);
        round.push(ping.target);
      }
      assert.deepEqual([...round].sort(), members, `round ${r}`);
      rounds.push(round);
    }
    assert.ok(new Set(rounds.map((r) => r.join())).size > 1, 'order reshuffled between rounds');
  });

  test('self, dead and left members are never probed', () => {
    const core = coreKnowing('a', ['b', 'c', 'd', 'e']);
    const t = heldDead(core, 'c');
    gossipTo(core, [left('d')], t);
    const targets = new Set<string>();
    for (let i = 0; i < 8; i++) {
      const { at, ping } = nextPing(core);
      ack(core, ping.seq, ping.target, at + 1);
      targets.add(ping.target);
    }
    assert.deepEqual([...targets].sort(), ['b', 'e']);
  });

  test('a member learned mid-round is probed within the same round', () => {
    const core = coreKnowing('a', ['b', 'c', 'd'], {}, { probeIntervalMs: 1000, probeTimeoutMs: 500 });
    const first = nextPing(core);
    ack(core, first.ping.seq, first.ping.target, first.at + 1);
    gossipTo(core, [alive('z')], first.at + 2);
    const targets = [first.ping.target];
    for (let i = 0; i < 3; i++) {
      const { at, ping } = nextPing(core);
      ack(core, ping.seq, ping.target, at + 1);
      targets.push(ping.target);
    }
    assert.deepEqual([...targets].sort(), ['b', 'c', 'd', 'z']);
  });

  test('direct probe timeout sends k ping-req to other alive members', () => {
    const core = coreKnowing('a', ['b', 'c', 'd', 'e']);
    const { at, ping } = nextPing(core);
    assert.deepEqual(pingReqs(core.tick(at + 99)), [], 'not before the local probe timeout');
    const reqs = pingReqs(core.tick(at + 100));
    assert.equal(reqs.length, 2, 'k = 2 in the local profile');
    assert.equal(new Set(reqs.map((r) => r.to)).size, 2);
    for (const { to, req } of reqs) {
      assert.notEqual(to, gossipAddr(ping.target));
      assert.notEqual(to, gossipAddr('a'));
      assert.deepEqual(req, { type: 'ping-req', seq: ping.seq, from: 'a', fromAddr: gossipAddr('a'), target: ping.target, targetAddr: gossipAddr(ping.target) });
    }
    assert.equal(core.counters.indirectProbesSent, 2);
  });

  test('ping-req goes only to alive members, never suspect ones', () => {
    const core = coreKnowing('a', ['b', 'c', 'd', 'e']);
    const { at, ping } = nextPing(core);
    const others = ['b', 'c', 'd', 'e'].filter((n) => n !== ping.target);
    gossipTo(core, [suspect(others[0]!), suspect(others[1]!)], at);
    const effects = core.tick(at + 100);
    assert.deepEqual(pingReqs(effects).map((r) => r.to), [gossipAddr(others[2]!)]);
  });

  test('an ack before the timeout ends the probe: no ping-req, no suspicion', () => {
    const core = coreKnowing('a', ['b', 'c', 'd', 'e']);
    const { at, ping } = nextPing(core);
    ack(core, ping.seq, ping.target, at + 5);
    const { effects } = untilNextPing(core);
    assert.deepEqual(pingReqs(effects), []);
    assert.deepEqual(memberEvents(effects), []);
    assert.equal(core.member(ping.target)?.state, 'alive');
  });

  test('an ack from another member or with another seq does not count', () => {
    const core = coreKnowing('a', ['b', 'c', 'd', 'e']);
    const { at, ping } = nextPing(core);
    ack(core, ping.seq, 'zzz', at + 5);
    ack(core, ping.seq + 1, ping.target, at + 5);
    assert.equal(pingReqs(core.tick(at + 100)).length, 2);
  });

  test('no ack by the end of the period: the target is suspected', () => {
    const core = coreKnowing('a', ['b', 'c', 'd', 'e']);
    const { at, ping } = nextPing(core);
    const { effects, next } = untilNextPing(core);
    assert.equal(next.at, at + 200, 'judged when the period ends: relays nack within one probe timeout of the ping-req');
    const events = memberEvents(effects);
    assert.deepEqual(events.map((e) => [e.name, e.from, e.to, e.reason]), [[ping.target, 'alive', 'suspect', 'probe-failed']]);
    assert.equal(core.counters.probesFailed, 1);
    assert.equal(core.counters.suspicionsRaised, 1);
    assert.deepEqual(core.member(ping.target)?.state, 'suspect');
  });

  test('a relayed ack saves the target', () => {
    const core = coreKnowing('a', ['b', 'c', 'd', 'e']);
    const { at, ping } = nextPing(core);
    const relay = pingReqs(core.tick(at + 100))[0]!.to.split(':')[0]!;
    ack(core, ping.seq, ping.target, at + 120, relay);
    const { effects: rest } = untilNextPing(core);
    assert.deepEqual(memberEvents(rest), []);
    assert.equal(core.counters.probesFailed, 0);
  });
});

describe('Lifeguard local health awareness', () => {
  test('missed nacks raise awareness: + (expected - received)', () => {
    for (const [nacksSent, expected] of [
      [0, 2],
      [1, 1],
      [2, 0],
    ] as const) {
      const core = coreKnowing('a', ['b', 'c', 'd', 'e']);
      const { at, ping } = nextPing(core);
      const relays = pingReqs(core.tick(at + 100)).map((r) => r.to.split(':')[0]!);
      assert.equal(relays.length, 2);
      for (const relay of relays.slice(0, nacksSent)) nack(core, ping.seq, relay, at + 250);
      untilNextPing(core);
      assert.equal(core.healthScore(), expected, `${nacksSent} nacks`);
      assert.equal(core.counters.nacksReceived, nacksSent);
    }
  });

  test('nacks beyond the number expected are not counted', () => {
    const core = coreKnowing('a', ['b', 'c', 'd', 'e']);
    const { at, ping } = nextPing(core);
    core.tick(at + 100);
    for (let i = 0; i < 5; i++) nack(core, ping.seq, 'c', at + 110);
    assert.equal(core.counters.nacksReceived, 2);
  });

  test('a failed probe with nobody to ask raises awareness by one', () => {
    const core = coreKnowing('a', ['b']);
    const { at } = nextPing(core);
    assert.deepEqual(pingReqs(core.tick(at + 100)), []);
    untilNextPing(core);
    assert.equal(core.healthScore(), 1);
  });

  test('a successful probe lowers awareness by one', () => {
    const core = coreKnowing('a', ['b', 'c', 'd', 'e']);
    nextPing(core);
    const { next } = untilNextPing(core);
    assert.equal(core.healthScore(), 2);
    ack(core, next.ping.seq, next.ping.target, next.at + 1);
    assert.equal(core.healthScore(), 1);
  });

  test('probe interval and timeout are multiplied by score + 1', () => {
    const core = coreKnowing('a', ['b', 'c', 'd', 'e']);
    nextPing(core);
    const { next } = untilNextPing(core);
    assert.equal(core.healthScore(), 2);
    assert.deepEqual(pingReqs(core.tick(next.at + 3 * 100 - 1)), []);
    assert.equal(pingReqs(core.tick(next.at + 3 * 100)).length, 2);
    const { next: after } = untilNextPing(core);
    assert.equal(after.at, next.at + 3 * 200);
  });

  test('the score never exceeds awarenessMaxMultiplier - 1', () => {
    const core = coreKnowing('a', ['b', 'c', 'd', 'e'], {}, { awarenessMaxMultiplier: 3 });
    for (let i = 0; i < 6; i++) untilNextPing(core);
    assert.equal(core.healthScore(), 2);
  });
});

describe('relaying ping-req (indirect probes)', () => {
  function pingReqTo(relay: SwimCore, seq: number, target: string, now: number): Effect[] {
    return relay.receive(gossipAddr('a'), { message: { type: 'ping-req', seq, from: 'a', fromAddr: gossipAddr('a'), target, targetAddr: gossipAddr(target) }, updates: [] }, now);
  }

  test('relay pings the target and relays its ack to the requester', () => {
    const relay = coreKnowing('r', ['a', 't']);
    const [out] = sends(pingReqTo(relay, 77, 't', 10));
    assert.equal(out?.to, gossipAddr('t'));
    const ping = out?.packet.message;
    assert.ok(ping?.type === 'ping');
    assert.equal(ping.target, 't');
    assert.equal(ping.from, 'r');
    const relayed = sends(ack(relay, ping.seq, 't', 20));
    assert.equal(relayed.length, 1);
    assert.equal(relayed[0]?.to, gossipAddr('a'));
    assert.deepEqual(relayed[0]?.packet.message, { type: 'ack', seq: 77, from: 't' });
    const later = relay.tick(10 + 100);
    assert.ok(!sends(later).some((s) => s.packet.message?.type === 'nack'), 'no nack after an ack');
  });

  test('relay sends nack when target is silent', () => {
    const relay = coreKnowing('r', ['a', 't']);
    pingReqTo(relay, 77, 't', 10);
    // 80 % of the 100 ms probe timeout.
    assert.deepEqual(sends(relay.tick(89)).filter((s) => s.packet.message?.type === 'nack'), []);
    const nacks = sends(relay.tick(90)).filter((s) => s.packet.message?.type === 'nack');
    assert.equal(nacks.length, 1);
    assert.equal(nacks[0]?.to, gossipAddr('a'));
    assert.deepEqual(nacks[0]?.packet.message, { type: 'nack', seq: 77, from: 'r' });
    assert.equal(relay.counters.nacksSent, 1);
  });

  test('a ping-req about ourselves is answered with our own ack', () => {
    const core = coreKnowing('t', ['a']);
    const [out] = sends(pingReqTo(core, 5, 't', 0));
    assert.deepEqual(out?.packet.message, { type: 'ack', seq: 5, from: 't' });
    assert.equal(out?.to, gossipAddr('a'));
  });

  test('relays in flight are bounded', () => {
    const relay = coreKnowing('r', ['a', 't']);
    for (let i = 0; i < 1100; i++) pingReqTo(relay, i, 't', 0);
    assert.equal(relay.counters.relaysDropped, 1100 - 1024);
  });
});

describe('answering pings', () => {
  test('a ping is answered with an ack to the sender, carrying queued news', () => {
    const core = coreKnowing('b', ['c', 'd']);
    const effects = core.receive('somewhere:1', { message: { type: 'ping', seq: 9, from: 'a', fromAddr: gossipAddr('a'), target: 'b' }, updates: [] }, 1);
    const [out] = sends(effects);
    assert.equal(out?.to, gossipAddr('a'));
    assert.deepEqual(out?.packet.message, { type: 'ack', seq: 9, from: 'b' });
    assert.deepEqual(out?.packet.updates.map((u) => u.name).sort(), ['c', 'd']);
  });

  test('a ping addressed to another member (a reused address) is not answered', () => {
    const core = coreKnowing('b', ['c']);
    const effects = core.receive(gossipAddr('a'), { message: { type: 'ping', seq: 9, from: 'a', fromAddr: gossipAddr('a'), target: 'old-owner' }, updates: [] }, 1);
    assert.deepEqual(sends(effects), []);
  });
});

describe('buddy system', () => {
  test('buddy: ping to suspect carries the suspicion first', () => {
    const core = coreKnowing('a', ['b']);
    gossipTo(core, [suspect('b', 1000, 'c')]);
    const { ping, send } = nextPing(core);
    assert.equal(ping.target, 'b');
    assert.deepEqual(send.packet.updates[0], { kind: 'suspect', name: 'b', incarnation: 1000, from: 'a' });
  });

  test('an ack to a prober we suspect carries the suspicion too', () => {
    const core = coreKnowing('a', ['b']);
    gossipTo(core, [suspect('b', 1000, 'c')]);
    const [reply] = sends(core.receive(gossipAddr('b'), { message: { type: 'ping', seq: 2, from: 'b', fromAddr: gossipAddr('b'), target: 'a' }, updates: [] }, 1));
    assert.deepEqual(reply?.packet.updates[0], { kind: 'suspect', name: 'b', incarnation: 1000, from: 'a' });
  });

  test('a suspected member refutes in the ack to the ping that told it', () => {
    const b = coreKnowing('b', ['a']);
    const effects = b.receive(gossipAddr('a'), { message: { type: 'ping', seq: 3, from: 'a', fromAddr: gossipAddr('a'), target: 'b' }, updates: [suspect('b', 1000, 'a')] }, 5);
    const [reply] = sends(effects);
    assert.deepEqual(reply?.packet.message, { type: 'ack', seq: 3, from: 'b' });
    assert.ok(reply?.packet.updates.some((u) => u.kind === 'alive' && u.name === 'b' && u.incarnation === 1001));
  });
});

describe('Lifeguard buddy system / SWIM §4.2 suspicion: the holder pings its suspect before the timer runs out', () => {
  test('one probe timeout before the deadline the suspect hears the accusation from us directly; its ack refutes', () => {
    const others = Array.from({ length: 20 }, (_, i) => `m${i}`);
    const holder = coreKnowing('h', others, {}, { probeIntervalMs: 1000, probeTimeoutMs: 500, suspicionMult: 3 });
    // Two independent accusers: the timer is at its minimum, a few probe periods, so round-robin
    // probing of 20 members is unlikely to reach the suspect before it runs out.
    gossipTo(holder, [suspect('m0', 1000, 'm1')], 0);
    gossipTo(holder, [suspect('m0', 1000, 'm2')], 1);
    const deadline = holder.suspicionDeadline('m0');
    assert.ok(deadline !== undefined);
    const confirmations = holder.suspicionConfirmations('m0');
    const toSuspect: { at: number; send: Extract<Effect, { type: 'send' }> }[] = [];
    let pingsSent = 0;
    while (holder.nextDeadline() < deadline) {
      const [at, effects] = tickNext(holder);
      for (const send of sends(effects)) {
        const message = send.packet.message;
        if (message?.type !== 'ping') continue;
        pingsSent++;
        // Every other member answers; the suspect's answers are held back (we hand them over below).
        if (message.target === 'm0') toSuspect.push({ at, send });
        else ack(holder, message.seq, message.target, at + 1);
      }
    }
    const reminders = toSuspect.filter((p) => p.at >= deadline - 1000);
    assert.equal(reminders.length, 1, 'one ping to the suspect in the last period');
    assert.equal(reminders[0]?.at, deadline - 500, 'one probe timeout before the deadline');
    const reminder = reminders[0];
    assert.ok(reminder !== undefined);
    assert.deepEqual(reminder.send.packet.updates[0], { kind: 'suspect', name: 'm0', incarnation: 1000, from: 'h' });
    // Not a probe: no probe counted, none failed, no ping-req, no health penalty, no confirmation.
    assert.equal(holder.counters.probesSent, pingsSent - 1);
    assert.equal(holder.counters.probesFailed, 0);
    assert.equal(holder.counters.indirectProbesSent, 0);
    assert.equal(holder.suspicionConfirmations('m0'), confirmations);
    // The suspect refuted long ago (the holder missed it); its ack to the reminder carries the refutation.
    const s = coreKnowing('m0', ['h']);
    gossipTo(s, [suspect('m0', 1000, 'm1')], 0);
    const reply = sends(s.receive(gossipAddr('h'), reminder.send.packet, reminder.at + 1)).find((r) => r.packet.message?.type === 'ack');
    assert.ok(reply !== undefined);
    holder.receive(gossipAddr('m0'), reply.packet, reminder.at + 2);
    assert.equal(holder.member('m0')?.state, 'alive');
    assert.equal(holder.member('m0')?.incarnation, 1001);
  });
});

describe('Lifeguard dynamic suspicion', () => {
  const lan = { probeIntervalMs: 1000, probeTimeoutMs: 500, suspicionMult: 4 };

  test('suspicion timeout shrinks with independent confirmations', () => {
    // n = 6: min = 4 * 1 * 1000 = 4000, max = 6 * min = 24000, k = 4 - 2 = 2.
    const core = coreKnowing('a', ['b', 'c', 'd', 'e', 'f'], {}, lan);
    gossipTo(core, [suspect('b', 1000, 'c')], 0);
    assert.equal(core.suspicionDeadline('b'), 24000);
    gossipTo(core, [suspect('b', 1000, 'c')], 100);
    assert.equal(core.suspicionDeadline('b'), 24000, 'the same accuser again is no confirmation');
    gossipTo(core, [suspect('b', 1000, 'd')], 200);
    assert.equal(core.suspicionDeadline('b'), 11381);
    assert.equal(core.suspicionConfirmations('b'), 1);
    gossipTo(core, [suspect('b', 1000, 'e')], 300);
    assert.equal(core.suspicionDeadline('b'), 4000);
    gossipTo(core, [suspect('b', 1000, 'f')], 400);
    assert.equal(core.suspicionDeadline('b'), 4000, 'never below min');
  });

  test('a new confirmation is re-gossiped; a repeat is not', () => {
    const core = coreKnowing('a', ['b', 'c', 'd', 'e', 'f'], {}, lan);
    gossipTo(core, [suspect('b', 1000, 'c')], 0);
    const before = core.counters.updatesQueued;
    gossipTo(core, [suspect('b', 1000, 'c')], 1);
    assert.equal(core.counters.updatesQueued, before);
    gossipTo(core, [suspect('b', 1000, 'd')], 2);
    assert.equal(core.counters.updatesQueued, before + 1);
  });

  test('on expiry the suspect is declared dead and the death broadcast', () => {
    const core = coreKnowing('a', ['b', 'c', 'd', 'e', 'f'], {}, lan);
    gossipTo(core, [suspect('b', 1000, 'c'), suspect('b', 1000, 'd'), suspect('b', 1000, 'e')], 0);
    const early = core.tick(3999);
    assert.equal(core.member('b')?.state, 'suspect');
    assert.deepEqual(memberEvents(early).filter((e) => e.name === 'b'), []);
    const effects = core.tick(4000);
    const events = memberEvents(effects).filter((e) => e.name === 'b');
    assert.deepEqual(events.map((e) => [e.from, e.to, e.reason]), [['suspect', 'dead', 'suspicion-timeout']]);
    const later: Effect[] = [];
    for (let i = 0; i < 20; i++) later.push(...tickNext(core)[1]);
    assert.ok(carried(later).some((u) => u.kind === 'dead' && u.name === 'b' && u.from === 'a'));
  });

  test('with too few members to confirm, a suspicion lasts the minimum', () => {
    // n = 3 < k + 2: k = 0, so the timeout is min = 4000 from the start.
    const core = coreKnowing('a', ['b', 'c'], {}, lan);
    gossipTo(core, [suspect('b', 1000, 'c')], 0);
    assert.equal(core.suspicionDeadline('b'), 4000);
  });

  test('a refutation cancels the suspicion timer', () => {
    const core = coreKnowing('a', ['b', 'c', 'd', 'e', 'f'], {}, lan);
    gossipTo(core, [suspect('b', 1000, 'c')], 0);
    gossipTo(core, [alive('b', 1001)], 10);
    assert.equal(core.suspicionDeadline('b'), undefined);
    core.tick(30_000);
    assert.notEqual(core.member('b')?.state, 'dead');
  });

  test('a suspicion with a newer incarnation restarts the timer', () => {
    const core = coreKnowing('a', ['b', 'c', 'd', 'e', 'f'], {}, lan);
    gossipTo(core, [suspect('b', 1000, 'c'), suspect('b', 1000, 'd')], 0);
    assert.equal(core.suspicionDeadline('b'), 11381);
    gossipTo(core, [suspect('b', 1001, 'c')], 1000);
    assert.equal(core.member('b')?.incarnation, 1001);
    assert.equal(core.suspicionDeadline('b'), 1000 + 24000);
  });
});

describe('refutation', () => {
  test('refutes suspicion with incarnation above the accuser', () => {
    const core = coreKnowing('a', ['b']);
    const effects = gossipTo(core, [suspect('a', 1005, 'b')], 5);
    assert.equal(core.self.incarnation, 1006);
    assert.equal(core.self.state, 'alive');
    assert.deepEqual(
      effects.filter((e) => e.type === 'event').map((e) => (e.type === 'event' ? e.event : null)),
      [{ type: 'refuted', incarnation: 1006, accusation: 'suspect' }],
    );
    assert.equal(core.healthScore(), 1, 'being accused counts against our own health');
    assert.equal(core.counters.refutations, 1);
  });

  test('the refutation is broadcast as an alive with the new incarnation', () => {
    const core = coreKnowing('a', ['b']);
    gossipTo(core, [suspect('a', 1000, 'b')], 5);
    const reply = sends(core.receive(gossipAddr('b'), { message: { type: 'ping', seq: 1, from: 'b', fromAddr: gossipAddr('b'), target: 'a' }, updates: [] }, 6));
    assert.ok(reply[0]?.packet.updates.some((u) => u.kind === 'alive' && u.name === 'a' && u.incarnation === 1001));
  });

  test('refutes being declared dead, and left while not leaving', () => {
    const core = coreKnowing('a', ['b']);
    gossipTo(core, [dead('a', 1000, 'b')], 5);
    assert.equal(core.self.incarnation, 1001);
    gossipTo(core, [left('a', 1001)], 6);
    assert.equal(core.self.incarnation, 1002);
    assert.equal(core.self.state, 'alive');
    assert.equal(core.counters.refutations, 2);
  });

  test('accusations with an older incarnation change nothing, but their sender is told our current alive', () => {
    const core = coreKnowing('a', ['b']);
    const effects = gossipTo(core, [suspect('a', 999, 'b'), dead('a', 999, 'b')], 5, 'b');
    assert.equal(core.self.incarnation, 1000);
    assert.equal(core.counters.refutations, 0);
    assert.deepEqual(events(effects), []);
    const [reply] = sends(effects);
    assert.equal(reply?.to, gossipAddr('b'));
    assert.deepEqual(reply?.packet.updates[0], { ...alive('a', 1000), lifeId: 'a-life-1' });
    assert.equal(core.counters.staleAccusationsAnswered, 1);
  });

  test('a stale accusation about another member we hold alive newer is answered with that alive, to its sender', () => {
    // x refuted (1001) and c heard it; h missed every copy and still gossips suspect(x, 1000). Every
    // member h gossips it to holds the refutation: each tells h, so h learns it before its timer runs out.
    const c = coreKnowing('c', ['h', 'x']);
    gossipTo(c, [alive('x', 1001)], 1);
    for (const accusation of [suspect('x', 1000, 'h'), dead('x', 1000, 'h'), left('x', 1000)]) {
      const replies = sends(gossipTo(c, [accusation], 5, 'h'));
      assert.equal(replies.length, 1, `one answer to a stale ${accusation.kind}`);
      assert.equal(replies[0]?.to, gossipAddr('h'));
      assert.deepEqual(replies[0]?.packet.updates, [alive('x', 1001)], 'the answer alone, no queued news');
      assert.equal(c.member('x')?.state, 'alive');
    }
    // A packet carrying the accusation twice (a buddy lead and its queued copy) gets it once.
    const [once] = sends(gossipTo(c, [suspect('x', 1000, 'h'), suspect('x', 1000, 'h')], 5, 'h'));
    assert.deepEqual(once?.packet.updates, [alive('x', 1001)]);
    const h = coreKnowing('h', ['c', 'x']);
    gossipTo(h, [suspect('x', 1000, 'y')], 2);
    const [answer] = sends(gossipTo(c, [suspect('x', 1000, 'h')], 5, 'h'));
    assert.ok(answer !== undefined);
    h.receive(gossipAddr('c'), answer.packet, 6);
    assert.equal(h.member('x')?.state, 'alive');
    assert.equal(h.suspicionDeadline('x'), undefined);
  });

  test('news about another member that is current, or newer than ours, gets no answer', () => {
    const c = coreKnowing('c', ['h', 'x']);
    gossipTo(c, [alive('x', 1001)], 1);
    // (A suspicion of a member we held alive goes to the accused, not back to the sender.)
    const toSender = (effects: readonly Effect[]): unknown[] => sends(effects).filter((e) => e.to === gossipAddr('h'));
    for (const update of [suspect('x', 1001, 'h'), alive('x', 1001), suspect('unknown', 1, 'h')]) {
      assert.deepEqual(toSender(gossipTo(c, [update], 5, 'h')), [], `${update.kind} ${update.name}@${update.incarnation}`);
    }
    // Held suspect (not alive) at a higher incarnation: we have no refutation to pass on.
    assert.equal(c.member('x')?.state, 'suspect');
    assert.deepEqual(toSender(gossipTo(c, [dead('x', 1000, 'h')], 6, 'h')), []);
  });

  test('a stale suspicion in a ping is corrected in the ack', () => {
    // a refuted (now 1001); b missed it and its buddy ping still carries suspect(a, 1000).
    const core = coreKnowing('a', ['b']);
    gossipTo(core, [suspect('a', 1000, 'c')], 1);
    assert.equal(core.self.incarnation, 1001);
    const effects = core.receive(gossipAddr('b'), { message: { type: 'ping', seq: 7, from: 'b', fromAddr: gossipAddr('b'), target: 'a' }, updates: [suspect('a', 1000, 'b')] }, 5);
    const replies = sends(effects);
    assert.equal(replies.length, 1, 'one packet: the ack carries the correction');
    assert.deepEqual(replies[0]?.packet.message, { type: 'ack', seq: 7, from: 'a' });
    assert.ok(replies[0]?.packet.updates.some((u) => u.kind === 'alive' && u.name === 'a' && u.incarnation === 1001));
  });

  test('a holder that missed the refutation is repaired by its next probe, not left to declare a false death', () => {
    const holder = coreKnowing('h', ['s', 'x', 'y'], {}, { probeIntervalMs: 1000, probeTimeoutMs: 500 });
    const s = coreKnowing('s', ['h', 'x', 'y']);
    gossipTo(holder, [suspect('s', 1000, 'x')], 0);
    gossipTo(s, [suspect('s', 1000, 'x')], 0);
    assert.equal(s.self.incarnation, 1001, 's refuted; holder never hears it');
    let repaired = false;
    for (let i = 0; i < 20 && !repaired; i++) {
      const { at, send, ping } = nextPing(holder);
      if (ping.target !== 's') continue;
      const reply = sends(s.receive(gossipAddr('h'), send.packet, at + 1)).find((r) => r.packet.message?.type === 'ack');
      assert.ok(reply !== undefined);
      holder.receive(gossipAddr('s'), reply.packet, at + 2);
      repaired = holder.member('s')?.state === 'alive';
    }
    assert.ok(repaired);
    assert.equal(holder.member('s')?.incarnation, 1001);
  });

  test('a leaving member does not refute its own departure', () => {
    const core = coreKnowing('a', ['b']);
    core.leave(1);
    gossipTo(core, [dead('a', 1001, 'b'), suspect('a', 1001, 'b')], 5);
    assert.equal(core.self.state, 'left');
    assert.equal(core.self.incarnation, 1001);
    assert.equal(core.counters.refutations, 0);
  });
});

describe('relay and graceful leave', () => {
  test('a relay that holds the target as left answers the ping-req at once with a nack and the left news', () => {
    const relay = coreKnowing('r', ['a', 'gone']);
    gossipTo(relay, [left('gone', 1001)], 10);
    const effects = relay.receive(gossipAddr('a'), {
      message: { type: 'ping-req', seq: 7, from: 'a', fromAddr: gossipAddr('a'), target: 'gone', targetAddr: gossipAddr('gone') },
      updates: [],
    }, 20);
    const out = sends(effects);
    assert.ok(!out.some((s) => s.to === gossipAddr('gone')), 'no ping to a member that left');
    const reply = out.find((s) => s.to === gossipAddr('a'));
    assert.equal(reply?.packet.message?.type, 'nack');
    assert.deepEqual(reply?.packet.updates[0], left('gone', 1001));
  });

  test('the requester takes the left news and does not suspect the departed member', () => {
    const requester = coreKnowing('a', ['gone', 'r']);
    const effects = requester.receive(gossipAddr('r'), { message: null, updates: [left('gone', 1001)] }, 10);
    assert.ok(memberEvents(effects).some((e) => e.name === 'gone' && e.to === 'left'));
    assert.equal(requester.member('gone')?.state, 'left');
  });
});
