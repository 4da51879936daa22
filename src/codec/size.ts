// Exact encoded sizes, computed without allocating, so the core can fill a packet up to its byte
// budget and the simulator can count bytes. Invariant (tested): packetSize(p) === encodePacket(p).length.

import type { MemberMeta, Message, Packet, Update } from '../core/types.js';
import { PACKET_OVERHEAD } from './constants.js';
import { utf8Length } from './utf8.js';

const TYPE_BYTES = 1;
const SEQ_BYTES = 4;
const INCARNATION_BYTES = 8;
const META_FLAGS_BYTES = 1;
const TAG_COUNT_BYTES = 1;

/** A string on the wire: u8 byte length, then UTF-8 bytes. */
export function stringSize(s: string): number {
  return 1 + utf8Length(s);
}

/** The tags block: u8 count, then each key and value as strings. Bounded by MAX_TAGS_BYTES. */
export function tagsSize(tags: MemberMeta['tags']): number {
  let size = TAG_COUNT_BYTES;
  for (const key in tags) {
    if (!Object.hasOwn(tags, key)) continue;
    size += stringSize(key) + stringSize(tags[key] ?? '');
  }
  return size;
}

export function metaSize(meta: MemberMeta): number {
  return stringSize(meta.appAddr) + META_FLAGS_BYTES + tagsSize(meta.tags);
}

/** Bytes of one primary message, its type byte included. */
export function messageSize(m: Message): number {
  switch (m.type) {
    case 'ping':
      return TYPE_BYTES + SEQ_BYTES + stringSize(m.from) + stringSize(m.fromAddr) + stringSize(m.target);
    case 'ack':
    case 'nack':
      return TYPE_BYTES + SEQ_BYTES + stringSize(m.from);
    case 'ping-req':
      return (
        TYPE_BYTES +
        SEQ_BYTES +
        stringSize(m.from) +
        stringSize(m.fromAddr) +
        stringSize(m.target) +
        stringSize(m.targetAddr)
      );
  }
}

/** Bytes of one piggybacked update, its type byte included. */
export function updateSize(u: Update): number {
  switch (u.kind) {
    case 'alive':
      return (
        TYPE_BYTES +
        stringSize(u.name) +
        stringSize(u.lifeId) +
        INCARNATION_BYTES +
        stringSize(u.gossipAddr) +
        stringSize(u.grpcAddr) +
        metaSize(u.meta)
      );
    case 'suspect':
    case 'dead':
      return TYPE_BYTES + stringSize(u.name) + INCARNATION_BYTES + stringSize(u.from);
    case 'left':
      return TYPE_BYTES + stringSize(u.name) + INCARNATION_BYTES;
  }
}

/** Equals encodePacket(packet).length: PACKET_OVERHEAD + messageSize + the sum of updateSize. */
export function packetSize(packet: Packet): number {
  let size = PACKET_OVERHEAD;
  if (packet.message !== null) size += messageSize(packet.message);
  for (const u of packet.updates) size += updateSize(u);
  return size;
}

/** What the SWIM core and the simulator are given to measure packets against their byte budget. */
export const wireMeasure: {
  packetOverhead: number;
  messageSize(m: Message): number;
  updateSize(u: Update): number;
} = Object.freeze({ packetOverhead: PACKET_OVERHEAD, messageSize, updateSize });
