// Each rule of SWIM (Das, Gupta, Motivala, "SWIM: Scalable Weakly-consistent Infection-style Process
// Group Membership Protocol", DSN 2002) and of Lifeguard (Dadgar, Phillips, Currey, "Lifeguard: Local
// Health Awareness for More Accurate Failure Detection", arXiv 1707.00788, 2018) as a test named after
// the section that states it, run against the sans-IO core. Where the core departs from a paper on
// purpose, the test is marked "deviation" and pins what the core does instead; src/core/README.md
// ("Where this differs from the papers") gives the reason for each.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BroadcastQueue, retransmitLimit } from '../../src/core/broadcast-queue.js';
import { PROFILES, validateConfig } from '../../src/core/config.js';
import type { SwimCore } from '../../src/core/swim.js';
import type { Effect, Message, Update } from '../../src/core/types.js';
import {
  ack,
  alive,
  carried,
  Cluster,
  coreKnowing,
  dead,
  events,
  gossipAddr,
  gossipTo,
  META,
  memberEvents,
  nack,
  nextPing,
  pingReqs,
  runOutSuspicion,
  sends,
  suspect,
  tickNext,
  untilNextPing,
} from './harness.js';

// The 'local' profile the harness uses: protocol period 200 ms, probe timeout 100 ms.
const PERIOD = PROFILES.local.probeIntervalMs;
const TIMEOUT = PROFILES.local.probeTimeoutMs;

function names(updates: readonly Update[]): string[] {
  return updates.map((u) => `${u.kind} ${u.name} ${u.incarnation}`);
}

function pingFrom(from: string, to: string, seq: number): Message {
  return { type: 'ping', seq, from, fromAddr: gossipAddr(from), target: to };
}

function pingReq(from: string, target: string, seq: number): Message {
  return { type: 'ping-req', seq, from, fromAddr: gossipAddr(from), target, targetAddr: gossipAddr(target) };
}

/** The sends among `effects` whose message is of `type`. */
function sent(effects: readonly Effect[], type: Message['type']): Extract<Effect, { type: 'send' }>[] {
  return sends(effects).filter((s) => s.packet.message?.type === type);
}

/** Answers pings from `from` until nothing is left to disseminate, so later packets show only what leads them. */
function drain(core: SwimCore, from: string, now: number): void {
  for (let seq = 0; core.pendingBroadcasts() > 0 && seq < 50; seq++) {
    core.receive(gossipAddr(from), { message: pingFrom(from, core.self.name, seq), updates: [] }, now);
  }
  assert.equal(core.pendingBroadcasts(), 0);
}

/** Probes until `target` is pinged (acking every other probe); returns that ping. */
function pingOf(core: SwimCore, target: string): ReturnType<typeof nextPing> {
  for (let i = 0; i < 50; i++) {
    const probe = nextPing(core);
    if (probe.ping.target === target) return probe;
    ack(core, probe.ping.seq, probe.ping.target, probe.at + 1);
  }
  throw new Error(`${target} never probed`);
}

