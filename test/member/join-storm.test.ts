// A join storm: 99 members start together and join through one seed that is too busy to answer within
// the usual RPC timeout. Each joiner's JoinPlan runs against a stand-in core; the seed is a FIFO queue on
// a manual clock that reaches each call `lagMs` late (its starved event loop), builds an answer in
// `serviceMs`, and skips calls whose caller already gave up. Everything is deterministic.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { JoinPlan } from '../../src/member/join.js';
import { seededRandom } from '../../src/core/random.js';
import type { SwimCore } from '../../src/core/swim.js';
import type { MemberEffect } from '../../src/member/effects.js';

const RPC_TIMEOUT_MS = 2000;
const SEED = 'seed:7947';
const STEP_MS = 10;

interface Joiner {
  readonly plan: JoinPlan;
  joined: boolean;
  attempts: number;
  readonly attemptTimes: number[];
  /** Deadlines of its calls still waiting for an answer (the member's join requests in flight). */
  readonly waitingUntil: number[];
  joinedAt: number | null;
}

interface Call {
  readonly joiner: Joiner;
  readonly arrivesAt: number;
  readonly deadline: number;
}

interface StormResult {
  joined: number;
  attempts: number;
  /** Answers the seed built (each a full member list). */
  answersBuilt: number;
  /** Of those, answers that reached their caller after it gave up. */
  answersWasted: number;
  /** Instants of each joiner's fourth attempt (a call sent). */
  fourthAttemptAt: number[];
  /** When the last joiner had an answer. */
  lastJoinAt: number;
}

function standInCore(joiner: () => Joiner, nextId: () => number): SwimCore {
  const id = String(nextId());
  const core = {
    self: { name: `joiner-${id}`, grpcAddr: `${id}:7947` },
    isJoined: () => joiner().joined,
    members: () => [],
    member: () => undefined,
    join: (seeds: readonly string[]) => seeds.map((to) => ({ type: 'negotiate', to, requestId: nextId(), state: [], join: true })),
  };
  return core as unknown as SwimCore;
}

function storm(members: number, lagMs: number, serviceMs: number, untilMs: number): StormResult {
  let ids = 0;
  const nextId = (): number => ++ids;
  const joiners: { j: Joiner; core: SwimCore }[] = [];
  const queue: Call[] = [];
  let seedFreeAt = 0;
  let answersBuilt = 0;
  let answersWasted = 0;
  const deliveries: { at: number; joiner: Joiner }[] = [];

  const carryOut = (j: Joiner, core: SwimCore, effects: readonly MemberEffect[], now: number): void => {
    for (const e of effects) {
      if (e.type === 'resolve-seeds' && e.purpose === 'join') {
        const waiting = j.waitingUntil.some((until) => until > now);
        carryOut(j, core, j.plan.seedsResolved('join', [SEED], core, now, () => waiting), now);
      } else if (e.type === 'negotiate' && e.join) {
        // The real shell: the RPC timeout, or the join's own wait when longer.
        j.attempts++;
        j.attemptTimes.push(now);
        const deadline = now + Math.max(RPC_TIMEOUT_MS, e.waitMs ?? 0);
        j.waitingUntil.push(deadline);
        queue.push({ joiner: j, arrivesAt: now + lagMs, deadline });
      }
    }
  };

  for (let i = 0; i < members; i++) {
    const plan = new JoinPlan(
      { seeds: [SEED], bootstrap: false, joinRetryInitialMs: 500, joinRetryMaxMs: 10_000, joinTimeoutMs: 5000 },
      5000,
      seededRandom(1000 + i),
    );
    const j: Joiner = { plan, joined: false, attempts: 0, attemptTimes: [], waitingUntil: [], joinedAt: null };
    const core = standInCore(() => j, nextId);
    joiners.push({ j, core });
    carryOut(j, core, plan.start(0), 0);
  }

  for (let now = 0; now <= untilMs; now += STEP_MS) {
    // The seed works through the calls that reached it, skipping callers that already gave up.
    while (queue.length > 0 && (queue[0] as Call).arrivesAt <= now) {
      const call = queue.shift() as Call;
      const start = Math.max(call.arrivesAt, seedFreeAt);
      if (start >= call.deadline) continue;
      seedFreeAt = start + serviceMs;
      answersBuilt++;
      if (seedFreeAt <= call.deadline) deliveries.push({ at: seedFreeAt, joiner: call.joiner });
      else answersWasted++;
    }
    for (let d = deliveries.length - 1; d >= 0; d--) {
      const delivery = deliveries[d] as { at: number; joiner: Joiner };
      if (delivery.at > now) continue;
      delivery.joiner.joined = true;
      delivery.joiner.joinedAt ??= delivery.at;
      // Answered: none of its calls waits any more (a late answer to another one changes nothing).
      delivery.joiner.waitingUntil.length = 0;
      deliveries.splice(d, 1);
    }
    for (const { j, core } of joiners) {
      if (j.plan.nextDeadline() <= now) carryOut(j, core, j.plan.tick(now, core, true).effects, now);
    }
  }
  return {
    joined: joiners.filter(({ j }) => j.plan.joinedAt !== null).length,
    attempts: joiners.reduce((sum, { j }) => sum + j.attempts, 0),
    answersBuilt,
    answersWasted,
    fourthAttemptAt: joiners.map(({ j }) => j.attemptTimes[3] ?? -1),
    lastJoinAt: Math.max(...joiners.map(({ j }) => j.joinedAt ?? Number.POSITIVE_INFINITY)),
  };
}

