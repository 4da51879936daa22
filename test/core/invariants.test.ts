import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { estimateMeasure } from '../../src/core/measure.js';
import type { SwimCore } from '../../src/core/swim.js';
import type { Effect, MemberRecord, MemberState, Message, Update } from '../../src/core/types.js';
import { gossipAddr, makeCore, META, sends } from './harness.js';

const NAMES = ['a', 'b', 'c', 'd', 'e', 'f'];
const name = fc.constantFrom(...NAMES);
const incarnation = fc.integer({ min: 998, max: 1004 });
const lifeId = fc.constantFrom('L1', 'L2');
const state = fc.constantFrom<MemberState>('alive', 'suspect', 'dead', 'left');

const update: fc.Arbitrary<Update> = fc.oneof(
  fc.record({ name, incarnation, lifeId }).map(({ name, incarnation, lifeId }): Update => ({ kind: 'alive', name, lifeId: `${name}-${lifeId}`, incarnation, gossipAddr: gossipAddr(name), grpcAddr: `${name}:7947`, meta: META })),
  fc.record({ name, incarnation, from: name }).map((u): Update => ({ kind: 'suspect', ...u })),
  fc.record({ name, incarnation, from: name }).map((u): Update => ({ kind: 'dead', ...u })),
  fc.record({ name, incarnation }).map((u): Update => ({ kind: 'left', ...u })),
);
const message: fc.Arbitrary<Message> = fc.oneof(
  fc.record({ seq: fc.nat(), from: name, target: name }).map((m): Message => ({ type: 'ping', ...m, fromAddr: gossipAddr(m.from) })),
  fc.record({ seq: fc.nat(), from: name }).map((m): Message => ({ type: 'ack', ...m })),
  fc.record({ seq: fc.nat(), from: name }).map((m): Message => ({ type: 'nack', ...m })),
  fc.record({ seq: fc.nat(), from: name, target: name }).map((m): Message => ({ type: 'ping-req', ...m, fromAddr: gossipAddr(m.from), targetAddr: gossipAddr(m.target) })),
);
const record: fc.Arbitrary<MemberRecord> = fc
  .record({ name, incarnation, lifeId, state })
  .map((r) => ({ ...r, lifeId: `${r.name}-${r.lifeId}`, gossipAddr: gossipAddr(r.name), grpcAddr: `${r.name}:7947`, meta: META }));

type Op =
  | { op: 'packet'; updates: Update[]; message: Message | null }
  | { op: 'tick'; advance: number }
  | { op: 'negotiate'; records: MemberRecord[] }
  | { op: 'closing'; name: string; incarnation: number }
  | { op: 'leave' }
  | { op: 'meta'; serving: boolean };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ op: fc.constant('packet' as const), updates: fc.array(update, { maxLength: 5 }), message: fc.option(message, { nil: null }) }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('tick' as const), advance: fc.integer({ min: 0, max: 3000 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('negotiate' as const), records: fc.array(record, { maxLength: 6 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('closing' as const), name, incarnation }) },
  { weight: 1, arbitrary: fc.constant({ op: 'leave' as const }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('meta' as const), serving: fc.boolean() }) },
);

function checkInvariants(core: SwimCore, effects: readonly Effect[], budget: number, maxMembers: number): void {
  const members = core.members();
  const names = members.map((m) => m.name);
  assert.equal(new Set(names).size, names.length, 'one record per name');
  assert.ok(names.includes('a'), 'self is always a member');
  assert.ok(members.length <= maxMembers, 'table bounded');
  assert.equal(core.aliveCount(), members.filter((m) => m.state === 'alive' || m.state === 'suspect').length, 'aliveCount matches the table');
  assert.equal(core.self.state, core.isLeaving() ? 'left' : 'alive', 'self is alive until it leaves');
  const score = core.healthScore();
  assert.ok(score >= 0 && score <= 7, 'awareness within [0, max - 1]');
  for (const m of members) {
    if (m.state === 'suspect') assert.ok(core.suspicionDeadline(m.name) !== undefined, `${m.name} suspect has a timer`);
    else assert.equal(core.suspicionDeadline(m.name), undefined, `${m.name} not suspect has no timer`);
  }
  for (const s of sends(effects)) {
    let size = estimateMeasure.packetOverhead;
    if (s.packet.message !== null) size += estimateMeasure.messageSize(s.packet.message);
    for (const u of s.packet.updates) size += estimateMeasure.updateSize(u);
    assert.ok(size <= budget, 'packet within budget');
    assert.notEqual(s.to, gossipAddr('a'), 'never sends to itself');
  }
  assert.ok(core.nextDeadline() >= 0);
}

describe('core invariants under arbitrary input', () => {
  test('any sequence of packets, ticks, negotiations and leaves keeps the table consistent and never throws', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), fc.integer({ min: 3, max: 8 }), (ops, maxMembers) => {
        const budget = 512;
        const core = makeCore('a', { maxMembers }, { packetBudget: budget });
        let now = 0;
        for (const o of ops) {
          let effects: Effect[] = [];
          switch (o.op) {
            case 'packet':
              effects = core.receive(gossipAddr('b'), { message: o.message, updates: o.updates }, now);
              break;
            case 'tick':
              now += o.advance;
              effects = core.tick(now);
              break;
            case 'negotiate':
              effects = core.onNegotiate(o.records, false, now).effects;
              break;
            case 'closing':
              effects = core.onClosing(o.name, o.incarnation, now);
              break;
            case 'leave':
              effects = core.leave(now);
              break;
            case 'meta':
              effects = core.updateMeta({ appAddr: '', serving: o.serving, tags: {} }, now);
              break;
          }
          checkInvariants(core, effects, budget, maxMembers);
        }
      }),
      { numRuns: 300 },
    );
  });

  test('a member event is emitted for every state change anyone can observe', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const core = makeCore('a');
        const seen = new Map<string, MemberState>([['a', 'alive']]);
        let now = 0;
        for (const o of ops) {
          let effects: Effect[] = [];
          if (o.op === 'packet') effects = core.receive(gossipAddr('b'), { message: o.message, updates: o.updates }, now);
          else if (o.op === 'tick') effects = core.tick((now += o.advance));
          else if (o.op === 'negotiate') effects = core.onNegotiate(o.records, false, now).effects;
          else if (o.op === 'closing') effects = core.onClosing(o.name, o.incarnation, now);
          else if (o.op === 'leave') effects = core.leave(now);
          for (const e of effects) {
            if (e.type !== 'event') continue;
            if (e.event.type === 'member') {
              assert.equal(e.event.from, seen.get(e.event.name) ?? null, `from matches the last reported state of ${e.event.name}`);
              seen.set(e.event.name, e.event.to);
            } else if (e.event.type === 'reaped') {
              seen.delete(e.event.name);
            }
          }
          for (const m of core.members()) assert.equal(seen.get(m.name), m.state, `${m.name} state was reported`);
          assert.equal(seen.size, core.members().length);
        }
      }),
      { numRuns: 300 },
    );
  });
});
