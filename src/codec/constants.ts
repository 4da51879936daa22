// The numbers of wire format version 1. docs/wire.md is the specification; keep the two in step.

/**
 * Version 1: what every member speaks and what a peer of unknown range is sent. Any change to the
 * layout is a new version; a member speaks a range of them (protocol-version.ts, header.ts).
 */
export const WIRE_VERSION = 1;

/** "SR" (swimring): first two bytes of every packet, so stray datagrams are told apart cheaply. */
export const MAGIC_0 = 0x53;
export const MAGIC_1 = 0x52;

/** magic (2) + version (1) + envelope flags (1): the version-1 header (header.ts has the later ones). */
export const HEADER_SIZE = 4;
/** message count (u8, 0 or 1) + update count (u16). */
export const COUNTS_SIZE = 3;
/** Bytes every packet carries besides its message and updates. */
export const PACKET_OVERHEAD = HEADER_SIZE + COUNTS_SIZE;

/**
 * Envelope flags byte. Version 1 defines no bit: every bit must be zero. A later envelope (cluster
 * label, encryption) sets bits here and puts its own fields between the header and the body, leaving
 * the body layout as it is.
 */
export const ENVELOPE_FLAGS_NONE = 0;
/** A str8 cluster label (at least one byte) follows the header. */
export const ENVELOPE_FLAG_LABELLED = 0x01;
/** The body is sealed: 12-byte nonce, AES-256-GCM ciphertext of the body, 16-byte tag (src/security). */
export const ENVELOPE_FLAG_ENCRYPTED = 0x02;
export const ENVELOPE_FLAGS_KNOWN = ENVELOPE_FLAG_LABELLED | ENVELOPE_FLAG_ENCRYPTED;

/** Largest UDP payload over IPv4 (65,535 - 8 UDP - 20 IP). Larger input is refused before parsing. */
export const MAX_PACKET_BYTES = 65_507;
/** Bounds the work one packet can cause; the count field is u16 so this can grow without a new version. */
export const MAX_UPDATES_PER_PACKET = 255;
/** Strings (names, addresses, lifeIds, tag keys and values) carry a u8 byte length. */
export const MAX_STRING_BYTES = 255;
/** Whole tags block: count byte + every key and value with their length bytes. */
export const MAX_TAGS_BYTES = 512;
/**
 * Incarnations travel as u64 but only 0..2^50 is accepted: the core's ceiling (src/core/limits.ts),
 * far above any boot-time incarnation and far enough below 2^53 that adding one stays exact.
 */
export { MAX_INCARNATION } from '../core/limits.js';
export const MAX_SEQ = 0xffff_ffff;

// Type numbers. ONLY APPEND TO THESE TABLES: never renumber or reuse a number, or old and new members
// will read each other's packets wrongly. 0 is never a valid type.
export const MESSAGE_TYPE = {
  ping: 1,
  ack: 2,
  nack: 3,
  'ping-req': 4,
} as const;

export const UPDATE_TYPE = {
  alive: 1,
  suspect: 2,
  dead: 3,
  left: 4,
} as const;

/** Bits of the alive update's meta flags byte; unassigned bits must be zero. */
export const META_FLAG_SERVING = 0x01;
export const META_FLAGS_KNOWN = META_FLAG_SERVING;