describe('SWIM §3.1: the failure detector', () => {
  test('§3.1: each protocol period pings one member of the list', () => {
    const core = coreKnowing('a', ['b', 'c', 'd']);
    const times: number[] = [];
    for (let i = 0; i < 6; i++) {
      const { at, ping } = nextPing(core);
      ack(core, ping.seq, ping.target, at + 1);
      times.push(at);
    }
    assert.deepEqual(
      times.slice(1).map((t, i) => t - (times[i] as number)),
      [PERIOD, PERIOD, PERIOD, PERIOD, PERIOD],
    );
    assert.equal(core.counters.probesSent, 6);
  });

  test('§3.1: no ack within the timeout sends ping-req(target) to k members other than the target', () => {
    const core = coreKnowing('a', ['b', 'c', 'd', 'e', 'f', 'g'], {}, { indirectChecks: 3 });
    const { at, ping } = nextPing(core);
    assert.deepEqual(pingReqs(core.tick(at + TIMEOUT - 1)), [], 'nothing before the timeout');
    const reqs = pingReqs(core.tick(at + TIMEOUT));
    assert.equal(reqs.length, 3);
    assert.equal(new Set(reqs.map((r) => r.to)).size, 3, 'k distinct members');
    for (const { to, req } of reqs) {
      assert.notEqual(to, gossipAddr(ping.target));
      assert.notEqual(to, gossipAddr('a'));
      assert.deepEqual([req.target, req.targetAddr, req.seq], [ping.target, gossipAddr(ping.target), ping.seq]);
    }
  });

  test('§3.1: the probe timeout must be shorter than the protocol period', () => {
    const problems = validateConfig({ ...PROFILES.lan, probeTimeoutMs: PROFILES.lan.probeIntervalMs });
    assert.ok(problems.some((p) => p.startsWith('probeTimeoutMs')), problems.join('; '));
    assert.deepEqual(validateConfig(PROFILES.lan), []);
  });

  test('§3.1: a member asked by ping-req pings the target and forwards its ack to the asker', () => {
    const relay = coreKnowing('r', ['a', 'b']);
    const [ping] = sent(relay.receive(gossipAddr('a'), { message: pingReq('a', 'b', 7), updates: [] }, 0), 'ping');
    assert.equal(ping?.to, gossipAddr('b'));
    const relayed = ping?.packet.message as Extract<Message, { type: 'ping' }>;
    assert.equal(relayed.target, 'b');
    const [forwarded] = sent(ack(relay, relayed.seq, 'b', 5), 'ack');
    assert.equal(forwarded?.to, gossipAddr('a'));
    assert.deepEqual(forwarded?.packet.message, { type: 'ack', seq: 7, from: 'b' });
  });

  test('§3.1: an ack through a relay before the period ends clears the target', () => {
    const core = coreKnowing('a', ['b', 'c', 'd']);
    const { at, ping } = nextPing(core);
    const [req] = pingReqs(core.tick(at + TIMEOUT));
    assert.ok(req !== undefined);
    ack(core, ping.seq, ping.target, at + TIMEOUT + 10, req.to.split(':')[0]);
    untilNextPing(core);
    assert.equal(core.member(ping.target)?.state, 'alive');
    assert.equal(core.counters.probesFailed, 0);
  });

  test('§3.1 with §4.2: no ack at all by the end of the period: the target is suspected, and stays listed', () => {
    const core = coreKnowing('a', ['b', 'c', 'd']);
    const { ping } = nextPing(core);
    const { effects } = untilNextPing(core);
    assert.equal(core.member(ping.target)?.state, 'suspect');
    assert.equal(core.counters.probesFailed, 1);
    assert.deepEqual(
      memberEvents(effects).map((e) => [e.name, e.to, e.reason]),
      [[ping.target, 'suspect', 'probe-failed']],
    );
  });
});

describe('SWIM §4.1: infection-style dissemination', () => {
  test('§4.1: membership updates ride on ping, ping-req and ack messages', () => {
    const core = coreKnowing('a', ['b', 'c', 'd'], {}, { gossipNodes: 0, retransmitMult: 10 });
    gossipTo(core, [alive('z')], 1);
    const { at, send } = nextPing(core);
    const news = 'alive z 1000';
    assert.ok(names(send.packet.updates).includes(news), 'on the ping');
    const reqs = sent(core.tick(at + TIMEOUT), 'ping-req');
    assert.ok(reqs.length > 0);
    for (const req of reqs) assert.ok(names(req.packet.updates).includes(news), 'on the ping-req');
    const [answer] = sent(core.receive(gossipAddr('b'), { message: pingFrom('b', 'a', 1), updates: [] }, at + TIMEOUT + 1), 'ack');
    assert.ok(answer !== undefined && names(answer.packet.updates).includes(news), 'on the ack');
  });

  test('§4.1: an update is piggybacked λ·log(n) times, then dropped (λ = retransmitMult, log = ⌈log10(n + 1)⌉)', () => {
    const others = ['b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'];
    const core = coreKnowing('a', others, {}, { gossipNodes: 0 });
    gossipTo(core, [alive('z')], 1);
    let copies = 0;
    for (let seq = 0; seq < 20; seq++) {
      const out = core.receive(gossipAddr('b'), { message: pingFrom('b', 'a', seq), updates: [] }, 2);
      copies += carried(out).filter((u) => u.name === 'z').length;
    }
    const n = others.length + 2;
    assert.equal(copies, retransmitLimit(PROFILES.local.retransmitMult, n));
    assert.equal(copies, 3 * 2);
  });

  test('§4.1: updates piggybacked fewer times go first when they do not all fit', () => {
    const queue = new BroadcastQueue(10);
    queue.enqueue(alive('older'), 100);
    queue.fill(100, 5, []);
    queue.enqueue(alive('newer'), 100);
    const packet: Update[] = [];
    queue.fill(100, 5, packet);
    assert.deepEqual(packet.map((u) => u.name), ['newer']);
    assert.equal(queue.transmitsOf('older'), 1);
  });

  test('§4.1: piggybacking alone carries an update to every member', () => {
    const cluster = Cluster.started(8, { config: { gossipNodes: 0, pushPullIntervalMs: 0 } });
    cluster.run(5_000);
    const everyone = [...cluster.cores.keys()];
    for (const name of everyone) assert.ok(cluster.allSee(name, 'alive'), `${name} known to all`);
    const before = cluster.packetsDelivered;
    cluster.apply('n5', cluster.core('n5').updateMeta({ ...META, tags: { version: '2' } }, cluster.now));
    cluster.run(20 * PERIOD);
    for (const observer of everyone) assert.equal(cluster.core(observer).member('n5')?.incarnation, 1001, `${observer} heard it`);
    assert.ok(cluster.packetsDelivered > before);
  });
});

