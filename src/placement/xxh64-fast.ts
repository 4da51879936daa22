// XXH64 (seed 0) on uint32 halves: no BigInt, no allocation. Each 64-bit value is a pair of int32
// locals (high word, low word). A 64-bit product's low word is Math.imul of the low words; its high
// word is mul64Hi. V8 inlines the small helpers and keeps everything in 32-bit registers, provided
// every sum is truncated pairwise: `(a + b + c) | 0` lets it speculate that a + b fits in an int32,
// and the first overflow deoptimizes the function into float64 arithmetic (measured 2-3x slower).
// The same rules serve jump.ts and the ring code.
//
// Verified against the BigInt reference (xxh64-reference.ts) and the shared vectors in the tests.

// The five XXH64 primes as int32 halves.
const P1H = 0x9e3779b1 | 0;
const P1L = 0x85ebca87 | 0;
const P2H = 0xc2b2ae3d | 0;
const P2L = 0x27d4eb4f | 0;
const P3H = 0x165667b1 | 0;
const P3L = 0x9e3779f9 | 0;
const P4H = 0x85ebca77 | 0;
const P4L = 0xc2b2ae63 | 0;
const P5H = 0x27d4eb2f | 0;
const P5L = 0x165667c5 | 0;

/** High 32 bits of the unsigned 64-bit product a * b (a, b taken as uint32), as an int32. */
export function mulHi(a: number, b: number): number {
  const a0 = a & 0xffff;
  const a1 = a >>> 16;
  const b0 = b & 0xffff;
  const b1 = b >>> 16;
  const p01 = Math.imul(a0, b1) >>> 0;
  const p10 = Math.imul(a1, b0) >>> 0;
  // Each term below 2^16: the sum cannot overflow.
  const mid = (Math.imul(a0, b0) >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  const small = (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16);
  return (Math.imul(a1, b1) + small) | 0;
}

/** High word of (ah:al) * (bh:bl) mod 2^64; the low word is Math.imul(al, bl). */
export function mul64Hi(ah: number, al: number, bh: number, bl: number): number {
  return (((mulHi(al, bl) + Math.imul(ah, bl)) | 0) + Math.imul(al, bh)) | 0;
}

/** Carry out of the uint32 sum a + b: 1 or 0. */
export function carry(a: number, b: number): number {
  return ((a + b) | 0) >>> 0 < a >>> 0 ? 1 : 0;
}

/** High word of (ah:al) + (bh:bl) mod 2^64; the low word is (al + bl) | 0. */
export function add64Hi(ah: number, al: number, bh: number, bl: number): number {
  return (((ah + bh) | 0) + carry(al, bl)) | 0;
}

/** Little-endian int32 at bytes[i..i+3]. */
function read32(b: Uint8Array, i: number): number {
  return b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24);
}

/**
 * Where xxh64Into leaves its answer: [high word, low word], as int32 (read with `>>> 0` for uint32).
 * int32 because V8 boxes a uint32 above 2^31 into a heap number when it is passed to a call.
 */
export const hashOut = new Int32Array(2);

// Where stripes() leaves the running hash: [high word, low word].
const merged = new Int32Array(2);
// The four lane accumulators of stripes(): [v1 high, v1 low, v2 high, ...].
const lanes = new Int32Array(8);

/**
 * The >= 32-byte part of XXH64: consumes whole 32-byte stripes of b[0..len) in four lanes, merges the
 * lanes into the running hash and leaves it in `merged`. The lanes live in a typed array and one loop
 * body serves all four: written out four times, the function outgrew V8's inlining budget and ran
 * slower (measured).
 */
