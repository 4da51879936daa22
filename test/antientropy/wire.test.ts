// The digest RPCs' deserializers on hostile bytes: counted before decoding, refused with a status and
// a field, never thrown.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { DEFAULT_LIMITS } from '../../src/grpc/limits.js';
import { claimsFromProto, digestMethods, rootsFromProto } from '../../src/antientropy/wire.js';
import { MAX_FETCH_CLAIMS } from '../../src/antientropy/limits.js';

const methods = digestMethods(DEFAULT_LIMITS);

describe('digest wire bounds', () => {
  test('a FetchEntries request with too many claims is refused before decoding', () => {
    // Field 5 (claims), wire type 2, one byte each: MAX + 1 entries.
    const one = Buffer.from([(5 << 3) | 2, 1, 0x01]);
    const bytes = Buffer.concat(Array.from({ length: MAX_FETCH_CLAIMS + 1 }, () => one));
    const d = methods.FetchEntries.requestDeserialize(bytes);
    assert.equal(d.ok, false);
    if (!d.ok) {
      assert.equal(d.rejection.code, status.RESOURCE_EXHAUSTED);
      assert.match(d.rejection.message, /^claims: 262145 entries/);
    }
  });

  test('an oversized claim entry is refused with its index', () => {
    const big = Buffer.alloc(1000, 1);
    const bytes = Buffer.concat([Buffer.from([(5 << 3) | 2, 0xe8, 0x07]), big]);
    const d = methods.FetchEntries.requestDeserialize(bytes);
    assert.equal(d.ok, false);
    if (!d.ok) assert.match(d.rejection.message, /^claims\[0\]: 1000 bytes/);
  });

  test('truncated or garbage bytes are a refusal, not an exception', () => {
    for (const bytes of [Buffer.from([0x12, 0x40, 0x01]), Buffer.from([0xff, 0xff, 0xff]), Buffer.from([0x0f])]) {
      for (const m of Object.values(methods)) {
        const d = m.requestDeserialize(bytes);
        assert.equal(d.ok, false, `${m.name} on ${bytes.toString('hex')}`);
      }
    }
  });

  test('a GetLeaves request with a packed parents field longer than the bound is refused', () => {
    const n = 4096 * 5 + 1;
    const bytes = Buffer.concat([Buffer.from([(4 << 3) | 2, n & 0x7f | 0x80, (n >> 7) & 0x7f | 0x80, n >> 14]), Buffer.alloc(n, 0x01)]);
    const d = methods.GetLeaves.requestDeserialize(bytes);
    assert.equal(d.ok, false);
  });

  test('roots: a hash that is not 8 bytes or a repeated tree is refused, unknown trees skipped', () => {
    assert.match(String(rootsFromProto([{ tree: 'DIGEST_TREE_MEMBERS', root: Buffer.alloc(7), entries: 0, leaves: 256 }])), /8/);
    const twice = { tree: 'DIGEST_TREE_MEMBERS' as const, root: Buffer.alloc(8), entries: 0, leaves: 256 };
    assert.match(String(rootsFromProto([twice, twice])), /repeated/);
    assert.deepEqual(rootsFromProto([{ tree: 'DIGEST_TREE_UNSPECIFIED', root: Buffer.alloc(8), entries: 0, leaves: 256 }]), []);
  });

  test('claims that are not valid canonical records are refused with their index', () => {
    assert.match(String(claimsFromProto([Buffer.from([9, 9, 9])], 'claims')), /^claims\[0\]: /);
  });
});
