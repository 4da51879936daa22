// The pre-decode scan: it must count exactly what the decoder would see, and never throw.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { status } from '@grpc/grpc-js';
import { membersToProto } from '../../src/grpc/convert.js';
import { boundedDeserializer } from '../../src/grpc/decode.js';
import { controlPlaneDefinition } from '../../src/grpc/proto.js';
import { scanRepeatedField } from '../../src/grpc/wire-scan.js';
import { encodeRequest, member } from './helpers.js';

describe('scanRepeatedField', () => {
  test('counts the member entries of an encoded NegotiateRequest, and finds the largest', () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 300 }), { maxLength: 40 }), fc.boolean(), fc.string({ maxLength: 20 }), (tagLengths, join, label) => {
        const members = tagLengths.map((n, i) => member(i, { meta: { appAddr: '', serving: false, tags: n > 0 ? { t: 'x'.repeat(Math.min(n, 255)) } : {} } }));
        const bytes = encodeRequest('Negotiate', { header: { protocolVersion: 1, label }, members: membersToProto(members), join });
        const scan = scanRepeatedField(bytes, 2);
        assert.ok(typeof scan !== 'string', String(scan));
        assert.equal(scan.count, members.length);
        const sizes = membersToProto(members).map((m) => encodeRequest('Negotiate', { members: [m] }).length);
        if (members.length === 0) assert.equal(scan.largestIndex, -1);
        else {
          // One-entry request = tag byte + length varint + entry.
          const entry = (n: number) => n - 1 - (n - 1 > 128 ? 2 : 1);
          const largest = Math.max(...sizes.map(entry));
          assert.equal(scan.largestBytes, largest);
          assert.equal(entry(sizes[scan.largestIndex] ?? 0), largest);
        }
        // The header (field 1) and join (field 3) are skipped, not counted.
        const headerScan = scanRepeatedField(bytes, 1);
        assert.ok(typeof headerScan !== 'string');
        assert.equal(headerScan.count, 1);
      }),
      { numRuns: 60 },
    );
  });

  test('refuses broken framing with a reason', () => {
    const cases: [number[], RegExp][] = [
      [[0x12, 0x05, 0x61], /length 5 runs past the end/],
      [[0x12], /truncated varint/],
      [[0x08], /truncated varint/],
      [[0x00, 0x01], /field number 0/],
      [[0x0b], /unsupported wire type 3/],
      [[0x09, 1, 2, 3], /truncated/],
      [[0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], /longer than 10 bytes/],
    ];
    for (const [bytes, reason] of cases) {
      const scan = scanRepeatedField(Uint8Array.from(bytes), 2);
      assert.equal(typeof scan, 'string', `${bytes.join(',')} accepted`);
      assert.match(String(scan), reason);
    }
    assert.deepEqual(scanRepeatedField(new Uint8Array(0), 2), { count: 0, largestBytes: 0, largestIndex: -1 });
  });

  test('never throws, and whatever it accepts the bounded deserializer returns without throwing', () => {
    const def = controlPlaneDefinition();
    const decode = boundedDeserializer('swimring.v1.NegotiateRequest', def.Negotiate.requestDeserialize, {
      fieldNumber: 2,
      field: 'members',
      maxCount: 10,
      maxEntryBytes: 8192,
    });
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const scan = scanRepeatedField(bytes, 2);
        assert.ok(typeof scan === 'string' || scan.count >= 0);
        const decoded = decode(Buffer.from(bytes));
        if (typeof scan === 'string') assert.equal(decoded.ok, false);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('boundedDeserializer', () => {
  test('a message of another RPC\'s type is refused INVALID_ARGUMENT naming the message expected, not with the decoder\'s text', () => {
    const def = controlPlaneDefinition();
    const closing = encodeRequest('Closing', { header: { protocolVersion: 1, label: 'x', sender: 'a', keyProof: Buffer.alloc(0) }, name: 'some-name', incarnation: 5 });
    const decoded = boundedDeserializer('swimring.v1.NegotiateRequest', def.Negotiate.requestDeserialize)(closing);
    assert.ok(!decoded.ok);
    assert.equal(decoded.rejection.code, status.INVALID_ARGUMENT);
    assert.equal(decoded.rejection.reason, 'malformed');
    assert.equal(
      decoded.rejection.message,
      'not a valid swimring.v1.NegotiateRequest: the bytes do not decode as one (a message of another type, or a field of the wrong type)',
    );
  });
});
