import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  decodePacket,
  encodePacket,
  MAX_INCARNATION,
  messageSize,
  PACKET_OVERHEAD,
  packetSize,
  updateSize,
  validateMessageForWire,
  validateUpdateForWire,
  wireMeasure,
} from '../../src/codec/index.js';
import type { Packet } from '../../src/core/types.js';
import { fullTags, packetArb, stringOfBytes } from './arbitraries.js';

describe('round trip', () => {
  test('any valid packet decodes to a deep-equal packet', () => {
    fc.assert(
      fc.property(packetArb, (packet) => {
        assert.deepEqual(decodePacket(encodePacket(packet)), { ok: true, packet });
      }),
      { numRuns: 250 },
    );
  });

  test('packetSize is the encoded length, and the sum of overhead, message and updates', () => {
    fc.assert(
      fc.property(packetArb, (packet) => {
        const size = packetSize(packet);
        assert.equal(size, encodePacket(packet).length);
        const parts =
          wireMeasure.packetOverhead +
          (packet.message === null ? 0 : wireMeasure.messageSize(packet.message)) +
          packet.updates.reduce((sum, u) => sum + wireMeasure.updateSize(u), 0);
        assert.equal(parts, size);
      }),
      { numRuns: 250 },
    );
  });

  test('every generated message and update passes validation', () => {
    fc.assert(
      fc.property(packetArb, (packet) => {
        if (packet.message !== null) assert.equal(validateMessageForWire(packet.message), null);
        for (const u of packet.updates) assert.equal(validateUpdateForWire(u), null);
      }),
    );
  });

  test('boundary values survive: 255-byte names, max incarnation, max seq, a full tags block', () => {
    const name = stringOfBytes(255, '😀');
    const packet: Packet = {
      message: { type: 'ping-req', seq: 0xffff_ffff, from: name, fromAddr: stringOfBytes(255), target: 'b', targetAddr: '' },
      updates: [
        {
          kind: 'alive',
          name,
          lifeId: stringOfBytes(255, 'é'),
          incarnation: MAX_INCARNATION,
          gossipAddr: '[::1]:7946',
          grpcAddr: '[::1]:7947',
          meta: { appAddr: '', serving: true, tags: fullTags('€') },
        },
        { kind: 'left', name: '\uFEFFbom-first', incarnation: 0 },
      ],
    };
    const encoded = encodePacket(packet);
    assert.deepEqual(decodePacket(encoded), { ok: true, packet });
    assert.equal(encoded.length, packetSize(packet));
  });

  test('a "__proto__" tag stays an own tag and does not change the prototype', () => {
    const tags: Record<string, string> = {};
    Object.defineProperty(tags, '__proto__', { value: 'x', enumerable: true, writable: true, configurable: true });
    const packet: Packet = {
      message: null,
      updates: [
        { kind: 'alive', name: 'a', lifeId: 'l', incarnation: 1, gossipAddr: 'g', grpcAddr: 'r', meta: { appAddr: '', serving: false, tags } },
      ],
    };
    const result = decodePacket(encodePacket(packet));
    assert.ok(result.ok);
    const update = result.packet.updates[0];
    assert.ok(update?.kind === 'alive');
    assert.equal(Object.getPrototypeOf(update.meta.tags), Object.prototype);
    assert.deepEqual(Object.entries(update.meta.tags), [['__proto__', 'x']]);
  });

  test('decodes from a view with a byte offset (a pooled Buffer slice)', () => {
    const packet: Packet = { message: { type: 'ack', seq: 7, from: 'node-1' }, updates: [] };
    const encoded = encodePacket(packet);
    const backing = new Uint8Array(encoded.length + 10).fill(0xee);
    backing.set(encoded, 5);
    assert.deepEqual(decodePacket(backing.subarray(5, 5 + encoded.length)), { ok: true, packet });
  });

  test('sizes of small fixed packets', () => {
    assert.equal(PACKET_OVERHEAD, 7);
    assert.equal(messageSize({ type: 'ack', seq: 1, from: 'a' }), 1 + 4 + 2);
    assert.equal(updateSize({ kind: 'left', name: 'é', incarnation: 3 }), 1 + 3 + 8);
    assert.equal(packetSize({ message: null, updates: [] }), 7);
  });
});
