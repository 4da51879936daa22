// MemberRecord <-> proto: records survive the wire exactly; every bound is enforced with a message
// naming the field.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import * as grpc from '@grpc/grpc-js';
import { tagsSize } from '../../src/codec/size.js';
import type { MemberRecord, MemberState } from '../../src/core/types.js';
import {
  checkAddress,
  checkIncarnation,
  checkName,
  contextFromHeader,
  memberFromProto,
  membersFromProto,
  membersToProto,
} from '../../src/grpc/convert.js';
import { isRejection } from '../../src/grpc/errors.js';
import { resolveLimits } from '../../src/grpc/limits.js';
import { controlPlaneDefinition } from '../../src/grpc/proto.js';
import { encodeRequest, member } from './helpers.js';

const limits = resolveLimits();

const text = (min: number, max: number) =>
  fc
    .string({ unit: 'grapheme', minLength: min, maxLength: max })
    .filter((s) => !/[\u0000-\u001f\u007f]/.test(s) && Buffer.byteLength(s) <= 253 && Buffer.byteLength(s) >= min);
const port = fc.integer({ min: 1, max: 65535 });
const host = fc.oneof(
  fc.ipV4(),
  fc.domain().filter((d) => d.length <= 200),
  fc.ipV6().map((h) => `[${h}]`),
);
const address = fc.tuple(host, port).map(([h, p]) => `${h}:${p}`);
const tags = fc
  .dictionary(text(1, 20), fc.string({ maxLength: 30 }).filter((s) => !/[\u0000-\u001f\u007f]/.test(s)), { maxKeys: 8 })
  .filter((t) => tagsSize(t) <= 512 && !Object.hasOwn(t, '__proto__'));
const memberArb: fc.Arbitrary<MemberRecord> = fc.record({
  name: text(1, 40),
  lifeId: text(1, 40),
  incarnation: fc.oneof(fc.nat(), fc.constant(2 ** 50), fc.integer({ min: 1_600_000_000_000, max: 2_000_000_000_000 })),
  state: fc.constantFrom<MemberState>('alive', 'suspect', 'dead', 'left'),
  gossipAddr: address,
  grpcAddr: address,
  meta: fc.record({ appAddr: fc.oneof(fc.constant(''), address), serving: fc.boolean(), tags }),
}).map((m) => ({ ...m, meta: { ...m.meta, tags: { ...m.meta.tags } } })); // plain prototypes, as decoded

/** What a peer's records look like after the wire: encode with the generated serializer, decode back. */
function throughWire(members: readonly MemberRecord[]) {
  const def = controlPlaneDefinition();
  return def.Negotiate.requestDeserialize(encodeRequest('Negotiate', { members: membersToProto(members) })).members;
}

