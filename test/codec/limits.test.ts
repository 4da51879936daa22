import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import {
  decodePacket,
  encodePacket,
  MAX_PACKET_BYTES,
  MAX_UPDATES_PER_PACKET,
  messageSize,
  PACKET_OVERHEAD,
  packetSize,
  updateSize,
} from '../../src/codec/index.js';
import type { Message, Packet, Update } from '../../src/core/types.js';
import { stringOfBytes } from './arbitraries.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** 10 bytes plus the name: type, name length, incarnation. */
const leftOfSize = (size: number, tag: string): Update => ({
  kind: 'left',
  name: tag + stringOfBytes(size - 10 - tag.length),
  incarnation: 1,
});

const aliveUpdate = (i: number): Update => ({
  kind: 'alive',
  name: `member-${i}.swimring.default.svc.cluster.local`,
  lifeId: `life-${i}-0f1e2d3c4b5a`,
  incarnation: 1_750_000_000_000 + i,
  gossipAddr: `10.1.${i}.7:7946`,
  grpcAddr: `10.1.${i}.7:7947`,
  meta: { appAddr: `10.1.${i}.7:8080`, serving: i % 2 === 0, tags: { zone: 'eu-west-1a', version: '1.4.2' } },
});

/** Fills a packet the way the core does (whole updates while they fit), then pads the gap exactly. */
function fillTo(budget: number, message: Message, makeUpdate: (i: number) => Update): Packet {
  const updates: Update[] = [];
  let size = PACKET_OVERHEAD + messageSize(message);
  for (let i = 0; ; i++) {
    const u = makeUpdate(i);
    if (size + updateSize(u) > budget) break;
    updates.push(u);
    size += updateSize(u);
  }
  let gap = budget - size;
  // The smallest update is 11 bytes, the largest 'left' 265: split the gap into pieces in that range.
  while (gap > 0) {
    const piece = gap <= 265 ? gap : Math.min(265, gap - 11);
    assert.ok(piece >= 11, `gap ${gap} cannot be padded`);
    updates.push(leftOfSize(piece, `pad${updates.length}-`));
    gap -= piece;
  }
  return { message, updates };
}

describe('packets at the size limits', () => {
  test('a packet built to exactly 1400 bytes encodes to 1400 bytes and round-trips', () => {
    const ping: Message = { type: 'ping', seq: 42, from: 'member-a', fromAddr: '10.1.0.1:7946', target: 'member-b' };
    const packet = fillTo(1400, ping, aliveUpdate);
    assert.ok(packet.updates.length > 3);
    assert.equal(packetSize(packet), 1400);
    const encoded = encodePacket(packet);
    assert.equal(encoded.length, 1400);
    assert.deepEqual(decodePacket(encoded), { ok: true, packet });

    // One byte more in any field is one byte over the budget, and the size says so before encoding.
    const last = packet.updates.at(-1);
    assert.ok(last?.kind === 'left');
    const over: Packet = { message: ping, updates: [...packet.updates.slice(0, -1), { ...last, name: `${last.name}x` }] };
    assert.equal(packetSize(over), 1401);
    assert.equal(encodePacket(over).length, 1401);
  });

  test(`a packet of exactly ${MAX_PACKET_BYTES} bytes encodes and decodes; one byte more is refused both ways`, () => {
    // Largest updates, so the byte limit is reached before the update-count limit.
    const packet = fillTo(MAX_PACKET_BYTES, { type: 'ack', seq: 1, from: 'a' }, (i) => leftOfSize(265, `big${i}-`));
    assert.ok(packet.updates.length <= MAX_UPDATES_PER_PACKET);
    const encoded = encodePacket(packet);
    assert.equal(encoded.length, MAX_PACKET_BYTES);
    assert.deepEqual(decodePacket(encoded), { ok: true, packet });

    const last = packet.updates.at(-1);
    assert.ok(last?.kind === 'left');
    const over: Packet = { ...packet, updates: [...packet.updates.slice(0, -1), { ...last, name: `${last.name}x` }] };
    assert.throws(() => encodePacket(over), { name: 'RangeError', message: /65508 bytes; at most 65507/ });
    const oneByteMore = new Uint8Array(MAX_PACKET_BYTES + 1);
    oneByteMore.set(encoded);
    const result = decodePacket(oneByteMore);
    assert.equal(result.ok ? 'ok' : result.reason, 'too-large');
  });

  test(`${MAX_UPDATES_PER_PACKET} updates encode; one more is refused`, () => {
    const updates = Array.from({ length: MAX_UPDATES_PER_PACKET }, (_, i): Update => ({ kind: 'left', name: `m${i}`, incarnation: i }));
    const packet: Packet = { message: null, updates };
    assert.deepEqual(decodePacket(encodePacket(packet)), { ok: true, packet });
    assert.throws(
      () => encodePacket({ message: null, updates: [...updates, { kind: 'left', name: 'one-more', incarnation: 1 }] }),
      { name: 'RangeError', message: /256 updates; at most 255/ },
    );
  });
});

describe('the byte layout is pinned (docs/wire.md example)', () => {
  const example: Packet = {
    message: { type: 'ping', seq: 0x0102_0304, from: 'a', fromAddr: '10.0.0.1:7946', target: 'b' },
    updates: [
      { kind: 'alive', name: 'a', lifeId: 'L', incarnation: 1, gossipAddr: 'g', grpcAddr: 'r', meta: { appAddr: '', serving: true, tags: { z: '1' } } },
      { kind: 'suspect', name: 'b', incarnation: 2, from: 'a' },
      { kind: 'dead', name: 'b', incarnation: 2 ** 32, from: 'a' },
      { kind: 'left', name: 'a', incarnation: 2 ** 50 },
    ],
  };
  const expected = [
    '53520100', // magic "SR", version 1, envelope flags 0
    '01' + '0004', // one message, four updates
    '01' + '01020304' + '0161' + '0d31302e302e302e313a37393436' + '0162', // ping
    '01' + '0161' + '014c' + '0000000000000001' + '0167' + '0172' + '00' + '01' + '01' + '017a' + '0131', // alive
    '02' + '0162' + '0000000000000002' + '0161', // suspect
    '03' + '0162' + '0000000100000000' + '0161', // dead
    '04' + '0161' + '0004000000000000', // left
  ].join('');

  test('encodes to the documented bytes', () => {
    assert.equal(hex(encodePacket(example)), expected);
    assert.equal(packetSize(example), expected.length / 2);
  });

  test('docs/wire.md shows these same bytes', () => {
    const doc = readFileSync(new URL('../../docs/wire.md', import.meta.url), 'utf8');
    const block = doc.split('## Example')[1]?.split('```')[1] ?? '';
    // Hex lines start at column 0; indented lines and text after two spaces are commentary.
    const documented = block
      .split('\n')
      .filter((line) => /^[0-9a-f]{2}[ 0-9a-f]*/.test(line))
      .map((line) => (line.split('  ')[0] ?? '').replace(/ /g, ''))
      .join('');
    assert.equal(documented, expected);
  });

  test('the documented bytes decode to the packet', () => {
    assert.deepEqual(decodePacket(Uint8Array.from(Buffer.from(expected, 'hex'))), { ok: true, packet: example });
  });

  test('a gossip-only packet is the header and two zero counts', () => {
    assert.equal(hex(encodePacket({ message: null, updates: [] })), '53520100' + '00' + '0000');
  });
});
