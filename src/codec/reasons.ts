// Why a packet was refused. Each reason becomes a metric label value, so the set is small and fixed;
// `detail` carries the specifics for the log (offsets and numbers only, never the untrusted bytes).

import type { Packet } from '../core/types.js';

export const DECODE_REJECT_REASONS = [
  /** Shorter than the fixed header and counts (7 bytes). */
  'too-short',
  /** Longer than MAX_PACKET_BYTES; refused before parsing. */
  'too-large',
  /** Not a swimring packet: the first two bytes are not "SR". */
  'bad-magic',
  /** A format version this build does not speak. */
  'unsupported-version',
  /** Envelope flag bits this build does not understand (version 1 defines none). */
  'unsupported-flags',
  'unknown-message-type',
  'unknown-update-type',
  /** A field runs past the end of the packet. */
  'truncated',
  /** A length within the packet but over a format limit (the tags block). */
  'field-too-long',
  /** A string that is not strict UTF-8. */
  'bad-utf8',
  /** An incarnation above MAX_INCARNATION (2^50), a value no member can produce. */
  'number-out-of-range',
  'too-many-updates',
  /** Bytes left over after the last update. */
  'trailing-bytes',
  /** A value the format forbids: empty name, reserved bits set, duplicate tag key, message count > 1. */
  'invalid-field',
  // The envelope (docs/wire.md "Envelope"), checked by src/security/envelope.ts before the body.
  /** Another cluster's label, a label where none is expected, or none where one is. */
  'label-mismatch',
  /** Encrypted, but no installed key opens it (another key, tampered bytes, another label as AAD). */
  'decrypt-failed',
  /** Plaintext while this member requires encryption (--gossip-verify-incoming). */
  'plaintext-refused',
  /** Encrypted, but this member has no keyring. */
  'encrypted-unexpected',
] as const;

export type DecodeRejectReason = (typeof DECODE_REJECT_REASONS)[number];

export type DecodeResult =
  | { readonly ok: true; readonly packet: Packet }
  | { readonly ok: false; readonly reason: DecodeRejectReason; readonly detail: string };

/**
 * Thrown inside the decoder only and always caught by it. Not an Error: no stack trace is captured,
 * so refusing a flood of junk stays cheap.
 */
export class DecodeRejection {
  constructor(
    readonly reason: DecodeRejectReason,
    readonly detail: string,
  ) {}
}
