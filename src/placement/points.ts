// A member's ring points, one in each of V equal segments of the ring (V a power of two, b = log2 V).
// For a member whose XXH64(UTF-8 name) is seedHigh << 32 | seedLow, point i (0 <= i < V) is
//     high word: (i << (32 - b)) | (fmix32(seedHigh ^ (i + 1) * 0x9E3779B9) >>> b)
//     low word:  fmix32(seedLow ^ (i + 1) * 0x7F4A7C15)
// (32-bit wrapping multiply; fmix32 = MurmurHash3's finalizer; for V = 1 the prefix is 0).
// One point per segment balances as well as independent points do (measured), and it lets a build
// enumerate exactly the points that can fall in one stretch of ring: point s of every member.
// 32-bit operations keep generation cheap; a build at 10,000 members generates 10 million points.
import { xxh64Into, hashOut } from './xxh64-fast.js';

/** MurmurHash3's 32-bit finalizer, on and to int32. */
export function fmix32(x: number): number {
  let h = x ^ (x >>> 16);
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

const STEP_HIGH = 0x9e3779b9 | 0;
const STEP_LOW = 0x7f4a7c15 | 0;

/** Seeds of the members, as int32 halves: seeds[2m] high word, seeds[2m + 1] low word. */
export function memberSeeds(names: readonly Uint8Array[]): Int32Array {
  const seeds = new Int32Array(names.length * 2);
  names.forEach((bytes, m) => {
    xxh64Into(bytes, bytes.length);
    seeds[2 * m] = hashOut[0]!;
    seeds[2 * m + 1] = hashOut[1]!;
  });
  return seeds;
}

/** log2 of a power-of-two vnode count. */
export function segmentBits(vnodes: number): number {
  return 31 - Math.clz32(vnodes);
}

/** High word (int32) of point i of the member with seed high word seedH; b = segmentBits(V). */
export function pointHigh(seedH: number, i: number, b: number): number {
  const prefix = b === 0 ? 0 : i << (32 - b);
  return prefix | (fmix32(seedH ^ Math.imul(i + 1, STEP_HIGH)) >>> b);
}

/** Low word (int32) of point i of the member with seed low word seedL. */
export function pointLow(seedL: number, i: number): number {
  return fmix32(seedL ^ Math.imul(i + 1, STEP_LOW));
}

/** The segment (point index) whose points have high word `high`. */
export function segmentOf(high: number, b: number): number {
  return b === 0 ? 0 : high >>> (32 - b);
}
