import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { decodePacket, encodePacket } from '../../src/codec/index.js';
import { headerSize } from '../../src/codec/header.js';
import {
  checkJoinRange,
  checkProtocolVersion,
  headerVersionFields,
  highestCommon,
  parseRange,
  PROTOCOL_TAG,
  rangeFromTags,
  spokenRangeFromSwitch,
  VERSION_1_ONLY,
  versionForPeer,
  withProtocolTag,
  type VersionRange,
} from '../../src/codec/protocol-version.js';
import type { Packet } from '../../src/core/types.js';
import { GossipEnvelope } from '../../src/security/envelope.js';
import { Keyring } from '../../src/security/keyring.js';
import { packetArb } from './arbitraries.js';

const V12: VersionRange = { min: 1, max: 2 };
const V2: VersionRange = { min: 2, max: 2 };
const ping: Packet = {
  message: { type: 'ping', seq: 7, from: 'a', fromAddr: '10.0.0.1:7946', target: 'b' },
  updates: [{ kind: 'left', name: 'a', incarnation: 3 }],
};

describe('protocol version decisions', () => {
  test('peers talk at the highest version both speak; none when the ranges do not overlap', () => {
    assert.equal(highestCommon(V12, VERSION_1_ONLY), 1);
    assert.equal(highestCommon(V12, V12), 2);
    assert.equal(highestCommon(V12, { min: 2, max: 5 }), 2);
    assert.equal(highestCommon(VERSION_1_ONLY, V2), null);
  });

  test('a peer of unknown or disjoint range is sent our lowest version', () => {
    assert.equal(versionForPeer(V12, null), 1);
    assert.equal(versionForPeer(V12, V12), 2);
    assert.equal(versionForPeer(V12, VERSION_1_ONLY), 1);
    assert.equal(versionForPeer(V2, VERSION_1_ONLY), 2);
  });

  test('ranges parse strictly', () => {
    assert.deepEqual(parseRange('1-2'), V12);
    assert.deepEqual(parseRange('2'), V2);
    for (const bad of ['', '0-1', '2-1', '1-256', '1-', '-2', ' 1-2', '1-2x', '1.5-2']) assert.equal(parseRange(bad), null, bad);
  });

  test('the tag: absent reads as 1-1, a 1-1 member adds none, a wider one advertises its range', () => {
    assert.deepEqual(rangeFromTags({ zone: 'a' }), VERSION_1_ONLY);
    assert.deepEqual(rangeFromTags({ [PROTOCOL_TAG]: '1-2' }), V12);
    assert.equal(rangeFromTags({ [PROTOCOL_TAG]: 'junk' }), null);
    assert.deepEqual(withProtocolTag({ zone: 'a' }, VERSION_1_ONLY), { zone: 'a' });
    assert.deepEqual(withProtocolTag({ zone: 'a', [PROTOCOL_TAG]: '9-9' }, VERSION_1_ONLY), { zone: 'a' });
    assert.deepEqual(withProtocolTag({ zone: 'a' }, V12), { zone: 'a', [PROTOCOL_TAG]: '1-2' });
  });

  test('the switch: unset is 1-1; a range within the known versions; anything else throws', () => {
    assert.deepEqual(spokenRangeFromSwitch(undefined), VERSION_1_ONLY);
    assert.deepEqual(spokenRangeFromSwitch('1-2'), V12);
    assert.deepEqual(spokenRangeFromSwitch('2'), V2);
    assert.throws(() => spokenRangeFromSwitch('1-3'), /SWIMRING_TEST_PROTOCOL_VERSIONS=1-3/);
    assert.throws(() => spokenRangeFromSwitch('x'), RangeError);
  });
});

describe('gRPC version check', () => {
  test('a caller without a range speaks exactly protocol_version (0 reads as 1)', () => {
    assert.deepEqual(checkProtocolVersion({ protocolVersion: 0 }, VERSION_1_ONLY), { ok: true, version: 1, peer: VERSION_1_ONLY });
    assert.deepEqual(checkProtocolVersion(null, V12), { ok: true, version: 1, peer: VERSION_1_ONLY });
    const refused = checkProtocolVersion({ protocolVersion: 2 }, VERSION_1_ONLY);
    assert.equal(refused.ok, false);
    if (!refused.ok) assert.equal(refused.reason, 'unsupported-version');
  });

  test('a caller with a range is served at the highest common version, or refused naming both ranges', () => {
    assert.deepEqual(checkProtocolVersion(headerVersionFields(V12), VERSION_1_ONLY), { ok: true, version: 1, peer: V12 });
    assert.deepEqual(checkProtocolVersion(headerVersionFields(V12), V12), { ok: true, version: 2, peer: V12 });
    const refused = checkProtocolVersion(headerVersionFields(V2), VERSION_1_ONLY);
    assert.deepEqual(refused, {
      ok: false,
      reason: 'unsupported-version',
      message: 'header.protocol_version: the caller speaks protocol versions 2-2, this member 1-1; no version in common',
    });
  });

  test('a malformed range is invalid, not a version', () => {
    for (const [min, max] of [[0, 2], [2, 1], [1, 0], [1, 300]] as const) {
      const r = checkProtocolVersion({ protocolVersion: 1, minProtocolVersion: min, maxProtocolVersion: max }, V12);
      assert.equal(r.ok, false);
      if (!r.ok) assert.equal(r.reason, 'invalid');
    }
  });

  test('a version-1 member accepts what a 1-2 member sends in the field it checks', () => {
    // A member predating ranges accepts protocol_version 0 or 1 only.
    assert.equal(headerVersionFields(V12).protocolVersion, 1);
    assert.equal(headerVersionFields(VERSION_1_ONLY).protocolVersion, 1);
  });

  test('a joiner must share a version with every member, not only its seed', () => {
    const members = [
      { name: 'a', range: V12 },
      { name: 'b', range: VERSION_1_ONLY },
    ];
    assert.deepEqual(checkJoinRange(V12, members), { ok: true });
    const refused = checkJoinRange(V2, members);
    assert.deepEqual(refused, {
      ok: false,
      message: 'the joining member speaks protocol versions 2-2; member b speaks 1-1; no version in common',
    });
  });
});

