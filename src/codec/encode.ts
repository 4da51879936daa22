// Packet -> bytes. One output buffer per packet, sized exactly by packetSize, written in place.

import type { MemberMeta, Message, Packet, Update } from '../core/types.js';
import { ENVELOPE_FLAGS_NONE, HEADER_SIZE, META_FLAG_SERVING, MESSAGE_TYPE, UPDATE_TYPE } from './constants.js';
import { headerSize, writeHeader } from './header.js';
import { VERSION_1_ONLY, type VersionRange } from './protocol-version.js';
import { writeUtf8 } from './utf8.js';
import { measurePacketForWire } from './validate.js';

const TWO_POW_32 = 0x1_0000_0000;

/** The version a packet is written in, and the range its header advertises from version 2 on. */
export interface WireVersion {
  readonly version: number;
  readonly spoken: VersionRange;
}

/** Version 1, what every member understands. */
export const WIRE_V1: WireVersion = Object.freeze({ version: 1, spoken: VERSION_1_ONLY });

/**
 * Encodes a packet. Throws RangeError only when our own code built the packet wrong (a name over
 * 255 bytes, an unsafe incarnation, too many updates...): validate local config with
 * validateUpdateForWire so that never happens at run time.
 */
export function encodePacket(packet: Packet, wire: WireVersion = WIRE_V1): Uint8Array {
  const sizeOrWhy = measurePacketForWire(packet);
  if (typeof sizeOrWhy === 'string') throw new RangeError(`swimring codec: cannot encode packet: ${sizeOrWhy}`);
  const out = new Uint8Array(sizeOrWhy + headerSize(wire.version) - HEADER_SIZE);
  const bodyAt = writeHeader(out, ENVELOPE_FLAGS_NONE, wire.version, wire.spoken);
  const end = writeBody(out, bodyAt, packet);
  if (end !== out.length) {
    // Sizes and writer disagree: a codec bug, never a bad packet.
    throw new RangeError(`swimring codec: wrote ${end} bytes, sized ${out.length}`);
  }
  return out;
}

/** The body (counts, message, updates) at `pos`, already validated; returns the end position. */
export function writeBody(out: Uint8Array, pos: number, packet: Packet): number {
  out[pos++] = packet.message === null ? 0 : 1;
  pos = writeU16(out, pos, packet.updates.length);
  if (packet.message !== null) pos = writeMessage(out, pos, packet.message);
  for (const u of packet.updates) pos = writeUpdate(out, pos, u);
  return pos;
}

function writeMessage(out: Uint8Array, pos: number, m: Message): number {
  out[pos++] = MESSAGE_TYPE[m.type];
  pos = writeU32(out, pos, m.seq);
  pos = writeString(out, pos, m.from);
  switch (m.type) {
    case 'ping':
      pos = writeString(out, pos, m.fromAddr);
      return writeString(out, pos, m.target);
    case 'ack':
    case 'nack':
      return pos;
    case 'ping-req':
      pos = writeString(out, pos, m.fromAddr);
      pos = writeString(out, pos, m.target);
      return writeString(out, pos, m.targetAddr);
  }
}

function writeUpdate(out: Uint8Array, pos: number, u: Update): number {
  out[pos++] = UPDATE_TYPE[u.kind];
  pos = writeString(out, pos, u.name);
  switch (u.kind) {
    case 'alive':
      pos = writeString(out, pos, u.lifeId);
      pos = writeU64(out, pos, u.incarnation);
      pos = writeString(out, pos, u.gossipAddr);
      pos = writeString(out, pos, u.grpcAddr);
      return writeMeta(out, pos, u.meta);
    case 'suspect':
    case 'dead':
      pos = writeU64(out, pos, u.incarnation);
      return writeString(out, pos, u.from);
    case 'left':
      return writeU64(out, pos, u.incarnation);
  }
}

function writeMeta(out: Uint8Array, pos: number, meta: MemberMeta): number {
  pos = writeString(out, pos, meta.appAddr);
  out[pos++] = meta.serving ? META_FLAG_SERVING : 0;
  const countAt = pos++;
  let count = 0;
  for (const key in meta.tags) {
    if (!Object.hasOwn(meta.tags, key)) continue;
    pos = writeString(out, pos, key);
    pos = writeString(out, pos, meta.tags[key] ?? '');
    count++;
  }
  out[countAt] = count;
  return pos;
}

/** The length byte is filled in after the bytes are written, sparing a second pass over `s`. */
function writeString(out: Uint8Array, pos: number, s: string): number {
  const end = writeUtf8(out, pos + 1, s);
  out[pos] = end - pos - 1;
  return end;
}

function writeU16(out: Uint8Array, pos: number, n: number): number {
  out[pos++] = n >>> 8;
  out[pos++] = n & 0xff;
  return pos;
}

function writeU32(out: Uint8Array, pos: number, n: number): number {
  out[pos++] = n >>> 24;
  out[pos++] = (n >>> 16) & 0xff;
  out[pos++] = (n >>> 8) & 0xff;
  out[pos++] = n & 0xff;
  return pos;
}

/** n is a safe integer (validated), so the high word is exact and `>>> 0` keeps the low 32 bits. */
function writeU64(out: Uint8Array, pos: number, n: number): number {
  pos = writeU32(out, pos, Math.floor(n / TWO_POW_32));
  return writeU32(out, pos, n >>> 0);
}
