import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  DECODE_REJECT_REASONS,
  type DecodeRejectReason,
  type DecodeResult,
  decodePacket,
  encodePacket,
  MAX_INCARNATION,
  MAX_PACKET_BYTES,
} from '../../src/codec/index.js';
import type { Packet } from '../../src/core/types.js';
import { bytes, HEADER, packetArb, str, u16, u32, u64 } from './arbitraries.js';

/** Decodes, failing the test on a throw, and checks a rejection names a known reason. */
function decodeSafely(input: Uint8Array): DecodeResult {
  let result: DecodeResult;
  try {
    result = decodePacket(input);
  } catch (e) {
    assert.fail(`decodePacket threw: ${String(e)}`);
  }
  if (!result.ok) {
    assert.ok(DECODE_REJECT_REASONS.includes(result.reason), `unknown reason ${result.reason}`);
    assert.ok(result.detail.length > 0);
  }
  return result;
}

function assertRejected(input: Uint8Array, reason: DecodeRejectReason): void {
  const result = decodeSafely(input);
  assert.equal(result.ok, false, 'expected a rejection');
  if (!result.ok) assert.equal(result.reason, reason, result.detail);
}

/** Whatever decodes must re-encode to the same number of bytes: nothing was skipped or invented. */
function assertReencodes(input: Uint8Array, result: DecodeResult): void {
  if (!result.ok) return;
  const again = encodePacket(result.packet);
  assert.equal(again.length, input.length);
  assert.deepEqual(decodePacket(again), result);
}

const ackFromA = [...HEADER, 1, ...u16(0), 2, ...u32(9), ...str('a')];
const left = (name: number[], incarnation: number[]): Uint8Array =>
  bytes(...HEADER, 0, ...u16(1), 4, ...name, ...incarnation);
const alive = (metaFlags: number, tagsBlock: number[]): Uint8Array =>
  bytes(...HEADER, 0, ...u16(1), 1, ...str('n'), ...str('life'), ...u64(0, 5), ...str('g:1'), ...str('r:2'), ...str(''), metaFlags, ...tagsBlock);

describe('hostile input never throws', () => {
  test('random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (input) => {
        assertReencodes(input, decodeSafely(input));
      }),
      { numRuns: 2000 },
    );
  });

  test('random bytes behind a valid header and counts, so parsing goes deep', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1 }), fc.integer({ min: 0, max: 6 }), fc.uint8Array({ maxLength: 400 }), (messages, updates, body) => {
        const input = bytes(...HEADER, messages, ...u16(updates), body);
        assertReencodes(input, decodeSafely(input));
      }),
      { numRuns: 2000 },
    );
  });

  test('random bytes with type bytes that exist, so field readers get junk', () => {
    const junkPacket = fc
      .tuple(fc.integer({ min: 1, max: 4 }), fc.array(fc.tuple(fc.integer({ min: 1, max: 4 }), fc.uint8Array({ maxLength: 40 })), { maxLength: 4 }), fc.uint8Array({ maxLength: 40 }))
      .map(([messageType, updates, messageBody]) =>
        bytes(...HEADER, 1, ...u16(updates.length), messageType, messageBody, ...updates.flatMap(([t, b]) => [t, ...b])),
      );
    fc.assert(
      fc.property(junkPacket, (input) => {
        assertReencodes(input, decodeSafely(input));
      }),
      { numRuns: 2000 },
    );
  });

  test('every truncation of a valid packet is too-short or truncated', () => {
    fc.assert(
      fc.property(packetArb, (packet) => {
        const full = encodePacket(packet);
        for (let length = 0; length < full.length; length++) {
          assertRejected(full.subarray(0, length), length < 7 ? 'too-short' : 'truncated');
        }
      }),
      { numRuns: 50 },
    );
  });

  test('single bit flips in a valid packet', () => {
    fc.assert(
      fc.property(packetArb, fc.nat(), fc.integer({ min: 0, max: 7 }), (packet, at, bit) => {
        const flipped = encodePacket(packet).slice();
        const index = at % flipped.length;
        flipped[index] = (flipped[index] as number) ^ (1 << bit);
        assertReencodes(flipped, decodeSafely(flipped));
      }),
      { numRuns: 400 },
    );
  });

  test('a random byte overwritten in a valid packet', () => {
    fc.assert(
      fc.property(packetArb, fc.nat(), fc.integer({ min: 0, max: 255 }), (packet, at, value) => {
        const changed = encodePacket(packet).slice();
        changed[at % changed.length] = value;
        assertReencodes(changed, decodeSafely(changed));
      }),
      { numRuns: 400 },
    );
  });
});