describe('SWIM §4.2: suspicion', () => {
  test('§4.2: a suspected member stays in the list and is still probed', () => {
    const core = coreKnowing('a', ['b', 'c', 'd']);
    gossipTo(core, [suspect('b', 1000, 'c')], 1);
    const { ping } = pingOf(core, 'b');
    assert.equal(ping.target, 'b');
    assert.equal(core.member('b')?.state, 'suspect');
  });

  test('§4.2: a member that hears it is suspected raises its incarnation and disseminates alive', () => {
    const core = coreKnowing('a', ['b']);
    const effects = gossipTo(core, [suspect('a', 1000, 'b')], 5);
    assert.deepEqual([core.self.state, core.self.incarnation], ['alive', 1001]);
    assert.deepEqual(events(effects), [{ type: 'refuted', incarnation: 1001, accusation: 'suspect' }]);
    assert.ok(names(nextPing(core).send.packet.updates).includes('alive a 1001'));
  });

  test('§4.2: only a member raises its own incarnation: a suspicion and its verdict carry the one held', () => {
    const core = coreKnowing('a', ['b']);
    nextPing(core);
    const { effects } = untilNextPing(core);
    assert.ok(names(carried(effects)).includes('suspect b 1000'), 'the suspicion at the incarnation held');
    const verdict = runOutSuspicion(core, 'b').effects;
    assert.deepEqual(
      memberEvents(verdict).map((e) => [e.name, e.to, e.incarnation, e.reason]),
      [['b', 'dead', 1000, 'suspicion-timeout']],
    );
    const later: Effect[] = [];
    for (let i = 0; i < 10; i++) later.push(...tickNext(core)[1]);
    assert.ok(names(carried(later)).includes('dead b 1000'), 'the verdict is disseminated');
    assert.equal(core.self.incarnation, 1000);
  });

  const precedence: [rule: string, held: Update, news: Update, state: string, incarnation: number][] = [
    ['alive(i) overrides suspect(j) if i > j', suspect('b', 1000), alive('b', 1001), 'alive', 1001],
    ['alive(i) does not override suspect(j) if i = j', suspect('b', 1000), alive('b', 1000), 'suspect', 1000],
    ['alive(i) overrides alive(j) if i > j', alive('b', 1000), alive('b', 1002), 'alive', 1002],
    ['suspect(i) overrides alive(j) if i = j', alive('b', 1000), suspect('b', 1000), 'suspect', 1000],
    ['suspect(i) does not override alive(j) if i < j', alive('b', 1001), suspect('b', 1000), 'alive', 1001],
    ['suspect(i) overrides suspect(j) if i > j', suspect('b', 1000), suspect('b', 1001), 'suspect', 1001],
  ];
  for (const [rule, held, news, state, incarnation] of precedence) {
    test(`§4.2 precedence: ${rule}`, () => {
      const core = coreKnowing('a', ['b', 'c']);
      gossipTo(core, [alive('b', held.incarnation), held], 1);
      gossipTo(core, [news], 2);
      assert.deepEqual([core.member('b')?.state, core.member('b')?.incarnation], [state, incarnation]);
    });
  }

  test('§4.2 precedence: a newer suspicion restarts the suspicion timeout', () => {
    const core = coreKnowing('a', ['b', 'c']);
    gossipTo(core, [suspect('b', 1000)], 1);
    const first = core.suspicionDeadline('b') as number;
    gossipTo(core, [suspect('b', 1001)], 50);
    assert.equal(core.suspicionDeadline('b'), first + 49);
  });

  test('§4.2 deviation: an ack from a suspected member does not clear the suspicion; its own refutation does', () => {
    const core = coreKnowing('a', ['b', 'c']);
    gossipTo(core, [suspect('b', 1000, 'c')], 1);
    const { at, ping } = pingOf(core, 'b');
    ack(core, ping.seq, 'b', at + 1);
    assert.equal(core.member('b')?.state, 'suspect');
    gossipTo(core, [alive('b', 1001)], at + 2);
    assert.equal(core.member('b')?.state, 'alive');
  });

  test('§4.2 deviation: a dead verdict heard from another member is a suspicion; only the own timeout declares death', () => {
    const core = coreKnowing('a', ['b', 'c']);
    gossipTo(core, [dead('b', 1000, 'c')], 1);
    assert.equal(core.member('b')?.state, 'suspect');
    const deadline = core.suspicionDeadline('b') as number;
    core.tick(deadline - 1);
    assert.equal(core.member('b')?.state, 'suspect');
    core.tick(deadline);
    assert.equal(core.member('b')?.state, 'dead');
  });
});

