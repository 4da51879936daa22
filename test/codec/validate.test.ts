import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  encodePacket,
  MAX_TAGS_BYTES,
  validateMessageForWire,
  validatePacketForWire,
  validateUpdateForWire,
} from '../../src/codec/index.js';
import { tagsSize } from '../../src/codec/size.js';
import type { Message, Update } from '../../src/core/types.js';
import { fullTags, stringOfBytes } from './arbitraries.js';

const alive: Extract<Update, { kind: 'alive' }> = {
  kind: 'alive',
  name: 'node-1',
  lifeId: 'life',
  incarnation: 1,
  gossipAddr: '10.0.0.1:7946',
  grpcAddr: '10.0.0.1:7947',
  meta: { appAddr: '10.0.0.1:8080', serving: true, tags: { zone: 'a' } },
};
const withTags = (tags: Record<string, string>): Update => ({ ...alive, meta: { ...alive.meta, tags } });

// Each case: an update our own code might build wrong, and words the reason must contain.
const badUpdates: ReadonlyArray<readonly [string, Update, RegExp]> = [
  ['name over 255 bytes', { ...alive, name: stringOfBytes(256) }, /alive\.name is 256 UTF-8 bytes; at most 255/],
  ['multi-byte name over 255 bytes', { ...alive, name: stringOfBytes(256, '€') + '' }, /alive\.name is 256 UTF-8 bytes/],
  ['empty name', { ...alive, name: '' }, /alive\.name is empty/],
  ['lone surrogate', { ...alive, gossipAddr: 'a\uD800b' }, /alive\.gossipAddr holds a lone surrogate/],
  ['incarnation above the ceiling 2^50', { ...alive, incarnation: 2 ** 50 + 1 }, /alive\.incarnation .* not an integer/],
  ['incarnation 2^53-1', { ...alive, incarnation: Number.MAX_SAFE_INTEGER }, /alive\.incarnation .* not an integer/],
  ['negative incarnation', { kind: 'left', name: 'n', incarnation: -1 }, /left\.incarnation -1/],
  ['fractional incarnation', { kind: 'dead', name: 'n', incarnation: 1.5, from: 'm' }, /dead\.incarnation 1\.5/],
  ['NaN incarnation', { kind: 'suspect', name: 'n', incarnation: Number.NaN, from: 'm' }, /suspect\.incarnation NaN/],
  ['empty accuser', { kind: 'suspect', name: 'n', incarnation: 1, from: '' }, /suspect\.from is empty/],
  ['tags one byte over the limit', withTags({ ...fullTags(), k3: '' }), /tags encode to 516 bytes \(3 tags\); at most 512/],
  ['tags one byte over the limit, exactly', withTags({ k1: stringOfBytes(254), k2: stringOfBytes(250) }), /encode to 513 bytes/],
  ['tag value over 255 bytes', withTags({ k: stringOfBytes(256) }), /tags\["k"\] is 256 UTF-8 bytes/],
  ['empty tag key', withTags({ '': 'v' }), /empty key/],
  ['appAddr over 255 bytes', { ...alive, meta: { ...alive.meta, appAddr: stringOfBytes(300) } }, /appAddr is 300/],
];

describe('validateUpdateForWire', () => {
  test('valid updates, at the limits, pass', () => {
    assert.equal(validateUpdateForWire(alive), null);
    assert.equal(validateUpdateForWire({ ...alive, name: stringOfBytes(255, '😀'), incarnation: 2 ** 50 }), null);
    assert.equal(validateUpdateForWire(withTags(fullTags('é'))), null);
    assert.equal(validateUpdateForWire(withTags({})), null);
    assert.equal(validateUpdateForWire({ ...alive, lifeId: '', gossipAddr: '', meta: { ...alive.meta, appAddr: '' } }), null);
  });

  for (const [what, update, reason] of badUpdates) {
    test(`refuses ${what}, and encodePacket throws RangeError for it`, () => {
      const why = validateUpdateForWire(update);
      assert.ok(why !== null, 'expected a reason');
      assert.match(why, reason);
      assert.throws(() => encodePacket({ message: null, updates: [alive, update] }), {
        name: 'RangeError',
        message: new RegExp(`updates\\[1\\]: ${why.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`),
      });
    });
  }

  test(`the tags limit is ${MAX_TAGS_BYTES} bytes and the full-tags fixture sits exactly on it`, () => {
    assert.equal(MAX_TAGS_BYTES, 512);
    for (const unit of ['a', 'é', '€', '😀']) assert.equal(tagsSize(fullTags(unit)), MAX_TAGS_BYTES);
  });
});

describe('validateMessageForWire', () => {
  const ping: Message = { type: 'ping', seq: 1, from: 'a', fromAddr: 'x:1', target: 'b' };
  const badMessages: ReadonlyArray<readonly [string, Message, RegExp]> = [
    ['seq above u32', { ...ping, seq: 2 ** 32 }, /ping\.seq 4294967296 is not an integer in 0\.\.4294967295/],
    ['negative seq', { type: 'ack', seq: -1, from: 'a' }, /ack\.seq -1/],
    ['empty target', { ...ping, target: '' }, /ping\.target is empty/],
    ['long targetAddr', { type: 'ping-req', seq: 1, from: 'a', fromAddr: '', target: 'b', targetAddr: stringOfBytes(256) }, /ping-req\.targetAddr is 256/],
    ['empty from', { type: 'nack', seq: 1, from: '' }, /nack\.from is empty/],
  ];

  test('valid messages pass', () => {
    assert.equal(validateMessageForWire(ping), null);
    assert.equal(validateMessageForWire({ type: 'nack', seq: 2 ** 32 - 1, from: 'a' }), null);
  });

  for (const [what, message, reason] of badMessages) {
    test(`refuses ${what}, and encodePacket throws RangeError for it`, () => {
      const why = validateMessageForWire(message);
      assert.ok(why !== null);
      assert.match(why, reason);
      assert.throws(() => encodePacket({ message, updates: [] }), { name: 'RangeError' });
      assert.equal(validatePacketForWire({ message, updates: [] }), why);
    });
  }
});

describe('types that only plain JavaScript could pass', () => {
  test('an unknown kind or type is refused, not encoded', () => {
    const oddUpdate = { kind: 'zombie', name: 'n', incarnation: 1 } as unknown as Update;
    assert.match(validateUpdateForWire(oddUpdate) ?? '', /unknown update kind "zombie"/);
    const oddMessage = { type: 'pong', seq: 1, from: 'a' } as unknown as Message;
    assert.match(validateMessageForWire(oddMessage) ?? '', /unknown message type "pong"/);
    assert.throws(() => encodePacket({ message: oddMessage, updates: [] }), RangeError);
  });

  test('a non-string name or non-boolean serving is refused', () => {
    assert.match(validateUpdateForWire({ ...alive, name: 7 } as unknown as Update) ?? '', /alive\.name is not a string/);
    assert.match(
      validateUpdateForWire({ ...alive, meta: { ...alive.meta, serving: 'yes' } } as unknown as Update) ?? '',
      /serving is not a boolean/,
    );
  });
});
