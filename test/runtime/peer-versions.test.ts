import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PROTOCOL_TAG, VERSION_1_ONLY } from '../../src/codec/protocol-version.js';
import type { MemberRecord, MemberState } from '../../src/core/types.js';
import { JoinRefusals, PeerVersions } from '../../src/runtime/peer-versions.js';

function record(name: string, addr: string, range: string | null, state: MemberState = 'alive'): MemberRecord {
  return {
    name,
    lifeId: `${name}-life`,
    incarnation: 1,
    state,
    gossipAddr: addr,
    grpcAddr: addr,
    meta: { appAddr: '', serving: true, tags: range === null ? {} : { [PROTOCOL_TAG]: range } },
  };
}

describe('PeerVersions', () => {
  test('each peer is sent the highest version both speak; unknown addresses our lowest', () => {
    const counts = new Map<string, number>();
    const peers = new PeerVersions({ min: 1, max: 2 }, counts);
    peers.observe(record('old', '10.0.0.1:1', null));
    peers.observe(record('new', '10.0.0.2:1', '1-2'));
    assert.equal(peers.versionFor('10.0.0.1:1'), 1);
    assert.equal(peers.versionFor('10.0.0.2:1'), 2);
    assert.equal(peers.versionFor('10.0.0.9:1'), 1);
    peers.received(2);
    assert.deepEqual(Object.fromEntries(counts), { 'out:1': 2, 'out:2': 1, 'in:2': 1 });
  });

  test('a restart with another build at the same address is talked to in its new range', () => {
    const peers = new PeerVersions({ min: 1, max: 2 });
    peers.observe(record('b', '10.0.0.2:1', '1-2'));
    assert.equal(peers.versionFor('10.0.0.2:1'), 2);
    peers.observe(record('b', '10.0.0.2:1', null)); // downgraded: the new life's record has no tag
    assert.equal(peers.versionFor('10.0.0.2:1'), 1);
    assert.deepEqual(peers.rangeOf('b'), VERSION_1_ONLY);
  });

  test('a member that moved or was reaped leaves no range behind at its old address', () => {
    const peers = new PeerVersions({ min: 1, max: 2 });
    peers.observe(record('b', '10.0.0.2:1', '1-2'));
    peers.observe(record('b', '10.0.0.3:1', '1-2'));
    assert.equal(peers.versionFor('10.0.0.2:1'), 1);
    assert.equal(peers.versionFor('10.0.0.3:1'), 2);
    peers.forget('b');
    assert.equal(peers.versionFor('10.0.0.3:1'), 1);
    assert.equal(peers.rangeOf('b'), null);
  });

  test('a joiner must share a version with this member and every live member', () => {
    const peers = new PeerVersions({ min: 1, max: 2 });
    peers.observe(record('old', '10.0.0.1:1', null));
    peers.observe(record('gone', '10.0.0.4:1', '3-3', 'dead'));
    assert.equal(peers.joinRefusal({ min: 1, max: 2 }, 'j', 'self'), null);
    assert.equal(
      peers.joinRefusal({ min: 2, max: 2 }, 'j', 'self'),
      'the joining member speaks protocol versions 2-2; member old speaks 1-1; no version in common (the cluster needs a version every member speaks; this member speaks 1-2)',
    );
    assert.match(peers.joinRefusal({ min: 3, max: 3 }, 'j', 'self') ?? '', /member self speaks 1-2/);
  });
});

describe('JoinRefusals', () => {
  test('a refusal holds bootstrap back, is counted by reason and logged once per seed and message', () => {
    const counts = new Map<string, number>();
    const logged: unknown[] = [];
    const refusals = new JoinRefusals(counts, { error: (obj: unknown) => logged.push(obj) } as never);
    assert.equal(refusals.refused, false);
    assert.equal(refusals.current, null);
    const why = 'header.protocol_version: the caller speaks protocol versions 2-2, this member 1-1; no version in common';
    refusals.record('10.0.0.1:7947', why);
    refusals.record('10.0.0.1:7947', why);
    refusals.record('10.0.0.1:7947', 'cluster label mismatch');
    assert.equal(refusals.refused, true);
    assert.deepEqual(Object.fromEntries(counts), { 'unsupported-version': 2, refused: 1 });
    assert.equal(logged.length, 2);
    assert.equal(refusals.current, 'refused by seed 10.0.0.1:7947: cluster label mismatch');
    // A seed accepting a later join makes the member servable again; bootstrap stays held back.
    refusals.accepted();
    assert.equal(refusals.current, null);
    assert.equal(refusals.refused, true);
  });
});