function stripes(b: Uint8Array, len: number): void {
  // Seed 0: v1 = P1 + P2, v2 = P2, v3 = 0, v4 = -P1 (= ~P1 + 1).
  lanes[0] = add64Hi(P1H, P1L, P2H, P2L);
  lanes[1] = (P1L + P2L) | 0;
  lanes[2] = P2H;
  lanes[3] = P2L;
  lanes[4] = 0;
  lanes[5] = 0;
  lanes[6] = add64Hi(~P1H, ~P1L, 0, 1);
  lanes[7] = (~P1L + 1) | 0;
  for (let i = 0; i + 32 <= len; i += 32) {
    for (let k = 0; k < 8; k += 2) {
      // v = rotl(v + input * P2, 31) * P1
      const inl = read32(b, i + 4 * k);
      const vh = lanes[k]!;
      const vl = lanes[k + 1]!;
      let tl = Math.imul(inl, P2L);
      const th = add64Hi(vh, vl, mul64Hi(read32(b, i + 4 * k + 4), inl, P2H, P2L), tl);
      tl = (vl + tl) | 0;
      const x = (th << 31) | (tl >>> 1);
      tl = (tl << 31) | (th >>> 1);
      lanes[k] = mul64Hi(x, tl, P1H, P1L);
      lanes[k + 1] = Math.imul(tl, P1L);
    }
  }
  // h = rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18)
  let hh = 0;
  let hl = 0;
  for (let k = 0; k < 8; k += 2) {
    const n = k === 0 ? 1 : k === 2 ? 7 : k === 4 ? 12 : 18;
    const vh = lanes[k]!;
    const vl = lanes[k + 1]!;
    const th = (vh << n) | (vl >>> (32 - n));
    const tl = (vl << n) | (vh >>> (32 - n));
    hh = add64Hi(hh, hl, th, tl);
    hl = (hl + tl) | 0;
  }
  merged[0] = hh;
  merged[1] = hl;
  for (let k = 0; k < 8; k += 2) mergeLane(lanes[k]!, lanes[k + 1]!);
}

/** merged = (merged ^ round(0, v)) * P1 + P4, where round(0, v) = rotl(v * P2, 31) * P1. */
function mergeLane(vh: number, vl: number): void {
  let tl = Math.imul(vl, P2L);
  let th = mul64Hi(vh, vl, P2H, P2L);
  const x = (th << 31) | (tl >>> 1);
  tl = (tl << 31) | (th >>> 1);
  th = mul64Hi(x, tl, P1H, P1L);
  tl = Math.imul(tl, P1L);
  const hh = merged[0]! ^ th;
  const hl = merged[1]! ^ tl;
  const ml = Math.imul(hl, P1L);
  const mh = mul64Hi(hh, hl, P1H, P1L);
  merged[0] = add64Hi(mh, ml, P4H, P4L);
  merged[1] = (ml + P4L) | 0;
}

// The running hash of the steps below: [high word, low word]. Each step is its own small function so
// that V8, whose inlining budget per optimized function is limited, can inline the 64-bit helpers
// into every one of them (one large function measured up to 2x slower).
const state = new Int32Array(2);

/** state ^= round(0, input); state = rotl(state, 27) * P1 + P4, for an 8-byte input (inh:inl). */
function step8(inh: number, inl: number): void {
  let tl = Math.imul(inl, P2L);
  const th = mul64Hi(inh, inl, P2H, P2L);
  const x = (th << 31) | (tl >>> 1);
  tl = (tl << 31) | (th >>> 1);
  const hh = state[0]! ^ mul64Hi(x, tl, P1H, P1L);
  const hl = state[1]! ^ Math.imul(tl, P1L);
  const rh = (hh << 27) | (hl >>> 5);
  const rl = (hl << 27) | (hh >>> 5);
  const mh = mul64Hi(rh, rl, P1H, P1L);
  const ml = Math.imul(rl, P1L);
  state[0] = add64Hi(mh, ml, P4H, P4L);
  state[1] = (ml + P4L) | 0;
}

/** state ^= input * P1; state = rotl(state, 23) * P2 + P3, for a 4-byte input. */
function step4(input: number): void {
  const hh = state[0]! ^ mul64Hi(0, input, P1H, P1L);
  const hl = state[1]! ^ Math.imul(input, P1L);
  const rh = (hh << 23) | (hl >>> 9);
  const rl = (hl << 23) | (hh >>> 9);
  const mh = mul64Hi(rh, rl, P2H, P2L);
  const ml = Math.imul(rl, P2L);
  state[0] = add64Hi(mh, ml, P3H, P3L);
  state[1] = (ml + P3L) | 0;
}

