// The observer on its own, fed synthetic membership events.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { MemberRecord, MemberState, MembershipEvent } from '../../src/core/types.js';
import { Observer } from '../../src/sim/observer.js';
import { memberRecord } from '../support/member-record.js';

function record(name: string, lifeId: string, state: MemberState, incarnation = 0): MemberRecord {
  return memberRecord(name, { lifeId, incarnation, state });
}
function change(name: string, lifeId: string, from: MemberState | null, to: MemberState, incarnation = 0): MembershipEvent {
  return { type: 'member', name, from, to, incarnation, reason: 'test', member: record(name, lifeId, to, incarnation) };
}

/** Three nodes a, b, c (ids 0..2) with lives la, lb, lc. */
function trio(capacity = 2): Observer {
  const o = new Observer(capacity); // small on purpose: the tables must grow
  o.nodeStarted(0, 'a', 'la');
  o.nodeStarted(1, 'b', 'lb');
  o.nodeStarted(2, 'c', 'lc');
  return o;
}

function allSeeAlive(o: Observer, now: number): void {
  const names = ['a', 'b', 'c'];
  names.forEach((observer, id) => {
    for (const n of names) if (n !== observer) o.onEvent(id, change(n, `l${n}`, null, 'alive'), now);
  });
}

describe('observer', () => {
  test('converges when every live member sees every other alive, and records when', () => {
    const o = trio();
    assert.equal(o.isConverged(), false);
    o.onEvent(0, change('b', 'lb', null, 'alive'), 5);
    o.onEvent(0, change('c', 'lc', null, 'alive'), 6);
    o.onEvent(1, change('a', 'la', null, 'alive'), 7);
    o.onEvent(1, change('c', 'lc', null, 'alive'), 8);
    o.onEvent(2, change('a', 'la', null, 'alive'), 9);
    assert.equal(o.isConverged(), false);
    o.onEvent(2, change('b', 'lb', null, 'alive'), 10);
    assert.equal(o.isConverged(), true);
    assert.equal(o.convergedAt, 10);
    assert.equal(o.fromMismatches, 0);
  });

  test('a crash withdraws the crashed view; detection times count only live observers', () => {
    const o = trio();
    allSeeAlive(o, 1);
    o.nodeStopped(2, 20);
    o.resetName('c', 20);
    assert.equal(o.count('c', 'alive'), 2);
    o.onEvent(0, change('c', 'lc', 'alive', 'suspect'), 21);
    o.onEvent(1, change('c', 'lc', 'alive', 'dead'), 22);
    assert.ok(Number.isNaN(o.everyoneSawAt('c', 'dead')));
    o.onEvent(0, change('c', 'lc', 'suspect', 'dead'), 25);
    assert.equal(o.firstSeenAt('c', 'suspect'), 21);
    assert.equal(o.firstSeenAt('c', 'dead'), 22);
    assert.equal(o.everyoneSawAt('c', 'dead'), 25);
    assert.equal(o.falseDeaths('c'), 0, 'the crashed life is not live: a true death');
    assert.equal(o.isConverged(), true, 'the two remaining members still see each other');
  });

  test('declaring a running life dead or suspect is counted; one suspicion episode per (life, incarnation)', () => {
    const o = trio();
    allSeeAlive(o, 1);
    o.onEvent(0, change('b', 'lb', 'alive', 'suspect', 0), 2);
    o.onEvent(2, change('b', 'lb', 'alive', 'suspect', 0), 3);
    o.onEvent(0, change('b', 'lb', 'suspect', 'alive', 1), 4);
    o.onEvent(0, change('b', 'lb', 'alive', 'suspect', 1), 5);
    o.onEvent(2, change('b', 'lb', 'suspect', 'dead', 1), 6);
    assert.equal(o.falseSuspicions('b'), 2);
    assert.equal(o.falseDeaths('b'), 1);
    assert.equal(o.falseDeathAt('b'), 6);
    assert.equal(o.stateSeenBy(2, 'b'), 'dead');
    assert.equal(o.transitionsInto('b', 'suspect'), 3);
  });

  test('reaping forgets the record; watched names keep per-observer first times', () => {
    const o = trio();
    o.watch('c');
    allSeeAlive(o, 1);
    o.nodeStopped(2, 10);
    o.onEvent(1, change('c', 'lc', 'alive', 'dead'), 12);
    o.onEvent(1, { type: 'reaped', name: 'c' }, 40);
    assert.equal(o.stateSeenBy(1, 'c'), undefined);
    assert.equal(o.count('c', 'dead'), 0);
    assert.equal(o.watchedFirstSeen('c', 1, 'dead'), 12);
    assert.equal(o.watchedFirstSeen('c', 0, 'alive'), 1);
    assert.ok(Number.isNaN(o.watchedFirstSeen('c', 0, 'dead')));
  });

  test('tables grow past the capacity hint without losing what they hold', () => {
    const o = new Observer(4);
    o.nodeStarted(0, 'n0', 'l0');
    o.nodeStarted(1, 'n1', 'l1');
    o.onEvent(0, change('n1', 'l1', null, 'alive'), 1);
    o.onEvent(1, change('n0', 'l0', null, 'alive'), 1);
    for (let i = 2; i < 20; i++) o.nodeStarted(i, `n${i}`, `l${i}`);
    o.onEvent(19, change('n0', 'l0', null, 'suspect'), 2);
    assert.equal(o.stateSeenBy(0, 'n1'), 'alive');
    assert.equal(o.stateSeenBy(1, 'n0'), 'alive');
    assert.equal(o.stateSeenBy(19, 'n0'), 'suspect');
    assert.equal(o.count('n0', 'alive'), 1);
    assert.equal(o.count('n0', 'suspect'), 1);
    assert.equal(o.fromMismatches, 0);
  });

  test('a `from` that disagrees with the recorded view is counted as a mismatch', () => {
    const o = trio();
    o.onEvent(0, change('b', 'lb', 'suspect', 'alive'), 1);
    assert.equal(o.fromMismatches, 1);
  });

  test('name conflicts and refutations are counted; self events do not enter the view', () => {
    const o = trio();
    o.onEvent(0, { type: 'name-conflict', name: 'a', localLifeId: 'la', otherLifeId: 'lx', otherAddr: '' }, 1);
    o.onEvent(0, { type: 'refuted', incarnation: 3, accusation: 'suspect' }, 1);
    o.onEvent(0, change('a', 'la', null, 'alive'), 1);
    assert.equal(o.nameConflicts, 1);
    assert.equal(o.nameConflictsByName.get('a'), 1);
    assert.equal(o.refutations, 1);
    assert.equal(o.count('a', 'alive'), 0);
  });
});
