// A bounds-checked cursor over untrusted bytes. Every read checks the bytes left first and refuses
// with a DecodeRejection; nothing reads past the end or trusts a length before checking it.

import { MAX_INCARNATION } from './constants.js';
import { DecodeRejection } from './reasons.js';

const TWO_POW_32 = 0x1_0000_0000;

// ignoreBOM: a leading U+FEFF is part of the string, not a marker to strip; fatal: no silent U+FFFD.
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export class Reader {
  pos: number;

  constructor(
    readonly bytes: Uint8Array,
    start: number,
  ) {
    this.pos = start;
  }

  get remaining(): number {
    return this.bytes.length - this.pos;
  }

  u8(field: string): number {
    this.need(1, field);
    return this.bytes[this.pos++] as number;
  }

  u16(field: string): number {
    this.need(2, field);
    const b = this.bytes;
    const p = this.pos;
    this.pos = p + 2;
    return ((b[p] as number) << 8) | (b[p + 1] as number);
  }

  u32(field: string): number {
    this.need(4, field);
    return this.u32Unchecked();
  }

  /** u64 incarnation; above MAX_INCARNATION (2^50) it is refused, never rounded or clamped. */
  incarnation(field: string): number {
    this.need(8, field);
    const at = this.pos;
    const high = this.u32Unchecked();
    const low = this.u32Unchecked();
    // Rounding of a huge u64 is monotonic and nothing near 2^50 rounds, so the comparison is exact.
    const value = high * TWO_POW_32 + low;
    if (value > MAX_INCARNATION) {
      throw new DecodeRejection('number-out-of-range', `${field} at byte ${at} exceeds the incarnation ceiling 2^50 (high word ${high})`);
    }
    return value;
  }

  /** u8 byte length, then strict UTF-8; `limitEnd` bounds where the string may end (a block limit). */
  string(field: string, limitEnd = Number.POSITIVE_INFINITY): string {
    const at = this.pos;
    if (this.remaining < 1) {
      throw new DecodeRejection('truncated', `${field} length at byte ${at} needs 1 byte, 0 left`);
    }
    const length = this.bytes[this.pos++] as number;
    if (length > this.remaining) {
      throw new DecodeRejection(
        'truncated',
        `${field} at byte ${at} declares ${length} bytes, ${this.remaining} left`,
      );
    }
    const start = this.pos;
    if (start + length > limitEnd) {
      throw new DecodeRejection('field-too-long', `${field} at byte ${at} ends past its block limit at byte ${limitEnd}`);
    }
    if (length === 0) return '';
    this.pos = start + length;
    return decodeUtf8(this.bytes, start, start + length, field);
  }

  /** A member name: a string that must not be empty. */
  name(field: string): string {
    const at = this.pos;
    const s = this.string(field);
    if (s === '') throw new DecodeRejection('invalid-field', `${field} at byte ${at} is empty`);
    return s;
  }

  private need(n: number, field: string): void {
    if (n > this.remaining) {
      throw new DecodeRejection('truncated', `${field} at byte ${this.pos} needs ${n} bytes, ${this.remaining} left`);
    }
  }

  private u32Unchecked(): number {
    const b = this.bytes;
    const p = this.pos;
    this.pos = p + 4;
    return (
      (b[p] as number) * 0x100_0000 + (((b[p + 1] as number) << 16) | ((b[p + 2] as number) << 8) | (b[p + 3] as number))
    );
  }
}

function decodeUtf8(bytes: Uint8Array, start: number, end: number, field: string): string {
  try {
    return strictUtf8.decode(bytes.subarray(start, end));
  } catch {
    throw new DecodeRejection('bad-utf8', `${field} at byte ${start} is not valid UTF-8`);
  }
}