/** state ^= byte * P5; state = rotl(state, 11) * P1. */
function step1(byte: number): void {
  const hh = state[0]! ^ mul64Hi(0, byte, P5H, P5L);
  const hl = state[1]! ^ Math.imul(byte, P5L);
  const rh = (hh << 11) | (hl >>> 21);
  const rl = (hl << 11) | (hh >>> 21);
  state[0] = mul64Hi(rh, rl, P1H, P1L);
  state[1] = Math.imul(rl, P1L);
}

/** h = state; h ^= h >> 33; h *= P2; h ^= h >> 29; h *= P3; h ^= h >> 32; into hashOut. */
function avalanche(): void {
  let hh = state[0]!;
  let hl = state[1]! ^ (hh >>> 1);
  const x = mul64Hi(hh, hl, P2H, P2L);
  hl = Math.imul(hl, P2L);
  hh = x;
  hl ^= (hl >>> 29) | (hh << 3);
  hh ^= hh >>> 29;
  const h = mul64Hi(hh, hl, P3H, P3L);
  hashOut[0] = h;
  hashOut[1] = Math.imul(hl, P3L) ^ h;
}

/** state = (hh:hl) + len, the step between the stripes (or the seed) and the remaining bytes. */
function addLength(hh: number, hl: number, len: number): void {
  const lenLow = len | 0;
  state[0] = add64Hi(hh, hl, (len / 4294967296) | 0, lenLow);
  state[1] = (hl + lenLow) | 0;
}

/**
 * XXH64 with seed 0 of bytes[0..len), written to hashOut (high word, low word).
 * `len` may be less than bytes.length so callers can hash the filled prefix of a reused buffer.
 */
export function xxh64Into(b: Uint8Array, len: number): void {
  let i = 0;
  if (len >= 32) {
    stripes(b, len);
    addLength(merged[0]!, merged[1]!, len);
    i = len - (len % 32);
  } else {
    addLength(P5H, P5L, len);
  }
  for (; i + 8 <= len; i += 8) step8(read32(b, i + 4), read32(b, i));
  if (i + 4 <= len) {
    step4(read32(b, i));
    i += 4;
  }
  for (; i < len; i++) step1(b[i]!);
  avalanche();
}

/**
 * XXH64 (seed 0) of an ASCII string shorter than 32 characters, read straight from its characters (an
 * ASCII string's UTF-8 bytes are its char codes), into hashOut. Returns false, with hashOut
 * unspecified, if the string has a character above U+007F: the caller then hashes its UTF-8 bytes.
 *
 * The common short key skips the copy into a byte buffer, and the whole hash runs in one function on
 * int32 locals: only mulHi is a call (V8 inlines it). The step-per-function form above, with its
 * state in a typed array, measured 1.5-1.7x slower for 16-byte keys (bench/placement-hash.ts).
 * Each 64-bit product (ah:al) * (bh:bl) is written out as low = imul(al, bl),
 * high = mulHi(al, bl) + imul(ah, bl) + imul(al, bh), summed pairwise with `| 0`.
 */