describe('each rejection has its reason', () => {
  test('the hand-built base packet is valid', () => {
    assert.deepEqual(decodePacket(bytes(...ackFromA)), {
      ok: true,
      packet: { message: { type: 'ack', seq: 9, from: 'a' }, updates: [] },
    });
  });

  test('size limits are checked before parsing', () => {
    assertRejected(new Uint8Array(MAX_PACKET_BYTES + 1), 'too-large');
    assertRejected(bytes(...ackFromA, new Uint8Array(MAX_PACKET_BYTES + 1 - ackFromA.length)), 'too-large');
    // At the limit it is parsed: here the zero padding is left over after the packet.
    assertRejected(bytes(...ackFromA, new Uint8Array(MAX_PACKET_BYTES - ackFromA.length)), 'trailing-bytes');
    assertRejected(new Uint8Array(0), 'too-short');
    assertRejected(bytes(...HEADER, 0, 0), 'too-short');
  });

  test('magic, version and envelope flags', () => {
    assertRejected(bytes(0x53, 0x53, 1, 0, 0, 0, 0), 'bad-magic');
    assertRejected(bytes(0x7b, 0x22, 0x61, 0x22, 0x3a, 0x31, 0x7d), 'bad-magic'); // '{"a":1}'
    for (const version of [0, 2, 255]) assertRejected(bytes(0x53, 0x52, version, 0, 0, 0, 0), 'unsupported-version');
    for (const flags of [1, 0x80, 0xff]) assertRejected(bytes(0x53, 0x52, 1, flags, 0, 0, 0), 'unsupported-flags');
  });

  test('unknown message and update types', () => {
    for (const type of [0, 5, 255]) assertRejected(bytes(...HEADER, 1, ...u16(0), type, ...u32(1), ...str('a')), 'unknown-message-type');
    for (const type of [0, 5, 255]) assertRejected(bytes(...HEADER, 0, ...u16(1), type, ...str('a'), ...u64(0, 1)), 'unknown-update-type');
  });

  test('counts out of range', () => {
    assertRejected(bytes(...HEADER, 2, ...u16(0)), 'invalid-field');
    assertRejected(bytes(...HEADER, 0, ...u16(256)), 'too-many-updates');
    assertRejected(bytes(...HEADER, 0, ...u16(0xffff)), 'too-many-updates');
    // 255 announced but none present: within the limit, so it is a truncation.
    assertRejected(bytes(...HEADER, 0, ...u16(255)), 'truncated');
  });

  test('length fields longer than what is left', () => {
    assertRejected(bytes(...HEADER, 1, ...u16(0), 2, ...u32(9), 255, 0x61), 'truncated');
    assertRejected(bytes(...HEADER, 1, ...u16(0), 2, ...u32(9), 2, 0x61), 'truncated');
    assertRejected(bytes(...HEADER, 1, ...u16(0), 2, ...u32(9)), 'truncated');
    assertRejected(left(str('n'), [0, 0, 0, 0, 0, 0, 0]), 'truncated');
  });

  test('incarnation above the ceiling 2^50 is out of range, at 2^50 it is accepted', () => {
    assertRejected(left(str('n'), u64(0x4_0000, 1)), 'number-out-of-range'); // 2^50 + 1
    assertRejected(left(str('n'), u64(0x1f_ffff, 0xffff_ffff)), 'number-out-of-range'); // 2^53 - 1
    assertRejected(left(str('n'), u64(0x20_0000, 0)), 'number-out-of-range'); // 2^53
    assertRejected(left(str('n'), u64(0xffff_ffff, 0xffff_ffff)), 'number-out-of-range');
    assertRejected(bytes(...HEADER, 0, ...u16(1), 2, ...str('n'), ...u64(0x80_0000, 1), ...str('m')), 'number-out-of-range');
    assert.deepEqual(decodePacket(left(str('n'), u64(0x4_0000, 0))), {
      ok: true,
      packet: { message: null, updates: [{ kind: 'left', name: 'n', incarnation: MAX_INCARNATION }] },
    });
  });

  test('invalid UTF-8 in short and long strings', () => {
    const invalid = [
      [0xff],
      [0xc0, 0x80], // overlong NUL
      [0xe0, 0x80, 0xaf], // overlong '/'
      [0xed, 0xa0, 0x80], // UTF-16 surrogate
      [0xe2, 0x82], // cut-off sequence
      [0xf4, 0x90, 0x80, 0x80], // above U+10FFFF
      [0x80],
      [...new Array<number>(40).fill(0x61), 0xfe],
    ];
    for (const b of invalid) assertRejected(left([b.length, ...b], u64(0, 1)), 'bad-utf8');
    assertRejected(bytes(...HEADER, 1, ...u16(0), 2, ...u32(9), 1, 0xff), 'bad-utf8');
  });

  test('empty names', () => {
    assertRejected(left(str(''), u64(0, 1)), 'invalid-field');
    assertRejected(bytes(...HEADER, 1, ...u16(0), 3, ...u32(9), 0), 'invalid-field');
    assertRejected(bytes(...HEADER, 0, ...u16(1), 3, ...str('n'), ...u64(0, 1), 0), 'invalid-field');
  });

  test('meta: reserved flag bits, tags over the limit, empty and repeated keys', () => {
    assert.equal(decodePacket(alive(1, [0])).ok, true);
    assertRejected(alive(2, [0]), 'invalid-field');
    assertRejected(alive(0x81, [0]), 'invalid-field');
    const big = [...new Array<number>(250).fill(0x62)];
    // count + ("a", 250 bytes) + ("b", 250 bytes) = 1 + 253 + 253 = 507: fine.
    assert.equal(decodePacket(alive(0, [2, ...str('a'), 250, ...big, ...str('b'), 250, ...big])).ok, true);
    // A third pair of 2 + 3 bytes fills the block to exactly 512; one more value byte is too long.
    assert.equal(decodePacket(alive(0, [3, ...str('a'), 250, ...big, ...str('b'), 250, ...big, ...str('c'), ...str('bb')])).ok, true);
    assertRejected(alive(0, [3, ...str('a'), 250, ...big, ...str('b'), 250, ...big, ...str('c'), ...str('bbb')]), 'field-too-long');
    // A length running past the end of the packet is a truncation, found before the limit.
    assertRejected(alive(0, [3, ...str('a'), 250, ...big, ...str('b'), 250, ...big, ...str('c'), 200]), 'truncated');
    assertRejected(alive(0, [3, ...str('a'), 250, ...big, ...str('b'), 250, ...big, ...str('cdefg'), 0]), 'field-too-long');
    assertRejected(alive(0, [1, ...str(''), ...str('v')]), 'invalid-field');
    assertRejected(alive(0, [2, ...str('k'), ...str('v'), ...str('k'), ...str('w')]), 'invalid-field');
    assertRejected(alive(0, [2, ...str('k'), ...str('v')]), 'truncated');
  });

  test('trailing bytes', () => {
    assertRejected(bytes(...ackFromA, 0), 'trailing-bytes');
    const packet: Packet = { message: null, updates: [{ kind: 'left', name: 'x', incarnation: 1 }] };
    assertRejected(bytes(encodePacket(packet), 1, 2, 3), 'trailing-bytes');
  });

  test('the reasons are distinct, stable label values', () => {
    assert.equal(new Set(DECODE_REJECT_REASONS).size, DECODE_REJECT_REASONS.length);
    for (const reason of DECODE_REJECT_REASONS) assert.match(reason, /^[a-z0-9-]+$/);
  });
});
