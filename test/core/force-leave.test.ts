// An operator's force-leave (SwimCore.forceLeave): a dead member turns left at once in this view (and
// nothing is gossiped), its reap time is the one its death set; live members, unknown names and the
// member itself are refused.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { carried, coreKnowing, dead, gossipTo, heldDead, memberEvents, record, tickNext } from './harness.js';

describe('force-leave', () => {
  test('a dead member becomes left at its incarnation in this view; no news is gossiped about it', () => {
    const core = coreKnowing('a', ['b', 'c', 'd']);
    const diedAt = heldDead(core, 'd', 1000, 10);
    assert.equal(core.member('d')?.state, 'dead');
    const { refused, effects } = core.forceLeave('d', diedAt + 10);
    assert.equal(refused, null);
    assert.equal(core.member('d')?.state, 'left');
    assert.equal(core.member('d')?.incarnation, 1000);
    assert.deepEqual(memberEvents(effects).map((e) => [e.name, e.from, e.to, e.reason]), [['d', 'dead', 'left', 'force-leave']]);
    const leftNews = [];
    for (let i = 0; i < 50; i++) leftNews.push(...carried(tickNext(core)[1]).filter((u) => u.kind === 'left' && u.name === 'd'));
    assert.deepEqual(leftNews, []);
  });

  test('dead news arriving later does not turn it back', () => {
    const core = coreKnowing('a', ['b', 'd']);
    const diedAt = heldDead(core, 'd', 1000, 10);
    core.forceLeave('d', diedAt + 10);
    gossipTo(core, [dead('d', 1000, 'b')], diedAt + 20);
    core.onNegotiate([record('d', 'dead')], false, diedAt + 30);
    assert.equal(core.member('d')?.state, 'left');
  });

  test('the record is reaped when its death said, not a retention later', () => {
    const core = coreKnowing('a', ['b', 'd'], {}, { deadRetentionMs: 1000 });
    const diedAt = heldDead(core, 'd', 1000, 100);
    core.forceLeave('d', diedAt + 800);
    core.tick(diedAt + 990);
    assert.equal(core.member('d')?.state, 'left', 'kept until its death time + retention');
    for (let now = diedAt + 990; now <= diedAt + 1100; now += 10) core.tick(now);
    assert.equal(core.member('d'), undefined, 'reaped at its death + 1000');
  });

  test('live members, unknown names and itself are refused and left as they are', () => {
    const core = coreKnowing('a', ['b', 'c']);
    gossipTo(core, [{ kind: 'suspect', name: 'c', incarnation: 1000, from: 'x' }], 10);
    assert.equal(core.forceLeave('b', 20).refused, 'alive');
    assert.equal(core.forceLeave('c', 20).refused, 'suspect');
    assert.equal(core.forceLeave('zz', 20).refused, 'unknown');
    assert.equal(core.forceLeave('a', 20).refused, 'self');
    assert.equal(core.member('b')?.state, 'alive');
    assert.equal(core.member('c')?.state, 'suspect');
    assert.deepEqual(core.forceLeave('b', 30).effects, []);
  });
});