describe('SWIM §4.3: round-robin probe target selection', () => {
  const others = ['b', 'c', 'd', 'e', 'f', 'g'];

  /** The targets of `count` probes, every one acked. */
  function targets(core: SwimCore, count: number): string[] {
    const out: string[] = [];
    for (let i = 0; i < count; i++) {
      const { at, ping } = nextPing(core);
      ack(core, ping.seq, ping.target, at + 1);
      out.push(ping.target);
    }
    return out;
  }

  /** The longest run of probes between two probes of `name` (or from the start to its first). */
  function longestGap(sequence: readonly string[], name: string, from = 0): number {
    let last = from - 1;
    let longest = 0;
    for (let i = from; i < sequence.length; i++) {
      if (sequence[i] !== name) continue;
      longest = Math.max(longest, i - last);
      last = i;
    }
    return longest;
  }

  test('§4.3: every member is probed once per traversal of the list, which is reshuffled after each', () => {
    const sequence = targets(coreKnowing('a', others), others.length * 8);
    const traversals: string[] = [];
    for (let r = 0; r < 8; r++) {
      const traversal = sequence.slice(r * others.length, (r + 1) * others.length);
      assert.deepEqual([...traversal].sort(), others, `traversal ${r}`);
      traversals.push(traversal.join());
    }
    assert.ok(new Set(traversals).size > 1, 'the order changes between traversals');
  });

  test('§4.3: time-bounded completeness: at most 2n − 1 protocol periods between two probes of a member', () => {
    const sequence = targets(coreKnowing('a', others), others.length * 20);
    for (const name of others) assert.ok(longestGap(sequence, name) <= 2 * others.length - 1, `${name}: ${longestGap(sequence, name)}`);
  });

  test('§4.3: a member that joins mid-traversal is placed at a random position and probed within the bound', () => {
    const firstProbes = new Set<number>();
    for (const name of ['a', 'x', 'y', 'w']) {
      const core = coreKnowing(name, others);
      targets(core, 2);
      gossipTo(core, [alive('z')], core.nextDeadline() - 1);
      const sequence = targets(core, 30);
      const first = sequence.indexOf('z');
      assert.ok(first >= 0 && first < 2 * (others.length + 1) - 1, `${name}: z first probed ${first + 1} periods after joining`);
      assert.ok(longestGap(sequence, 'z') <= 2 * (others.length + 1) - 1);
      firstProbes.add(first);
    }
    assert.ok(firstProbes.size > 1, 'the position is random');
  });
});