describe('convert', () => {
  test('any valid record list survives memberToProto -> wire -> membersFromProto exactly', () => {
    fc.assert(
      fc.property(fc.uniqueArray(memberArb, { selector: (m) => m.name, maxLength: 6 }), (members) => {
        const back = membersFromProto(throughWire(members), 'members', limits);
        assert.ok(!isRejection(back), isRejection(back) ? back.message : '');
        assert.deepEqual(back, members);
      }),
      { numRuns: 150 },
    );
  });

  test('incarnation: 0 to the ceiling 2^50, nothing beyond', () => {
    assert.equal(checkIncarnation('0', 'i'), 0);
    assert.equal(checkIncarnation('1125899906842624', 'i'), 2 ** 50);
    assert.equal(checkIncarnation(42, 'i'), 42);
    for (const over of ['1125899906842625', '9007199254740991', '9007199254740992']) {
      const r = checkIncarnation(over, 'members[0].incarnation');
      assert.ok(isRejection(r), `${over} accepted`);
      assert.equal(r.reason, 'incarnation-out-of-range');
      assert.equal(r.code, grpc.status.INVALID_ARGUMENT);
    }
    for (const bad of ['9007199254740992', '18446744073709551615', '-1', '1.5', '', 'abc', null]) {
      const r = checkIncarnation(bad, 'members[2].incarnation');
      assert.ok(isRejection(r), `${String(bad)} accepted`);
      assert.equal(r.code, grpc.status.INVALID_ARGUMENT);
      assert.match(r.message, /^members\[2\]\.incarnation: /);
    }
  });

  test('addresses: host:port and [v6]:port with port 1-65535, as written', () => {
    for (const good of ['10.0.0.1:7946', 'pod-1.svc.cluster.local:7947', '[::1]:80', '[fd00::1]:65535', `${'a'.repeat(249)}:7946`]) {
      assert.equal(checkAddress(good, 'a'), good);
    }
    const bad: [unknown, RegExp][] = [
      ['', /is empty/],
      [' 10.0.0.1:1', /surrounding spaces/],
      ['10.0.0.1', /missing ":port"/],
      ['10.0.0.1:0', /port 0/],
      ['10.0.0.1:65536', /outside 1-65535/],
      ['::1:80', /\[addr\]:port/],
      ['[zz]:80', /not an IPv6 address/],
      ['h o:1', /not a valid host name/],
      [`${'a'.repeat(251)}:7946`, /longer than 255 bytes/],
      [7946, /is not a string/],
    ];
    for (const [value, reason] of bad) {
      const r = checkAddress(value, 'members[0].gossip_addr');
      assert.ok(isRejection(r), `${String(value)} accepted`);
      assert.match(r.message, /^members\[0\]\.gossip_addr: /);
      assert.match(r.message, reason);
    }
  });

  test('names: 1 to 253 bytes of UTF-8 (counted in bytes, not characters), no control characters', () => {
    assert.equal(checkName('é'.repeat(126), 'n'), 'é'.repeat(126)); // 252 bytes
    assert.ok(isRejection(checkName('é'.repeat(127), 'n'))); // 254 bytes
    assert.ok(isRejection(checkName('a\u007fb', 'n')));
    assert.ok(isRejection(checkName('\ud800', 'n')));
  });

  test('tags: keys non-empty, strings at most 255 bytes, block within maxTagsBytes', () => {
    const withTags = (t: Record<string, string>) => membersFromProto(throughWire([member(1, { meta: { appAddr: '', serving: true, tags: t } })]), 'members', limits);
    assert.ok(!isRejection(withTags({ k: 'v'.repeat(255) })));
    const long = withTags({ k: 'v'.repeat(256) });
    assert.ok(isRejection(long));
    assert.match(long.message, /^members\[0\]\.meta\.tags\["k"\]: value is longer than 255 bytes/);
    // Count byte, then a length byte before each key and value: 1 + 2 * (2 + 1 + 99 + 2 + 1 + 150) = 511.
    const fits = { a: 'x'.repeat(99), b: 'y'.repeat(150), c: 'z'.repeat(99), d: 'w'.repeat(150) };
    assert.equal(tagsSize(fits), 511);
    assert.ok(!isRejection(withTags(fits)));
    const over = withTags({ ...fits, e: 'q' });
    assert.ok(isRejection(over));
    assert.match(over.message, /tags: 5\d\d bytes encoded, limit 512/);
    // A smaller configured limit applies.
    const small = membersFromProto(throughWire([member(1)]), 'members', resolveLimits({ maxTagsBytes: 4 }));
    assert.ok(isRejection(small));
  });

  test('a record with every field missing is refused on its first field', () => {
    const r = memberFromProto(
      { name: '', lifeId: '', incarnation: '0', state: 'MEMBER_STATE_UNSPECIFIED', gossipAddr: '', grpcAddr: '', meta: null },
      'members[0]',
      limits,
    );
    assert.ok(isRejection(r));
    assert.equal(r.message, 'members[0].name: is empty (must be 1 to 253 bytes)');
  });

  test('member count beyond maxMembers is RESOURCE_EXHAUSTED', () => {
    const r = membersFromProto(throughWire([member(1), member(2), member(3)]), 'members', resolveLimits({ maxMembers: 2 }));
    assert.ok(isRejection(r));
    assert.equal(r.code, grpc.status.RESOURCE_EXHAUSTED);
    assert.equal(r.reason, 'too-many-members');
    assert.equal(r.message, 'members: 3 member records, limit 2');
  });

  test('request header: version 0 reads as 1, other versions are FAILED_PRECONDITION, label bounded', () => {
    const ok = contextFromHeader({ protocolVersion: 0, label: 'prod', sender: 'pod-1' }, 'ipv4:1.2.3.4:5');
    const v1 = { min: 1, max: 1 };
    assert.deepEqual(ok, { protocolVersion: 1, protocolRange: v1, label: 'prod', sender: 'pod-1', peer: 'ipv4:1.2.3.4:5' });
    assert.deepEqual(contextFromHeader(null, 'p'), { protocolVersion: 1, protocolRange: v1, label: '', sender: '', peer: 'p' });
    const v2 = contextFromHeader({ protocolVersion: 2, label: '', sender: '' }, 'p');
    assert.ok(isRejection(v2));
    assert.equal(v2.code, grpc.status.FAILED_PRECONDITION);
    // A caller with a range is served at the highest version both speak.
    const ranged = contextFromHeader({ protocolVersion: 1, minProtocolVersion: 1, maxProtocolVersion: 2, label: '', sender: '' }, 'p', { min: 1, max: 2 });
    assert.ok(!isRejection(ranged));
    assert.equal(ranged.protocolVersion, 2);
    const disjoint = contextFromHeader({ protocolVersion: 2, minProtocolVersion: 2, maxProtocolVersion: 2, label: '', sender: '' }, 'p');
    assert.ok(isRejection(disjoint));
    assert.equal(disjoint.code, grpc.status.FAILED_PRECONDITION);
    assert.equal(disjoint.reason, 'unsupported-version');
    const longLabel = contextFromHeader({ protocolVersion: 1, label: 'l'.repeat(256), sender: '' }, 'p');
    assert.ok(isRejection(longLabel));
    assert.match(longLabel.message, /^header\.label: is longer than 255 bytes/);
  });
});