describe('a join storm through one busy seed', () => {
  test('99 joiners, a seed that reaches each call 3 s late: every joiner joins, without a retry storm', () => {
    const r = storm(99, 3000, 20, 300_000);
    assert.equal(r.joined, 99, `all joined (${r.joined})`);
    // A fixed 2 s wait would make every attempt of every joiner fail: 30-odd each over 300 s.
    assert.ok(r.attempts <= 99 * 8, `attempts ${r.attempts}: a handful per joiner`);
    assert.ok(r.answersBuilt <= 99 * 2, `answers built ${r.answersBuilt}: about one per joiner`);
    assert.equal(r.answersWasted, 0, 'no answer built for a caller that had left');
  });

  test('9 joiners, a seed (or joiners still starting) 2.5 s late: each joins by its first attempt, none asked twice', () => {
    const r = storm(9, 2500, 20, 60_000);
    assert.equal(r.joined, 9);
    // Calls given up at the 2 s RPC timeout would all be lost until the backoff passed the lag: the
    // third or fourth attempt, seconds later. Waiting on the first call, a later round finds it waiting.
    assert.equal(r.answersBuilt, 9, 'one answer built per joiner');
    assert.equal(r.answersWasted, 0);
    assert.ok(r.lastJoinAt <= 2500 + 9 * 20, `the last joiner answered at ${r.lastJoinAt} ms on the test's clock: its first call`);
  });

  test('joiners that start together do not retry in lockstep', () => {
    const r = storm(99, 120_000, 20, 60_000);
    assert.ok(r.fourthAttemptAt.every((t) => t > 0), 'every joiner made a fourth attempt');
    assert.ok(new Set(r.fourthAttemptAt).size >= 50, `fourth attempts at ${new Set(r.fourthAttemptAt).size} distinct instants`);
  });
});

describe('a joiner heard of by gossip', () => {
  test('counts as joined at its next step, not at the end of the backoff', () => {
    let joined = false;
    const core = {
      self: { name: 'joiner', grpcAddr: 'joiner:7947' },
      isJoined: () => joined,
      members: () => [],
      member: () => undefined,
      join: (seeds: readonly string[]) => seeds.map((to, i) => ({ type: 'negotiate', to, requestId: i + 1, state: [], join: true })),
    } as unknown as SwimCore;
    const plan = new JoinPlan({ seeds: [SEED], bootstrap: false, joinRetryInitialMs: 8000, joinRetryMaxMs: 10_000, joinTimeoutMs: 5000 }, 5000, seededRandom(1));
    plan.start(0);
    plan.seedsResolved('join', [SEED], core, 0);
    assert.equal(plan.tick(100, core, true).joinedNow, false, 'nothing heard yet');
    joined = true; // gossip brought another member
    const step = plan.tick(200, core, true);
    assert.equal(step.joinedNow, true);
    assert.equal(plan.joinedAt, 200);
    assert.equal(step.effects.filter((e) => e.type === 'resolve-seeds').length, 0, 'no further attempt');
    assert.ok(step.effects.some((e) => e.type === 'log' && e.message === 'joined the cluster'), 'logged like a join through a seed');
  });
});

describe('a join attempt that waits', () => {
  test('rounds meanwhile send nothing to its seed and do not back off, so a retry follows soon after it fails', () => {
    const core = {
      self: { name: 'joiner', grpcAddr: 'joiner:7947' },
      isJoined: () => false,
      members: () => [],
      member: () => undefined,
      join: (seeds: readonly string[]) => seeds.map((to, i) => ({ type: 'negotiate', to, requestId: i + 1, state: [], join: true })),
    } as unknown as SwimCore;
    const plan = new JoinPlan({ seeds: [SEED], bootstrap: false, joinRetryInitialMs: 500, joinRetryMaxMs: 10_000, joinTimeoutMs: 5000 }, 60_000, seededRandom(1));
    plan.start(0);
    let waiting = true;
    const sent: number[] = [];
    const waits: number[] = [];
    const round = (now: number): void => {
      for (const e of plan.seedsResolved('join', [SEED], core, now, () => waiting)) {
        if (e.type === 'negotiate') {
          sent.push(now);
          waits.push(e.waitMs ?? 0);
        }
      }
    };
    waiting = false;
    round(0);
    waiting = true;
    // The first call waits (as long as the longest backoff); the rounds until it fails ask nothing.
    for (let now = 10; now < 10_000; now += 10) if (plan.tick(now, core, true).effects.some((e) => e.type === 'resolve-seeds')) round(now);
    assert.deepEqual(sent, [0], 'no second call while the first waits');
    assert.ok((waits[0] ?? 0) >= 5000 && (waits[0] ?? 0) <= 10_000, `the call waits about as long as the longest backoff (${waits[0]} ms)`);
    waiting = false; // it failed at its deadline
    for (let now = 10_000; now < 10_600 && sent.length < 2; now += 10) if (plan.tick(now, core, true).effects.some((e) => e.type === 'resolve-seeds')) round(now);
    assert.equal(sent.length, 2, 'the next round, within the first backoff, tries again');
  });
});