describe('Lifeguard §IV-A: self-awareness (Local Health Aware Probe)', () => {
  test('§IV-A: local health multiplier: a failed probe +1, a successful probe −1, refuting a suspicion about self +1', () => {
    const core = coreKnowing('a', ['b', 'c', 'd'], {}, { indirectChecks: 0 });
    assert.equal(core.healthScore(), 0);
    nextPing(core);
    const { next } = untilNextPing(core);
    assert.equal(core.healthScore(), 1, 'failed probe');
    ack(core, next.ping.seq, next.ping.target, next.at + 1);
    assert.equal(core.healthScore(), 0, 'successful probe');
    gossipTo(core, [suspect('a', core.self.incarnation, 'b')], next.at + 2);
    assert.equal(core.healthScore(), 1, 'refuted a suspicion');
  });

  test('§IV-A: each nack a relay owed and did not send adds +1 (deviation: no further +1 for the failed probe)', () => {
    const core = coreKnowing('a', ['b', 'c', 'd', 'e', 'f'], {}, { indirectChecks: 3 });
    const { at, ping } = nextPing(core);
    const reqs = pingReqs(core.tick(at + TIMEOUT));
    assert.equal(reqs.length, 3);
    nack(core, ping.seq, reqs[0]?.to.split(':')[0] as string, at + TIMEOUT + 50);
    untilNextPing(core);
    assert.equal(core.member(ping.target)?.state, 'suspect');
    assert.equal(core.healthScore(), 2);
  });

  test('§IV-A: a nack and then an ack within the period is a successful indirect probe', () => {
    const core = coreKnowing('a', ['b', 'c', 'd']);
    const { at, ping } = nextPing(core);
    const relay = pingReqs(core.tick(at + TIMEOUT))[0]?.to.split(':')[0] as string;
    nack(core, ping.seq, relay, at + TIMEOUT + 20);
    ack(core, ping.seq, ping.target, at + TIMEOUT + 30, relay);
    untilNextPing(core);
    assert.equal(core.member(ping.target)?.state, 'alive');
    assert.deepEqual([core.counters.probesFailed, core.counters.nacksReceived, core.healthScore()], [0, 1, 0]);
  });

  test('§IV-A: probe timeout and protocol period are both multiplied by LHM + 1, which saturates at S', () => {
    const others = Array.from({ length: 12 }, (_, i) => `m${i}`);
    const core = coreKnowing('a', others, {}, { indirectChecks: 1, awarenessMaxMultiplier: 3, suspicionMult: 6 });
    for (let i = 0; i < 5; i++) nextPing(core);
    assert.equal(core.healthScore(), 2, 'saturated: multiplier S = 3');
    const { at } = nextPing(core);
    let askedAt = -1;
    let nextAt = -1;
    while (nextAt < 0) {
      const [t, out] = tickNext(core);
      if (askedAt < 0 && pingReqs(out).length > 0) askedAt = t;
      if (sent(out, 'ping').length > 0) nextAt = t;
    }
    assert.equal(askedAt - at, 3 * TIMEOUT);
    assert.equal(nextAt - at, 3 * PERIOD);
  });

  test('§IV-A: a member that cannot hear its peers raises its LHM and so accuses fewer healthy members than without it', () => {
    const deafFor10s = (awarenessMaxMultiplier: number): { suspicions: number; probes: number; score: number } => {
      const cluster = Cluster.started(8, { config: { awarenessMaxMultiplier } });
      cluster.run(10_000);
      const deaf = cluster.core('n7');
      const [suspicions, probes] = [deaf.counters.suspicionsRaised, deaf.counters.probesSent];
      cluster.dropIf = (_from, to) => to === 'n7';
      cluster.run(10_000);
      return { suspicions: deaf.counters.suspicionsRaised - suspicions, probes: deaf.counters.probesSent - probes, score: deaf.healthScore() };
    };
    const aware = deafFor10s(8);
    const unaware = deafFor10s(1);
    assert.equal(aware.score, 7, 'the LHM saturated');
    assert.equal(unaware.score, 0);
    assert.ok(aware.probes < unaware.probes, `probes ${aware.probes} vs ${unaware.probes}`);
    assert.ok(2 * aware.suspicions < unaware.suspicions, `false suspicions ${aware.suspicions} vs ${unaware.suspicions}`);
  });

  test('§IV-A: a relay nacks at 80% of its probe timeout (deviation: it forwards no ack after the nack)', () => {
    const relay = coreKnowing('r', ['a', 'b']);
    const [ping] = sent(relay.receive(gossipAddr('a'), { message: pingReq('a', 'b', 9), updates: [] }, 0), 'ping');
    const relayed = ping?.packet.message as Extract<Message, { type: 'ping' }>;
    const nackAt = (TIMEOUT * 4) / 5;
    assert.deepEqual(sent(relay.tick(nackAt - 1), 'nack'), []);
    const [nackSent] = sent(relay.tick(nackAt), 'nack');
    assert.equal(nackSent?.to, gossipAddr('a'));
    assert.deepEqual(nackSent?.packet.message, { type: 'nack', seq: 9, from: 'r' });
    assert.deepEqual(sent(ack(relay, relayed.seq, 'b', nackAt + 5), 'ack'), []);
  });

  test('§IV-A with §3.1: the nacks of relays that heard nothing are in when the period ends, so a failed probe costs no health', () => {
    // Latency 5 ms each way: ping-req at 100 ms, relays nack at 80 ms of theirs, back by about 190 ms.
    const cluster = Cluster.started(6, { latencyMs: 5 });
    cluster.run(5_000);
    cluster.silenced.add('n5');
    const before = cluster.core('n0').counters.probesFailed;
    cluster.run(10 * PERIOD);
    const prober = cluster.core('n0');
    assert.ok(prober.counters.probesFailed > before, 'n0 probed the silent member');
    assert.ok(prober.counters.nacksReceived >= 2 * (prober.counters.probesFailed - before), `nacks ${prober.counters.nacksReceived}`);
    assert.equal(prober.healthScore(), 0, 'every relay nacked in time');
  });

  test('§3.1: a probe that went indirect is judged when its period ends, or one probe timeout after the ping-req if that is later', () => {
    const judgedAfter = (probeIntervalMs: number, probeTimeoutMs: number): number => {
      const core = coreKnowing('a', ['b', 'c', 'd', 'e'], {}, { probeIntervalMs, probeTimeoutMs });
      const { at } = nextPing(core);
      return untilNextPing(core).next.at - at;
    };
    assert.equal(judgedAfter(PERIOD, TIMEOUT), PERIOD, 'local: the ping-req at 100 ms is answered by 200 ms');
    assert.equal(judgedAfter(PROFILES.lan.probeIntervalMs, PROFILES.lan.probeTimeoutMs), PROFILES.lan.probeIntervalMs, 'lan: 500 + 500 = 1000 ms');
    assert.equal(judgedAfter(PROFILES.wan.probeIntervalMs, PROFILES.wan.probeTimeoutMs), 2 * PROFILES.wan.probeTimeoutMs, 'wan: the period stretches to 3 s + 3 s');
  });
});

