// The fast path of placement, in AssemblyScript, compiled to wasm/swimring.wasm by `npm run wasm` (the
// .wasm is checked in and shipped; `npm run wasm:check` fails when it is not this source's build).
// XXH64 (seed 0) of a key's UTF-8 bytes, then jump consistent hash (Lamping & Veach): the definitions of
// docs/placement.md. src/placement/wasm.ts loads it; test/placement/wasm.test.ts checks it against the
// reference implementations (src/placement/xxh64-reference.ts, the paper's loop) and the shared vectors.
// Why WebAssembly: JS has no 64-bit multiply (its emulation on 32-bit halves costs more than a whole
// lookup here), and wasm runs the same bytes on every Node version and CPU with no compiler on the
// user's machine.

// @ts-ignore: decorator
@inline const P1: u64 = 0x9e3779b185ebca87;
// @ts-ignore: decorator
@inline const P2: u64 = 0xc2b2ae3d27d4eb4f;
// @ts-ignore: decorator
@inline const P3: u64 = 0x165667b19e3779f9;
// @ts-ignore: decorator
@inline const P4: u64 = 0x85ebca77c2b2ae63;
// @ts-ignore: decorator
@inline const P5: u64 = 0x27d4eb2f165667c5;

// @ts-ignore: decorator
@inline function xxhRound(acc: u64, input: u64): u64 {
  return rotl<u64>(acc + input * P2, 31) * P1;
}

// @ts-ignore: decorator
@inline function xxhMerge(h: u64, v: u64): u64 {
  return (h ^ xxhRound(0, v)) * P1 + P4;
}

/** XXH64 (seed 0) of the `len` bytes at `p` (wasm loads are little-endian, as XXH64 reads). */
export function xxh64(p: usize, len: usize): u64 {
  const end = p + len;
  let h: u64;
  if (len >= 32) {
    let v1: u64 = P1 + P2;
    let v2: u64 = P2;
    let v3: u64 = 0;
    let v4: u64 = 0 - P1;
    const limit = end - 32;
    do {
      v1 = xxhRound(v1, load<u64>(p));
      v2 = xxhRound(v2, load<u64>(p, 8));
      v3 = xxhRound(v3, load<u64>(p, 16));
      v4 = xxhRound(v4, load<u64>(p, 24));
      p += 32;
    } while (p <= limit);
    h = rotl<u64>(v1, 1) + rotl<u64>(v2, 7) + rotl<u64>(v3, 12) + rotl<u64>(v4, 18);
    h = xxhMerge(h, v1);
    h = xxhMerge(h, v2);
    h = xxhMerge(h, v3);
    h = xxhMerge(h, v4);
  } else {
    h = P5;
  }
  h += <u64>len;
  for (; p + 8 <= end; p += 8) h = rotl<u64>(h ^ xxhRound(0, load<u64>(p)), 27) * P1 + P4;
  if (p + 4 <= end) {
    h = rotl<u64>(h ^ (<u64>load<u32>(p) * P1), 23) * P2 + P3;
    p += 4;
  }
  for (; p < end; p++) h = rotl<u64>(h ^ (<u64>load<u8>(p) * P5), 11) * P1;
  h ^= h >> 33;
  h *= P2;
  h ^= h >> 29;
  h *= P3;
  h ^= h >> 32;
  return h;
}

/**
 * Jump consistent hash of `key` into [0, buckets), buckets in [1, 2^31 - 1]. The paper's values bit for
 * bit, on a shorter chain of dependent operations. The paper's loop is b -> j = trunc((b + 1) * q) -> b,
 * and only the chain through b bounds its speed (each round's q depends on the key stream alone). Here the
 * loop keeps c = b + 1 as a double (an integer below 2^31: exact), so c * q is the paper's product, rounded
 * once. trunc(x) < buckets iff x < buckets (x >= 0, buckets an integer), so the exit test needs no trunc.
 * The next c is trunc(x) + 1, which is ceil(x) unless x is an integer (then x + 1): one rounding on the
 * chain instead of an add, a multiply and a rounding; the integer case is a rarely taken branch off it.
 * (key >> 33) + 1 is at most 2^31, so the signed conversion is exact and skips the unsigned one's fix-up.
 * jumpReference is the paper's loop as written; the tests compare the two.
 */
export function jump(key: u64, buckets: i32): i32 {
  const n = <f64>buckets;
  key = nextKey(key);
  return jumpOn(key, 1, quotient(key), n);
}

// @ts-ignore: decorator
@inline function nextKey(key: u64): u64 {
  return key * 2862933555777941757 + 1;
}

/** The paper's 2^31 / ((key >> 33) + 1). */
// @ts-ignore: decorator
@inline function quotient(key: u64): f64 {
  return 2147483648.0 / <f64><i64>((key >> 33) + 1);
}

/** trunc(x) + 1 for 0 <= x < 2^31. */
// @ts-ignore: decorator
@inline function nextC(x: f64): f64 {
  const c = ceil<f64>(x);
  return c == x ? c + 1 : c;
}

/** The loop from a round whose key is `key`, c and quotient q (x = c * q): the bucket. */
function jumpOn(key: u64, c: f64, q: f64, n: f64): i32 {
  let x = c * q;
  while (x < n) {
    c = nextC(x);
    key = nextKey(key);
    x = c * quotient(key);
  }
  return <i32>(c - 1);
}

/** jump2's answer for its second key. */
let secondBucket: i32 = 0;

export function jump2Second(): i32 {
  return secondBucket;
}

/**
 * jump of two keys at once (the second's bucket in jump2Second()): the same values as two jumps. Each
 * jump is one chain of dependent operations; two side by side take little longer than the longer one.
 */
export function jump2(key: u64, other: u64, buckets: i32): i32 {
  const n = <f64>buckets;
  let c: f64 = 1;
  let d: f64 = 1;
  while (true) {
    key = nextKey(key);
    other = nextKey(other);
    const q = quotient(key);
    const r = quotient(other);
    const x = c * q;
    const y = d * r;
    if (x >= n) {
      secondBucket = jumpOn(other, d, r, n);
      return <i32>(c - 1);
    }
    if (y >= n) {
      secondBucket = <i32>(d - 1);
      return jumpOn(key, c, q, n);
    }
    c = nextC(x);
    d = nextC(y);
  }
}

/** Lamping & Veach's C++, as written: the double arithmetic is part of the definition. */
export function jumpReference(key: u64, buckets: i32): i32 {
  let b: i64 = -1;
  let j: i64 = 0;
  while (j < <i64>buckets) {
    b = j;
    key = key * 2862933555777941757 + 1;
    j = <i64>(<f64>(b + 1) * (<f64>(<i64>1 << 31) / <f64>((key >> 33) + 1)));
  }
  return <i32>b;
}

/** shard(p, len, buckets): jump(xxh64(bytes at p), buckets): the key's shard. */
export function shard(p: usize, len: usize, buckets: i32): i32 {
  return jump(xxh64(p, len), buckets);
}

/** Memory for the JS side (key buffers, tail caches): heap.alloc, released with release(). */
export function alloc(bytes: usize): usize {
  return heap.alloc(bytes);
}

export function release(p: usize): void {
  heap.free(p);
}
