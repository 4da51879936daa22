// Canonical bytes of one ClaimRecord and the bounds every record must meet. Two members holding the
// same record produce the same bytes, so the digest anti-entropy can hash them.
//
// Layout, version 2 (all integers big-endian):
//   u8  format version (2)
//   u8  id length,        id bytes (UTF-8)
//   u8  owner length,     owner bytes (UTF-8)
//   u8  life id length,   life id bytes (UTF-8)
//   u8  flags: bit 0 = released, bit 1 = has expiry
//   u64 ownerIncarnation
//   u64 claimedAtMs       (hybrid clock, physical)
//   u16 claimedAtLogical  (hybrid clock, logical)
//   u64 fence
//   u64 expiresAtMs, u64 ttlMs   (only when bit 1 is set)
// Version 1 (no logical, fence or TTL; written by earlier releases) is still read: logical 0, the
// fence of its claim stamp, and the TTL from first claim to expiry (the longest it can have left).
// It is also written, for a peer that reads only version 1 (record-versions.ts): the same bytes as
// version 2 up to and including the claim stamp's physical part, then u64 expiresAtMs when bit 1 is set.
import { strictUtf8Length, writeUtf8 } from '../codec/utf8.js';
import { MAX_LOGICAL, packStamp } from './hlc.js';
import { MAX_CLAIM_ID_BYTES, MAX_OWNER_LIFE_ID_BYTES, MAX_OWNER_NAME_BYTES, type ClaimRecord } from './types.js';

export const CLAIM_ENCODING_VERSION = 2;
export const CLAIM_ENCODING_V1 = 1;
const FLAG_RELEASED = 1;
const FLAG_EXPIRES = 2;
/** Largest encoded record: header bytes, three strings at their bounds, five u64 and a u16. */
export const MAX_ENCODED_CLAIM_BYTES = 1 + 1 + MAX_CLAIM_ID_BYTES + 1 + MAX_OWNER_NAME_BYTES + 1 + MAX_OWNER_LIFE_ID_BYTES + 1 + 42;
const MAX_FENCE = (1n << 64n) - 1n;

/** null when `record` meets every bound, else why not (for logs and error details). */
export function validateClaimRecord(record: ClaimRecord): string | null {
  const idBytes = strictUtf8Length(record.id);
  if (idBytes < 1 || idBytes > MAX_CLAIM_ID_BYTES) return `id must be 1..${MAX_CLAIM_ID_BYTES} UTF-8 bytes`;
  const ownerBytes = strictUtf8Length(record.owner);
  if (ownerBytes < 1 || ownerBytes > MAX_OWNER_NAME_BYTES) return `owner must be 1..${MAX_OWNER_NAME_BYTES} UTF-8 bytes`;
  if (record.owner.includes('\u0000')) return 'owner must not contain NUL';
  const lifeBytes = strictUtf8Length(record.ownerLifeId);
  if (lifeBytes < 0 || lifeBytes > MAX_OWNER_LIFE_ID_BYTES) return `owner life id must be 0..${MAX_OWNER_LIFE_ID_BYTES} UTF-8 bytes`;
  if (!isTimestamp(record.ownerIncarnation)) return 'owner incarnation must be an integer in 0..2^53-1';
  if (!isTimestamp(record.claimedAtMs)) return 'claimedAtMs must be an integer in 0..2^53-1';
  if (!Number.isInteger(record.claimedAtLogical) || record.claimedAtLogical < 0 || record.claimedAtLogical > MAX_LOGICAL) {
    return `claimedAtLogical must be an integer in 0..${MAX_LOGICAL}`;
  }
  if (record.expiresAtMs !== null && !isTimestamp(record.expiresAtMs)) return 'expiresAtMs must be null or an integer in 0..2^53-1';
  if ((record.ttlMs === null) !== (record.expiresAtMs === null)) return 'ttlMs must be null exactly when expiresAtMs is';
  if (record.ttlMs !== null && !isTimestamp(record.ttlMs)) return 'ttlMs must be null or an integer in 0..2^53-1';
  if (typeof record.fence !== 'bigint' || record.fence < 0n || record.fence > MAX_FENCE) return 'fence must be an integer in 0..2^64-1';
  return null;
}

function isTimestamp(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}

/**
 * Canonical bytes of a record that passed validateClaimRecord, in `version` (default the current one).
 * Version 1 leaves out the logical counter, the fence and the TTL; a version 1 reader derives them.
 */