describe('Lifeguard §IV-B: dogpile (Local Health Aware Suspicion)', () => {
  // n = 100 so log10(n) = 2; α = suspicionMult = 5, β = suspicionMaxTimeoutMult = 6, K = α − 2 = 3.
  const others = Array.from({ length: 99 }, (_, i) => `m${i}`);
  const config = { suspicionMult: 5, suspicionMaxTimeoutMult: 6 };
  const min = 5 * 2 * PERIOD;
  const max = 6 * min;
  const K = 3;
  const expected = (c: number): number => Math.max(min, Math.floor(max - ((max - min) * Math.log(c + 1)) / Math.log(K + 1)));

  test('§IV-B: a suspicion starts at Max = β·Min, Min = α·log10(n)·probe interval', () => {
    const core = coreKnowing('a', others, {}, config);
    gossipTo(core, [suspect('m0', 1000, 'm1')], 10);
    assert.equal(core.suspicionDeadline('m0'), 10 + max);
    assert.equal(core.suspicionConfirmations('m0'), 0);
  });

  test('§IV-B: each independent confirmation shortens it to Max − (Max − Min)·log(C + 1)/log(K + 1), reaching Min at K', () => {
    const core = coreKnowing('a', others, {}, config);
    gossipTo(core, [suspect('m0', 1000, 'm1')], 10);
    for (let c = 1; c <= K; c++) {
      gossipTo(core, [suspect('m0', 1000, `m${c + 1}`)], 10 + c);
      assert.equal(core.suspicionDeadline('m0'), 10 + expected(c), `C = ${c}`);
    }
    assert.equal(core.suspicionDeadline('m0'), 10 + min);
    gossipTo(core, [suspect('m0', 1000, 'm9')], 20);
    assert.deepEqual([core.suspicionConfirmations('m0'), core.suspicionDeadline('m0')], [K, 10 + min]);
  });

  test('§IV-B: only independent suspicions count: the first accuser again, or a repeat, changes nothing', () => {
    const core = coreKnowing('a', others, {}, config);
    gossipTo(core, [suspect('m0', 1000, 'm1')], 10);
    gossipTo(core, [suspect('m0', 1000, 'm1')], 11);
    gossipTo(core, [suspect('m0', 1000, 'm2')], 12);
    gossipTo(core, [suspect('m0', 1000, 'm2')], 13);
    assert.deepEqual([core.suspicionConfirmations('m0'), core.suspicionDeadline('m0')], [1, 10 + expected(1)]);
  });

  test('§IV-B: the first K confirmations are gossiped on so others can confirm too; later ones and repeats are not', () => {
    const core = coreKnowing('a', others, {}, config);
    gossipTo(core, [suspect('m0', 1000, 'm1')], 10);
    const queued = (): number => core.counters.updatesQueued;
    const start = queued();
    for (let c = 1; c <= K + 2; c++) gossipTo(core, [suspect('m0', 1000, `m${c + 1}`)], 10 + c);
    gossipTo(core, [suspect('m0', 1000, 'm2')], 30);
    assert.equal(queued() - start, K);
  });

  test('§IV-B deviation: with fewer other members than K, a suspicion lasts Min from the start', () => {
    const core = coreKnowing('a', ['b', 'c'], {}, { suspicionMult: 4 });
    gossipTo(core, [suspect('b', 1000, 'c')], 10);
    assert.equal(core.suspicionDeadline('b'), 10 + 4 * PERIOD);
  });

  test('§IV-B at the lan defaults (α = 3, β = 6, K = 1): Min 3 s at 10 members, 6 s at 100, 9 s at 1,000; one confirmation reaches it', () => {
    const lan = PROFILES.lan;
    const table: [members: number, minMs: number][] = [
      [10, 3_000],
      [100, 6_000],
      [1_000, 9_000],
    ];
    for (const [members, minMs] of table) {
      const others = Array.from({ length: members - 1 }, (_, i) => `m${i}`);
      const core = coreKnowing('a', others, {}, lan);
      gossipTo(core, [suspect('m0', 1000, 'm1')], 10);
      assert.equal(core.suspicionDeadline('m0'), 10 + 6 * minMs, `${members} members: a lone accuser waits Max`);
      gossipTo(core, [suspect('m0', 1000, 'm2')], 20);
      assert.equal(core.suspicionDeadline('m0'), 10 + minMs, `${members} members: K = 1 confirmation brings it to Min`);
      gossipTo(core, [suspect('m0', 1000, 'm3')], 30);
      assert.deepEqual([core.suspicionConfirmations('m0'), core.suspicionDeadline('m0')], [1, 10 + minMs], `${members} members: no further shortening`);
    }
  });
});

