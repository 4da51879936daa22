import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { alive, coreKnowing, dead, heldDead, events, gossipTo, left, memberEvents } from './harness.js';

/** Probing pushed out so the only deadlines are the ones under test. */
const config = { probeIntervalMs: 600_000, probeTimeoutMs: 300_000, pushPullIntervalMs: 0, deadRetentionMs: 5000, tombstoneMs: 60_000 };

describe('dead and left retention', () => {
  test('reaped after retention, tombstone refuses stale alive', () => {
    const core = coreKnowing('a', ['b', 'c'], {}, config);
    const t = heldDead(core, 'b', 1000, 100);
    assert.deepEqual(events(core.tick(t + 4999)).filter((e) => e.type === 'reaped'), []);
    assert.equal(core.member('b')?.state, 'dead', 'kept for gossip during retention');
    assert.deepEqual(events(core.tick(t + 5000)).filter((e) => e.type === 'reaped'), [{ type: 'reaped', name: 'b' }]);
    assert.equal(core.member('b'), undefined);
    assert.deepEqual(gossipTo(core, [alive('b', 1000)], t + 5900), [], 'stale alive still in flight');
    assert.equal(core.member('b'), undefined);
  });

  test('a later incarnation gets through the tombstone', () => {
    const core = coreKnowing('a', ['b'], {}, config);
    gossipTo(core, [left('b', 1001)], 0);
    core.tick(5000);
    assert.equal(core.member('b'), undefined);
    const effects = gossipTo(core, [alive('b', 90_000, 'b-life-2')], 6000);
    assert.equal(core.member('b')?.state, 'alive');
    assert.deepEqual(memberEvents(effects).map((e) => [e.from, e.to, e.reason]), [[null, 'alive', 'joined']]);
  });

  test('the tombstone itself expires after tombstoneMs', () => {
    const core = coreKnowing('a', ['b'], {}, config);
    const t = heldDead(core, 'b', 1000, 0);
    core.tick(t + 5000);
    core.tick(t + 5000 + 60_000);
    gossipTo(core, [alive('b', 1000)], t + 65_001);
    assert.equal(core.member('b')?.state, 'alive');
  });

  test('a member revived during retention is not reaped', () => {
    const core = coreKnowing('a', ['b'], {}, config);
    gossipTo(core, [dead('b', 1000)], 0);
    gossipTo(core, [alive('b', 1001)], 1000);
    assert.deepEqual(events(core.tick(20_000)).filter((e) => e.type === 'reaped'), []);
    assert.equal(core.member('b')?.state, 'alive');
  });

  test('left members are reaped too, and members() lists dead and left until then', () => {
    const core = coreKnowing('a', ['b', 'c'], {}, config);
    const t = heldDead(core, 'c');
    gossipTo(core, [left('b')], t);
    assert.deepEqual(core.members().map((m) => `${m.name}:${m.state}`).sort(), ['a:alive', 'b:left', 'c:dead']);
    core.tick(t + 5000);
    assert.deepEqual(core.members().map((m) => m.name), ['a']);
  });
});

describe('bounds', () => {
  test('tombstones are bounded by the member table size', () => {
    const core = coreKnowing('a', [], { maxMembers: 3 }, config);
    let t = 0;
    for (let i = 0; i < 6; i++) {
      gossipTo(core, [alive(`m${i}`, 1000)], t);
      t = heldDead(core, `m${i}`, 1000, t + 1);
      core.tick(t + 5000);
      t += 5001;
    }
    // The oldest tombstones were forgotten, so their stale alive is accepted again; the newest still hold.
    gossipTo(core, [alive('m0', 1000)], t);
    assert.equal(core.member('m0')?.state, 'alive');
    gossipTo(core, [alive('m5', 1000)], t + 1);
    assert.equal(core.member('m5'), undefined);
  });
});