export function encodeClaimRecord(record: ClaimRecord, version: number = CLAIM_ENCODING_VERSION): Uint8Array {
  const v1 = version === CLAIM_ENCODING_V1;
  const idBytes = strictUtf8Length(record.id);
  const ownerBytes = strictUtf8Length(record.owner);
  const lifeBytes = strictUtf8Length(record.ownerLifeId);
  const hasExpiry = record.expiresAtMs !== null;
  const out = new Uint8Array(5 + idBytes + ownerBytes + lifeBytes + (v1 ? 16 + (hasExpiry ? 8 : 0) : FIXED_V2 + (hasExpiry ? 16 : 0)));
  const view = new DataView(out.buffer);
  let pos = 0;
  out[pos++] = v1 ? CLAIM_ENCODING_V1 : CLAIM_ENCODING_VERSION;
  out[pos++] = idBytes;
  pos = writeUtf8(out, pos, record.id);
  out[pos++] = ownerBytes;
  pos = writeUtf8(out, pos, record.owner);
  out[pos++] = lifeBytes;
  pos = writeUtf8(out, pos, record.ownerLifeId);
  out[pos++] = (record.released ? FLAG_RELEASED : 0) | (hasExpiry ? FLAG_EXPIRES : 0);
  view.setBigUint64(pos, BigInt(record.ownerIncarnation));
  view.setBigUint64(pos + 8, BigInt(record.claimedAtMs));
  if (v1) {
    if (record.expiresAtMs !== null) view.setBigUint64(pos + 16, BigInt(record.expiresAtMs));
    return out;
  }
  view.setUint16(pos + 16, record.claimedAtLogical);
  view.setBigUint64(pos + 18, record.fence);
  if (record.expiresAtMs !== null) {
    view.setBigUint64(pos + 26, BigInt(record.expiresAtMs));
    view.setBigUint64(pos + 34, BigInt(record.ttlMs ?? 0));
  }
  return out;
}

/** Bytes after the flags in a version 2 record without expiry: incarnation, claimed at, logical, fence. */
const FIXED_V2 = 8 + 8 + 2 + 8;

export type DecodedClaim = { readonly ok: true; readonly record: ClaimRecord } | { readonly ok: false; readonly reason: string };

const strictDecoder = new TextDecoder('utf-8', { fatal: true });

/** Inverse of encodeClaimRecord for untrusted bytes: bounded, never throws. */
export function decodeClaimRecord(bytes: Uint8Array): DecodedClaim {
  if (bytes.length > MAX_ENCODED_CLAIM_BYTES) return { ok: false, reason: 'claim record too large' };
  let pos = 0;
  const need = (n: number): boolean => pos + n <= bytes.length;
  const version = need(1) ? bytes[pos++] : undefined;
  if (version !== CLAIM_ENCODING_VERSION && version !== CLAIM_ENCODING_V1) return { ok: false, reason: 'unknown claim encoding version' };
  const strings: string[] = [];
  for (const what of ['id', 'owner', 'life id']) {
    if (!need(1)) return { ok: false, reason: `truncated before ${what} length` };
    const len = bytes[pos++] ?? 0;
    if (!need(len)) return { ok: false, reason: `truncated ${what}` };
    try {
      strings.push(strictDecoder.decode(bytes.subarray(pos, pos + len)));
    } catch {
      return { ok: false, reason: `${what} is not valid UTF-8` };
    }
    pos += len;
  }
  if (!need(1)) return { ok: false, reason: 'truncated before flags' };
  const flags = bytes[pos++] ?? 0;
  if ((flags & ~(FLAG_RELEASED | FLAG_EXPIRES)) !== 0) return { ok: false, reason: 'unknown claim flags' };
  const hasExpiry = (flags & FLAG_EXPIRES) !== 0;
  const v1 = version === CLAIM_ENCODING_V1;
  if (pos + (v1 ? 16 : FIXED_V2) + (hasExpiry ? (v1 ? 8 : 16) : 0) !== bytes.length) return { ok: false, reason: 'claim record length mismatch' };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u64 = (at: number): number => {
    const v = view.getBigUint64(at);
    return v > BigInt(Number.MAX_SAFE_INTEGER) ? -1 : Number(v);
  };
  const claimedAtMs = u64(pos + 8);
  let claimedAtLogical = 0;
  let fence: bigint;
  let expiresAtMs: number | null = null;
  let ttlMs: number | null = null;
  if (v1) {
    fence = claimedAtMs < 0 ? -1n : packStamp({ physicalMs: claimedAtMs, logical: 0 });
    if (hasExpiry) {
      expiresAtMs = u64(pos + 16);
      ttlMs = Math.max(0, expiresAtMs - claimedAtMs);
    }
  } else {
    claimedAtLogical = view.getUint16(pos + 16);
    fence = view.getBigUint64(pos + 18);
    if (hasExpiry) {
      expiresAtMs = u64(pos + 26);
      ttlMs = u64(pos + 34);
    }
  }
  const record: ClaimRecord = {
    id: strings[0] ?? '',
    owner: strings[1] ?? '',
    ownerLifeId: strings[2] ?? '',
    ownerIncarnation: u64(pos),
    claimedAtMs,
    claimedAtLogical,
    expiresAtMs,
    ttlMs,
    fence,
    released: (flags & FLAG_RELEASED) !== 0,
  };
  const problem = validateClaimRecord(record);
  return problem === null ? { ok: true, record } : { ok: false, reason: problem };
}
