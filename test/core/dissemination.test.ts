import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { ByteMeasure } from '../../src/core/measure.js';
import { estimateMeasure } from '../../src/core/measure.js';
import { retransmitLimit } from '../../src/core/broadcast-queue.js';
import { profileConfig } from '../../src/core/config.js';
import type { Effect, Update } from '../../src/core/types.js';
import { alive, carried, coreKnowing, heldDead, gossipAddr, gossipTo, makeCore, sends, suspect, tickNext } from './harness.js';

/** Probing pushed far out, so only gossip and replies carry news during a test. */
const quietProbes = { probeIntervalMs: 100_000, probeTimeoutMs: 50_000, pushPullIntervalMs: 0 };

function drain(core: ReturnType<typeof makeCore>, maxTicks = 200): Effect[] {
  const out: Effect[] = [];
  for (let i = 0; i < maxTicks && core.pendingBroadcasts() > 0; i++) out.push(...tickNext(core)[1]);
  return out;
}

function count(updates: readonly Update[], pred: (u: Update) => boolean): number {
  return updates.filter(pred).length;
}

describe('dissemination', () => {
  test('updates retransmitted mult*ceil(log10(n+1)) times', () => {
    // n = 10 (self + 9): limit = 3 * ceil(log10(11)) = 6. n = 4: limit = 3 * 1 = 3.
    for (const [others, limit] of [
      [9, 6],
      [3, 3],
    ] as const) {
      const names = Array.from({ length: others }, (_, i) => `m${i}`);
      const core = coreKnowing('a', names, {}, quietProbes);
      const effects = drain(core);
      assert.equal(core.pendingBroadcasts(), 0);
      for (const name of names) {
        assert.equal(count(carried(effects), (u) => u.kind === 'alive' && u.name === name), limit, `${name} with n = ${others + 1}`);
      }
    }
  });

  test('a refutation rides in every gossip packet while a mass join backlog waits', () => {
    // 300 members learned at once (introductions), one of them suspected, then its refutation arrives:
    // the refutation goes in each of the next `limit` packets, not once per pass over the backlog.
    const names = Array.from({ length: 300 }, (_, i) => `m${i}`);
    const config = { ...quietProbes, gossipNodes: 1 };
    const core = coreKnowing('a', names, {}, config);
    gossipTo(core, [suspect('m7', 1000, 'c')]);
    for (let i = 0; i < 3; i++) tickNext(core);
    gossipTo(core, [alive('m7', 1001)]);
    const limit = retransmitLimit(profileConfig('local').retransmitMult, names.length + 1);
    const packets: Update[][] = [];
    while (packets.length < limit + 1) {
      for (const s of sends(tickNext(core)[1])) if (s.packet.message === null) packets.push([...s.packet.updates]);
    }
    const carriesRefutation = packets.map((updates) => updates.some((u) => u.kind === 'alive' && u.name === 'm7' && u.incarnation === 1001));
    assert.deepEqual(carriesRefutation, [...Array<boolean>(limit).fill(true), false]);
    assert.ok(core.pendingBroadcasts() > 250, 'the introductions are still queued');
  });

  test('newer update invalidates queued older one', () => {
    const core = coreKnowing('a', ['b', 'c', 'd'], {}, quietProbes);
    gossipTo(core, [suspect('b', 1000, 'c')]);
    const effects = drain(core);
    const aboutB = carried(effects).filter((u) => u.name === 'b');
    assert.ok(aboutB.length > 0);
    assert.ok(aboutB.every((u) => u.kind === 'suspect'), 'the queued alive about b was replaced');
  });

  test('gossip goes to gossipNodes distinct members each interval while news is queued, then stops', () => {
    const core = makeCore('a', {}, quietProbes);
    gossipTo(core, ['b', 'c', 'd', 'e', 'f'].map((o) => alive(o)), 0);
    const [at, effects] = tickNext(core);
    assert.equal(at, 0, 'news of arrivals goes out at once');
    const gossip = sends(effects).filter((s) => s.packet.message === null);
    assert.equal(gossip.length, 3);
    assert.equal(new Set(gossip.map((s) => s.to)).size, 3);
    assert.equal(core.counters.gossipPacketsSent, 3);
    drain(core);
    const before = core.counters.gossipPacketsSent;
    core.tick(at + 10_000);
    assert.equal(core.counters.gossipPacketsSent, before, 'nothing queued, nothing gossiped');
  });

  test('news of an arrival brings the next round forward to one interval after the last, never closer', () => {
    const core = coreKnowing('a', ['b', 'c', 'd', 'e', 'f'], {}, quietProbes);
    assert.equal(tickNext(core)[0], 0, 'the first round at once');
    drain(core);
    // A quiet spell: the round for a newcomer goes at once.
    gossipTo(core, [alive('g')], 1000);
    const [first, effects] = tickNext(core);
    assert.equal(first, 1000);
    assert.ok(carried(effects).some((u) => u.kind === 'alive' && u.name === 'g'), 'the round carries the newcomer');
    // Another newcomer right after: its round waits for the interval since the last one.
    gossipTo(core, [alive('h')], 1010);
    assert.equal(core.nextDeadline(), 1050, 'one local gossip interval after the last round');
    drain(core);
    // News about a known member (not an arrival) still waits one interval from when it is queued.
    core.updateMeta({ appAddr: 'x:1', serving: true, tags: {} }, 5000);
    assert.equal(core.nextDeadline(), 5050);
  });

  test('gossip reaches recently dead members so they can refute, leading with the accusation', () => {
    const core = coreKnowing('a', ['b'], {}, quietProbes);
    const t = heldDead(core, 'b', 1000, 0, 'c');
    core.updateMeta({ appAddr: 'x:1', serving: true, tags: {} }, t);
    const [, effects] = tickNext(core);
    const [packet] = sends(effects);
    assert.equal(packet?.to, gossipAddr('b'));
    assert.deepEqual(packet?.packet.updates[0], { kind: 'dead', name: 'b', incarnation: 1000, from: 'a' });
  });

  test('a lone core schedules no gossip', () => {
    const core = makeCore('a', {}, quietProbes);
    core.updateMeta({ appAddr: 'x:1', serving: true, tags: {} }, 0);
    assert.equal(core.pendingBroadcasts(), 1);
    assert.ok(core.nextDeadline() > 50);
  });

  test('piggyback respects the byte budget', () => {
    const measure: ByteMeasure = { packetOverhead: 10, messageSize: () => 40, updateSize: () => 100 };
    const names = Array.from({ length: 20 }, (_, i) => `m${i}`);
    const core = coreKnowing('a', names, { measure }, { ...quietProbes, packetBudget: 512 });
    const reply = sends(core.receive(gossipAddr('m0'), { message: { type: 'ping', seq: 1, from: 'm0', fromAddr: gossipAddr('m0'), target: 'a' }, updates: [] }, 1));
    assert.equal(reply[0]?.packet.updates.length, 4, '(512 - 10 - 40) / 100');
    const [, effects] = tickNext(core);
    for (const s of sends(effects)) assert.equal(s.packet.updates.length, 5, '(512 - 10) / 100');
  });

  test('every packet fits the budget under the measure in use', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.string({ minLength: 1, maxLength: 40 }), fc.string({ maxLength: 200 })), { minLength: 1, maxLength: 30 }),
        fc.integer({ min: 512, max: 1400 }),
        (specs, budget) => {
          const core = makeCore('a', {}, { packetBudget: budget });
          const updates: Update[] = specs.map(([name, tag], i) => ({
            ...alive(`m${i}-${name}`),
            meta: { appAddr: 'app:1', serving: true, tags: { note: tag } },
          }));
          gossipTo(core, updates);
          for (let i = 0; i < 60; i++) {
            for (const s of sends(tickNext(core)[1])) {
              let size = estimateMeasure.packetOverhead;
              if (s.packet.message !== null) size += estimateMeasure.messageSize(s.packet.message);
              for (const u of s.packet.updates) size += estimateMeasure.updateSize(u);
              if (size > budget) return false;
            }
          }
          return true;
        },
      ),
      { numRuns: 40 },
    );
  });
});
