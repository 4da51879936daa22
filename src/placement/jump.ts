// Jump consistent hash (Lamping & Veach, 2014) on a 64-bit key given as uint32 halves, without BigInt.
// The paper's loop multiplies the key by a 64-bit constant mod 2^64 (done here on int32 halves) and
// computes the next candidate in double precision exactly as the reference C++ does, so the answers
// match it bit for bit, for bucket counts up to 2^31 - 1 and keys at and above 2^63.
import { mulHi } from './xxh64-fast.js';

/** The largest bucket count the reference algorithm (int32 buckets) accepts. */
export const MAX_JUMP_BUCKETS = 0x7fffffff;

/** jumpHash without argument checks; `buckets` must be an integer in [1, 2^31 - 1]. */
export function jumpUnchecked(hi: number, lo: number, buckets: number): number {
  let kh = hi | 0;
  let kl = lo | 0;
  let b = -1;
  let j = 0;
  // j is kept as the untruncated double: for an integer bucket count, trunc(j) < buckets iff
  // j < buckets, and once inside the loop j < 2^31, so `j | 0` is the reference's int64 truncation.
  while (j < buckets) {
    b = j | 0;
    // key = key * 2862933555777941757 + 1 (mod 2^64); the constant is 0x27BB2EE6_87B0B0FD, its halves
    // written as literals so that V8 can fold them into the multiplications.
    kh = (((mulHi(kl, 0x87b0b0fd) + Math.imul(kh, 0x87b0b0fd)) | 0) + Math.imul(kl, 0x27bb2ee6)) | 0;
    kl = (Math.imul(kl, 0x87b0b0fd) + 1) | 0;
    if (kl === 0) kh = (kh + 1) | 0;
    // j = (b + 1) * (double(1 << 31) / double((key >> 33) + 1))
    j = (b + 1) * (2147483648 / ((kh >>> 1) + 1));
  }
  return b;
}

/**
 * The bucket in [0, buckets) of the 64-bit key hi * 2^32 + lo (hi, lo: uint32 halves).
 * Throws RangeError on a bucket count outside [1, 2^31 - 1] or halves that are not uint32 values.
 */
export function jumpHash(hi: number, lo: number, buckets: number): number {
  if (!Number.isInteger(buckets) || buckets < 1 || buckets > MAX_JUMP_BUCKETS) {
    throw new RangeError(`jumpHash: buckets must be an integer in [1, ${MAX_JUMP_BUCKETS}], got ${String(buckets)}`);
  }
  if (!isUint32(hi) || !isUint32(lo)) {
    throw new RangeError(`jumpHash: hi and lo must be integers in [0, 2^32), got ${String(hi)}, ${String(lo)}`);
  }
  return jumpUnchecked(hi, lo, buckets);
}

function isUint32(x: number): boolean {
  return Number.isInteger(x) && x >= 0 && x <= 0xffffffff;
}