describe('UDP header per version', () => {
  test('version 1 is byte for byte the format every member has spoken', () => {
    const v1 = encodePacket(ping);
    assert.deepEqual([...v1.subarray(0, 4)], [0x53, 0x52, 1, 0]);
    assert.deepEqual(encodePacket(ping, { version: 1, spoken: V12 }), v1);
  });

  test('version 2 adds the sender range after the flags and keeps the body', () => {
    const v1 = encodePacket(ping);
    const v2 = encodePacket(ping, { version: 2, spoken: V12 });
    assert.equal(headerSize(2), 6);
    assert.deepEqual([...v2.subarray(0, 6)], [0x53, 0x52, 2, 0, 1, 2]);
    assert.deepEqual(v2.subarray(6), v1.subarray(4));
    assert.deepEqual(decodePacket(v2, V12), { ok: true, packet: ping });
    assert.deepEqual(decodePacket(v1, V12), { ok: true, packet: ping });
  });

  test('a version-1 member refuses version 2, naming the sender range', () => {
    const v2 = encodePacket(ping, { version: 2, spoken: V12 });
    const r = decodePacket(v2);
    assert.equal(r.ok, false);
    if (!r.ok) {
      assert.equal(r.reason, 'unsupported-version');
      assert.equal(r.detail, 'version 2 (the sender speaks 1-2); this member speaks 1-1');
    }
    const onlyTwo = decodePacket(encodePacket(ping), V2);
    assert.equal(onlyTwo.ok, false);
    if (!onlyTwo.ok) assert.equal(onlyTwo.reason, 'unsupported-version');
  });

  test('a version-2 header whose range does not hold its version is invalid; a short one too short', () => {
    const v2 = encodePacket(ping, { version: 2, spoken: V12 });
    const bad = Uint8Array.from(v2);
    bad[5] = 1; // range 1-1 on a version-2 packet
    const r = decodePacket(bad, V12);
    assert.equal(r.ok, false);
    if (!r.ok) assert.equal(r.reason, 'invalid-field');
    const short = decodePacket(Uint8Array.from([0x53, 0x52, 2, 0, 1, 2, 0, 0]), V12);
    assert.equal(short.ok, false);
    if (!short.ok) assert.equal(short.reason, 'too-short');
  });
});

describe('version 2, generated', () => {
  test('every packet round-trips in version 2 and keeps its version-1 body', () => {
    fc.assert(
      fc.property(packetArb, (packet) => {
        const v2 = encodePacket(packet, { version: 2, spoken: V12 });
        assert.deepEqual(decodePacket(v2, V12), { ok: true, packet });
        assert.deepEqual(v2.subarray(6), encodePacket(packet).subarray(4));
      }),
      { numRuns: 300 },
    );
  });

  test('random bytes behind a version-2 header never throw, and any accepted packet re-encodes to them', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 }), fc.uint8Array({ maxLength: 300 }), (min, max, tail) => {
        const input = Uint8Array.from([0x53, 0x52, 2, 0, min, max, ...tail]);
        let result;
        try {
          result = decodePacket(input, V12);
        } catch (e) {
          assert.fail(`decodePacket threw: ${String(e)}`);
        }
        if (result.ok) assert.deepEqual(encodePacket(result.packet, { version: 2, spoken: { min, max } }), input);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('envelope per version', () => {
  const sealed = (spoken: VersionRange, label = 'c'): GossipEnvelope =>
    new GossipEnvelope({ label, keyring: new Keyring([Buffer.alloc(32, 1)]), verifyIncoming: true, verifyOutgoing: true, spoken });

  test('a labelled, sealed version-2 packet opens at a 1-2 member and says its version', () => {
    const bytes = sealed(V12).seal(ping, 2);
    assert.deepEqual([...bytes.subarray(0, 6)], [0x53, 0x52, 2, 0x03, 1, 2]);
    assert.deepEqual(sealed(V12).openVersioned(bytes), { decoded: { ok: true, packet: ping }, version: 2 });
    assert.deepEqual(sealed(V12).openVersioned(sealed(V12).seal(ping, 1)), { decoded: { ok: true, packet: ping }, version: 1 });
  });

  test('the range bytes are authenticated: changing them fails decryption', () => {
    const bytes = Uint8Array.from(sealed(V12).seal(ping, 2));
    bytes[4] = 2; // claims 2-2
    const r = sealed(V12).open(bytes);
    assert.equal(r.ok, false);
    if (!r.ok) assert.equal(r.reason, 'decrypt-failed');
  });

  test('a 1-1 member refuses a version-2 packet; its envelope overhead is unchanged', () => {
    const r = sealed(VERSION_1_ONLY).open(sealed(V12).seal(ping, 2));
    assert.equal(r.ok, false);
    if (!r.ok) assert.equal(r.reason, 'unsupported-version');
    assert.equal(sealed(V12).overhead - sealed(VERSION_1_ONLY).overhead, 2);
  });
});