describe('Lifeguard §IV-C: buddy system', () => {
  test('§IV-C: a ping to a suspected member leads with the suspicion, even after it left the dissemination buffer', () => {
    const core = coreKnowing('a', ['b', 'c'], {}, { gossipNodes: 0 });
    gossipTo(core, [suspect('b', 1000, 'c')], 1);
    drain(core, 'c', 2);
    const { send } = pingOf(core, 'b');
    assert.deepEqual(send.packet.updates[0], { kind: 'suspect', name: 'b', incarnation: 1000, from: 'a' });
  });

  test('§IV-C: a ping sent for another member (the indirect path) carries the suspicion too', () => {
    const relay = coreKnowing('r', ['a', 'b', 'c'], {}, { gossipNodes: 0 });
    gossipTo(relay, [suspect('b', 1000, 'c')], 1);
    drain(relay, 'c', 2);
    const [ping] = sent(relay.receive(gossipAddr('a'), { message: pingReq('a', 'b', 3), updates: [] }, 2), 'ping');
    assert.equal(ping?.to, gossipAddr('b'));
    assert.deepEqual(ping?.packet.updates[0], { kind: 'suspect', name: 'b', incarnation: 1000, from: 'r' });
  });

  test('§IV-C: the suspect refutes on that ping and the prober, reading the ack, holds it alive again', () => {
    const prober = coreKnowing('a', ['b']);
    const suspected = coreKnowing('b', ['a']);
    gossipTo(prober, [suspect('b', 1000, 'c')], 1);
    const { at, send } = nextPing(prober);
    const [answer] = sent(suspected.receive(gossipAddr('a'), send.packet, at + 1), 'ack');
    assert.ok(answer !== undefined);
    assert.equal(suspected.self.incarnation, 1001);
    prober.receive(gossipAddr('b'), answer.packet, at + 2);
    assert.deepEqual([prober.member('b')?.state, prober.member('b')?.incarnation], ['alive', 1001]);
  });
});
