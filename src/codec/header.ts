// The packet header, per version (docs/wire.md "Versions and rolling upgrades"):
//
//   version 1:       53 52 01 flags
//   version 2 on:    53 52 VV flags MIN MAX     MIN-MAX: the versions the sender speaks
//
// Bytes 0-5 keep this meaning in every version from 2 on, so a member can say which versions the
// sender of a packet it cannot read speaks, and a refusal names both sides.
import { HEADER_SIZE, MAGIC_0, MAGIC_1, MAX_PACKET_BYTES, PACKET_OVERHEAD } from './constants.js';
import { formatRange, speaks, type VersionRange } from './protocol-version.js';
import type { DecodeRejectReason } from './reasons.js';

/** MIN and MAX, one byte each, after the flags in every header from version 2 on. */
export const RANGE_FIELD_SIZE = 2;

/** Bytes of the header in `version`: 4 for version 1, 6 from version 2 on. */
export function headerSize(version: number): number {
  return version === 1 ? HEADER_SIZE : HEADER_SIZE + RANGE_FIELD_SIZE;
}

export interface PacketHeader {
  readonly version: number;
  readonly flags: number;
  /** The sender's advertised range; null for a version-1 packet, which carries none. */
  readonly senderRange: VersionRange | null;
  /** Where the envelope (or, for a bare packet, the body) starts. */
  readonly end: number;
}

export type HeaderResult =
  | { readonly ok: true; readonly header: PacketHeader }
  | { readonly ok: false; readonly reason: DecodeRejectReason; readonly detail: string };

/**
 * Size, magic and version checks, in the order docs/wire.md lists them, then the header's fields.
 * `spoken` is the range this member accepts. The flags byte is returned unchecked: the bare decoder
 * and the envelope check it each their own way.
 */
export function readHeader(bytes: Uint8Array, spoken: VersionRange): HeaderResult {
  if (bytes.length > MAX_PACKET_BYTES) return refuse('too-large', `${bytes.length} bytes; at most ${MAX_PACKET_BYTES}`);
  if (bytes.length < PACKET_OVERHEAD) return refuse('too-short', `${bytes.length} bytes; at least ${PACKET_OVERHEAD}`);
  if (bytes[0] !== MAGIC_0 || bytes[1] !== MAGIC_1) return refuse('bad-magic', 'first two bytes are not "SR"');
  const version = bytes[2] as number;
  const flags = bytes[3] as number;
  const claimed = version >= 2 ? ([bytes[4] as number, bytes[5] as number] as const) : null;
  if (!speaks(spoken, version)) {
    const sender = claimed === null ? '' : ` (the sender speaks ${claimed[0]}-${claimed[1]})`;
    return refuse('unsupported-version', `version ${version}${sender}; this member speaks ${formatRange(spoken)}`);
  }
  if (claimed === null) return { ok: true, header: { version, flags, senderRange: null, end: HEADER_SIZE } };
  const end = headerSize(version);
  if (bytes.length < end + PACKET_OVERHEAD - HEADER_SIZE) {
    return refuse('too-short', `${bytes.length} bytes; a version ${version} packet has at least ${end + PACKET_OVERHEAD - HEADER_SIZE}`);
  }
  const [min, max] = claimed;
  if (min < 1 || min > version || max < version) {
    return refuse('invalid-field', `header range ${min}-${max} does not contain the packet's version ${version}`);
  }
  return { ok: true, header: { version, flags, senderRange: { min, max }, end } };
}

/** Writes the header of `version` (with `spoken` as the range from version 2 on); returns its end. */
export function writeHeader(out: Uint8Array, envelopeFlags: number, version: number, spoken: VersionRange): number {
  out[0] = MAGIC_0;
  out[1] = MAGIC_1;
  out[2] = version;
  out[3] = envelopeFlags;
  if (version === 1) return HEADER_SIZE;
  out[4] = spoken.min;
  out[5] = spoken.max;
  return HEADER_SIZE + RANGE_FIELD_SIZE;
}

function refuse(reason: DecodeRejectReason, detail: string): HeaderResult {
  return { ok: false, reason, detail };
}