export function xxh64ShortAscii(s: string): boolean {
  const len = s.length;
  // h = seed + P5 + len; P5's low word + 31 does not carry.
  let hh = P5H;
  let hl = (P5L + len) | 0;
  let i = 0;
  for (; i + 8 <= len; i += 8) {
    const c0 = s.charCodeAt(i);
    const c1 = s.charCodeAt(i + 1);
    const c2 = s.charCodeAt(i + 2);
    const c3 = s.charCodeAt(i + 3);
    const c4 = s.charCodeAt(i + 4);
    const c5 = s.charCodeAt(i + 5);
    const c6 = s.charCodeAt(i + 6);
    const c7 = s.charCodeAt(i + 7);
    if (((c0 | c1 | c2 | c3 | c4 | c5 | c6 | c7) & 0xff80) !== 0) return false;
    const inl = c0 | (c1 << 8) | (c2 << 16) | (c3 << 24);
    const inh = c4 | (c5 << 8) | (c6 << 16) | (c7 << 24);
    // k = rotl(input * P2, 31) * P1; h ^= k
    const tl = Math.imul(inl, P2L);
    const th = (((mulHi(inl, P2L) + Math.imul(inh, P2L)) | 0) + Math.imul(inl, P2H)) | 0;
    const xh = (th << 31) | (tl >>> 1);
    const xl = (tl << 31) | (th >>> 1);
    hh ^= (((mulHi(xl, P1L) + Math.imul(xh, P1L)) | 0) + Math.imul(xl, P1H)) | 0;
    hl ^= Math.imul(xl, P1L);
    // h = rotl(h, 27) * P1 + P4
    const rh = (hh << 27) | (hl >>> 5);
    const rl = (hl << 27) | (hh >>> 5);
    const ml = Math.imul(rl, P1L);
    const mh = (((mulHi(rl, P1L) + Math.imul(rh, P1L)) | 0) + Math.imul(rl, P1H)) | 0;
    hl = (ml + P4L) | 0;
    hh = (((mh + P4H) | 0) + (hl >>> 0 < ml >>> 0 ? 1 : 0)) | 0;
  }
  if (i + 4 <= len) {
    const c0 = s.charCodeAt(i);
    const c1 = s.charCodeAt(i + 1);
    const c2 = s.charCodeAt(i + 2);
    const c3 = s.charCodeAt(i + 3);
    if (((c0 | c1 | c2 | c3) & 0xff80) !== 0) return false;
    const input = c0 | (c1 << 8) | (c2 << 16) | (c3 << 24);
    // h ^= input * P1 (input < 2^32); h = rotl(h, 23) * P2 + P3
    hh ^= (mulHi(input, P1L) + Math.imul(input, P1H)) | 0;
    hl ^= Math.imul(input, P1L);
    const rh = (hh << 23) | (hl >>> 9);
    const rl = (hl << 23) | (hh >>> 9);
    const ml = Math.imul(rl, P2L);
    const mh = (((mulHi(rl, P2L) + Math.imul(rh, P2L)) | 0) + Math.imul(rl, P2H)) | 0;
    hl = (ml + P3L) | 0;
    hh = (((mh + P3H) | 0) + (hl >>> 0 < ml >>> 0 ? 1 : 0)) | 0;
    i += 4;
  }
  for (; i < len; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f) return false;
    // h ^= c * P5; h = rotl(h, 11) * P1. c * lo(P5) < 2^39: its high word is exact in a double.
    hh ^= (((c * 0x165667c5) / 4294967296) | 0) + Math.imul(c, P5H);
    hl ^= Math.imul(c, P5L);
    const rh = (hh << 11) | (hl >>> 21);
    const rl = (hl << 11) | (hh >>> 21);
    hh = (((mulHi(rl, P1L) + Math.imul(rh, P1L)) | 0) + Math.imul(rl, P1H)) | 0;
    hl = Math.imul(rl, P1L);
  }
  // Avalanche: h ^= h >> 33; h *= P2; h ^= h >> 29; h *= P3; h ^= h >> 32.
  hl ^= hh >>> 1;
  const ah = (((mulHi(hl, P2L) + Math.imul(hh, P2L)) | 0) + Math.imul(hl, P2H)) | 0;
  hl = Math.imul(hl, P2L);
  hl ^= (hl >>> 29) | (ah << 3);
  hh = ah ^ (ah >>> 29);
  const h = (((mulHi(hl, P3L) + Math.imul(hh, P3L)) | 0) + Math.imul(hl, P3H)) | 0;
  hashOut[0] = h;
  hashOut[1] = Math.imul(hl, P3L) ^ h;
  return true;
}
