// The incarnation ceiling (src/core/README.md "Incarnation ceiling"): values above it are ignored, the
// core's own arithmetic never goes past it, and a member accused at the ceiling can still refute.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { encodePacket } from '../../src/codec/index.js';
import { MAX_INCARNATION } from '../../src/core/limits.js';
import type { Effect, Update } from '../../src/core/types.js';
import { alive, coreKnowing, dead, events, gossipTo, heldDead, left, makeCore, sends, suspect } from './harness.js';

/** Every packet the effects would send must encode (the runtime seals each one). */
function assertAllEncode(effects: readonly Effect[]): void {
  for (const s of sends(effects)) assert.doesNotThrow(() => encodePacket(s.packet));
}

/** Drives `core` through every timer for `rounds` deadlines, encoding everything it sends. */
function tickAndEncode(core: ReturnType<typeof makeCore>, rounds: number): void {
  for (let i = 0; i < rounds; i++) {
    const at = core.nextDeadline();
    if (!Number.isFinite(at)) return;
    assertAllEncode(core.tick(at));
  }
}

describe('incarnation ceiling', () => {
  test('the ceiling leaves room below 2^53 so one more stays exact', () => {
    assert.equal(MAX_INCARNATION, 2 ** 50);
    assert.ok(Number.isSafeInteger(MAX_INCARNATION + 1));
  });

  test('updates above the ceiling are ignored and counted, about us and about others', () => {
    const core = coreKnowing('a', ['b']);
    const over = MAX_INCARNATION + 1;
    const bad: Update[] = [
      suspect('a', over),
      dead('a', Number.MAX_SAFE_INTEGER),
      left('a', over),
      alive('a', over, 'other-life'),
      suspect('b', over),
      alive('b', over, 'b-life-2'),
    ];
    const effects = gossipTo(core, bad, 10);
    assert.deepEqual(events(effects), []);
    assert.equal(core.self.incarnation, 1000);
    assert.equal(core.member('b')?.state, 'alive');
    assert.equal(core.member('b')?.incarnation, 1000);
    assert.equal(core.counters.updatesRejected, bad.length);
  });

  for (const accusation of ['suspect', 'dead', 'left', 'other-life'] as const) {
    test(`a ${accusation} about us at the ceiling is refuted at the ceiling, and every packet still encodes`, () => {
      const core = coreKnowing('a', ['b', 'c']);
      const update: Update = {
        suspect: suspect('a', MAX_INCARNATION),
        dead: dead('a', MAX_INCARNATION),
        left: left('a', MAX_INCARNATION),
        'other-life': alive('a', MAX_INCARNATION, 'forged-life'),
      }[accusation];
      const effects = gossipTo(core, [update], 10);
      assert.equal(core.self.state, 'alive');
      assert.equal(core.self.incarnation, MAX_INCARNATION);
      assertAllEncode(effects);
      tickAndEncode(core, 50);
    });
  }

  test('a second accusation at the ceiling is refuted again without passing it', () => {
    const core = coreKnowing('a', ['b']);
    gossipTo(core, [suspect('a', MAX_INCARNATION)], 10);
    const again = gossipTo(core, [dead('a', MAX_INCARNATION)], 20);
    assert.equal(core.self.incarnation, MAX_INCARNATION);
    assert.ok(events(again).some((e) => e.type === 'refuted' && e.incarnation === MAX_INCARNATION));
    assertAllEncode(again);
  });

  test('leave and new metadata at the ceiling stay at the ceiling', () => {
    const core = makeCore('a', { incarnation: MAX_INCARNATION });
    assertAllEncode(core.updateMeta({ appAddr: '', serving: false, tags: {} }, 5));
    assert.equal(core.self.incarnation, MAX_INCARNATION);
    assert.equal(core.self.meta.serving, false);
    const leaving = core.leave(10);
    assert.equal(core.self.state, 'left');
    assert.equal(core.self.incarnation, MAX_INCARNATION);
    assertAllEncode(leaving);
  });

  test('a peer takes the member\'s own alive at the ceiling over an accusation at the ceiling', () => {
    for (const accusation of [suspect('b', MAX_INCARNATION), dead('b', MAX_INCARNATION), left('b', MAX_INCARNATION)]) {
      const core = coreKnowing('a', ['b', 'c']);
      gossipTo(core, [accusation], 10);
      assert.notEqual(core.member('b')?.state, 'alive');
      gossipTo(core, [alive('b', MAX_INCARNATION)], 20);
      assert.equal(core.member('b')?.state, 'alive', `after ${accusation.kind}`);
    }
  });

  test('at the ceiling, an alive under another life id does not displace the record held', () => {
    const core = coreKnowing('a', ['b']);
    const deadAt = heldDead(core, 'b', MAX_INCARNATION, 10);
    gossipTo(core, [alive('b', MAX_INCARNATION, 'b-forged-life')], deadAt + 10);
    assert.equal(core.member('b')?.state, 'dead');
    // An alive record at the ceiling is not replaced by another alive at the ceiling either.
    const other = coreKnowing('a', ['b']);
    gossipTo(other, [alive('b', MAX_INCARNATION)], 10);
    gossipTo(other, [alive('b', MAX_INCARNATION, 'b-forged-life', ':9')], 20);
    assert.equal(other.member('b')?.lifeId, 'b-life-1');
  });

  test('an accused member and its peers agree again: the refutation at the ceiling clears the accusation everywhere', () => {
    const victim = coreKnowing('v', ['p']);
    const peer = coreKnowing('p', ['v']);
    const deadAt = heldDead(peer, 'v', MAX_INCARNATION, 10);
    assert.equal(peer.member('v')?.state, 'dead');
    const refutation = gossipTo(victim, [dead('v', MAX_INCARNATION)], 10);
    assertAllEncode(refutation);
    const selfAlive = victim.members().find((r) => r.name === 'v');
    assert.ok(selfAlive);
    gossipTo(peer, [alive('v', selfAlive.incarnation, selfAlive.lifeId)], deadAt + 20);
    assert.equal(peer.member('v')?.state, 'alive');
  });
});
