import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { wireMeasure } from '../../src/codec/index.js';
import { cachedUpdateSize, estimateMeasure, utf8Length } from '../../src/core/measure.js';
import type { ByteMeasure } from '../../src/core/measure.js';
import type { Message, Update } from '../../src/core/types.js';
import { alive } from './harness.js';

const text = fc.string({ maxLength: 60, unit: 'grapheme' });
const nat = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
const tags = fc.dictionary(fc.string({ minLength: 1, maxLength: 20 }), fc.string({ maxLength: 40 }), { maxKeys: 5 });
const anyUpdate: fc.Arbitrary<Update> = fc.oneof(
  fc.record({ name: text, lifeId: text, incarnation: nat, gossipAddr: text, grpcAddr: text, appAddr: text, serving: fc.boolean(), tags }).map(
    (u): Update => ({ kind: 'alive', name: u.name, lifeId: u.lifeId, incarnation: u.incarnation, gossipAddr: u.gossipAddr, grpcAddr: u.grpcAddr, meta: { appAddr: u.appAddr, serving: u.serving, tags: u.tags } }),
  ),
  fc.record({ name: text, incarnation: nat, from: text }).map((u): Update => ({ kind: 'suspect', ...u })),
  fc.record({ name: text, incarnation: nat, from: text }).map((u): Update => ({ kind: 'dead', ...u })),
  fc.record({ name: text, incarnation: nat }).map((u): Update => ({ kind: 'left', ...u })),
);
const anyMessage: fc.Arbitrary<Message> = fc.oneof(
  fc.record({ seq: fc.nat(), from: text, fromAddr: text, target: text }).map((m): Message => ({ type: 'ping', ...m })),
  fc.record({ seq: fc.nat(), from: text }).map((m): Message => ({ type: 'ack', ...m })),
  fc.record({ seq: fc.nat(), from: text }).map((m): Message => ({ type: 'nack', ...m })),
  fc.record({ seq: fc.nat(), from: text, fromAddr: text, target: text, targetAddr: text }).map((m): Message => ({ type: 'ping-req', ...m })),
);

describe('estimateMeasure', () => {
  test('utf8Length counts UTF-8 bytes', () => {
    fc.assert(fc.property(fc.string({ unit: 'grapheme' }), (s) => utf8Length(s) === new TextEncoder().encode(s).length));
  });

  test('never underestimates the wire format (a core without the codec still fits its budget)', () => {
    assert.ok(estimateMeasure.packetOverhead >= wireMeasure.packetOverhead);
    fc.assert(fc.property(anyUpdate, (u) => estimateMeasure.updateSize(u) >= wireMeasure.updateSize(u)));
    fc.assert(fc.property(anyMessage, (m) => estimateMeasure.messageSize(m) >= wireMeasure.messageSize(m)));
  });

  test('sizes are measured once per update object', () => {
    let calls = 0;
    const counting: ByteMeasure = { packetOverhead: 0, messageSize: () => 0, updateSize: () => ++calls };
    const u = alive('b');
    assert.equal(cachedUpdateSize(counting, u), 1);
    assert.equal(cachedUpdateSize(counting, u), 1);
    assert.equal(cachedUpdateSize(counting, alive('b')), 2, 'another object is measured again');
  });
});
