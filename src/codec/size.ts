// Exact encoded sizes, computed without allocating, so the core can fill a packet up to its byte
// budget and the simulator can count bytes. Invariant (tested): packetSize(p) === encodePacket(p).length.

import type { MemberMeta, Message, Packet, Update } from '../core/types.js';
import { fieldMeasure, type ByteMeasure } from '../core/measure.js';
import { PACKET_OVERHEAD } from './constants.js';
import { utf8Length } from './utf8.js';

const TYPE_BYTES = 1;
const SEQ_BYTES = 4;
const INCARNATION_BYTES = 8;
const META_FLAGS_BYTES = 1;
const TAG_COUNT_BYTES = 1;
const STRING_LENGTH_BYTES = 1;

/** A string on the wire: u8 byte length, then UTF-8 bytes. */
export function stringSize(s: string): number {
  return STRING_LENGTH_BYTES + utf8Length(s);
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

/** What the SWIM core and the simulator are given to measure packets against their byte budget. */
export const wireMeasure: ByteMeasure = Object.freeze(
  fieldMeasure({
    packetOverhead: PACKET_OVERHEAD,
    type: TYPE_BYTES,
    seq: SEQ_BYTES,
    incarnation: INCARNATION_BYTES,
    stringLength: STRING_LENGTH_BYTES,
    metaFlags: META_FLAGS_BYTES,
    tagCount: TAG_COUNT_BYTES,
  }),
);

/** Bytes of one primary message, its type byte included. */
export const messageSize = (m: Message): number => wireMeasure.messageSize(m);

/** Bytes of one piggybacked update, its type byte included. */
export const updateSize = (u: Update): number => wireMeasure.updateSize(u);

/** Equals encodePacket(packet).length: PACKET_OVERHEAD + messageSize + the sum of updateSize. */
export function packetSize(packet: Packet): number {
  let size = PACKET_OVERHEAD;
  if (packet.message !== null) size += messageSize(packet.message);
  for (const u of packet.updates) size += updateSize(u);
  return size;
}
