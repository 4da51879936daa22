// XXH64 (seed 0) and jump consistent hash in plain C, without Node: included by lookup.c (the addon) and
// by bench/native/jump.c (the native floor the JS jump is compared with).
#ifndef SWIMRING_LOOKUP_CORE_H
#define SWIMRING_LOOKUP_CORE_H
#include <stddef.h>
#include <stdint.h>
#include <string.h>

static const uint64_t P1 = 0x9E3779B185EBCA87ULL;
static const uint64_t P2 = 0xC2B2AE3D27D4EB4FULL;
static const uint64_t P3 = 0x165667B19E3779F9ULL;
static const uint64_t P4 = 0x85EBCA77C2B2AE63ULL;
static const uint64_t P5 = 0x27D4EB2F165667C5ULL;

static inline uint64_t rotl64(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }
static inline uint64_t read64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }  // little-endian hosts (x86-64, arm64)
static inline uint32_t read32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static inline uint64_t xxh_round(uint64_t acc, uint64_t input) { return rotl64(acc + input * P2, 31) * P1; }
static inline uint64_t xxh_merge(uint64_t h, uint64_t v) { return (h ^ xxh_round(0, v)) * P1 + P4; }

static inline uint64_t xxh64(const uint8_t *p, size_t len) {
  const uint8_t *end = p + len;
  uint64_t h;
  if (len >= 32) {
    uint64_t v1 = P1 + P2, v2 = P2, v3 = 0, v4 = (uint64_t)0 - P1;
    const uint8_t *limit = end - 32;
    do {
      v1 = xxh_round(v1, read64(p));
      v2 = xxh_round(v2, read64(p + 8));
      v3 = xxh_round(v3, read64(p + 16));
      v4 = xxh_round(v4, read64(p + 24));
      p += 32;
    } while (p <= limit);
    h = rotl64(v1, 1) + rotl64(v2, 7) + rotl64(v3, 12) + rotl64(v4, 18);
    h = xxh_merge(h, v1);
    h = xxh_merge(h, v2);
    h = xxh_merge(h, v3);
    h = xxh_merge(h, v4);
  } else {
    h = P5;
  }
  h += (uint64_t)len;
  for (; p + 8 <= end; p += 8) h = rotl64(h ^ xxh_round(0, read64(p)), 27) * P1 + P4;
  if (p + 4 <= end) {
    h = rotl64(h ^ ((uint64_t)read32(p) * P1), 23) * P2 + P3;
    p += 4;
  }
  for (; p < end; p++) h = rotl64(h ^ ((uint64_t)(*p) * P5), 11) * P1;
  h ^= h >> 33;
  h *= P2;
  h ^= h >> 29;
  h *= P3;
  h ^= h >> 32;
  return h;
}

// Lamping & Veach, as the paper's C++: the double arithmetic is part of the definition.
static inline int32_t jump_reference(uint64_t key, int32_t buckets) {
  int64_t b = -1, j = 0;
  while (j < buckets) {
    b = j;
    key = key * 2862933555777941757ULL + 1;
    j = (int64_t)((double)(b + 1) * ((double)(1LL << 31) / (double)((key >> 33) + 1)));
  }
  return (int32_t)b;
}

// The same values, computed with a shorter chain of dependent operations. Each round's quotient q depends
// only on the key stream, so the loop's latency is the chain b -> j; the paper's form spends an
// int -> double conversion, a multiply and a double -> int conversion on it. Here b stays a double and
// (b + 1) * q is fma(b, q, q): b + 1 is exact (an integer below 2^53), and fma rounds b * q + q, which is
// exactly (b + 1) * q, once, so it is the paper's product bit for bit; trunc is the cast's truncation
// (j >= 0). ~22% less time per jump at 2^18 buckets (bench/jump-floor.ts); test/placement/native.test.ts
// compares it with the paper's loop.
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define SWIMRING_JUMP_FMA __attribute__((target("fma,sse4.1")))
static int jump_fma_usable(void) {
  __builtin_cpu_init();
  return __builtin_cpu_supports("fma") && __builtin_cpu_supports("sse4.1");
}
#elif defined(__aarch64__)
#define SWIMRING_JUMP_FMA
static int jump_fma_usable(void) { return 1; }  // fmadd and frintz are in the base instruction set
#endif

#ifdef SWIMRING_JUMP_FMA
SWIMRING_JUMP_FMA static inline int32_t jump_fused(uint64_t key, int32_t buckets) {
  const double n = (double)buckets;
  double b = -1, j = 0;
  while (j < n) {
    b = j;
    key = key * 2862933555777941757ULL + 1;
    const double q = 2147483648.0 / (double)((key >> 33) + 1);
    j = __builtin_trunc(__builtin_fma(b, q, q));
  }
  return (int32_t)b;
}
#endif

// Which loop jump() runs: decided once by jump_select(), before the first jump (the reference until then).
static int jump_uses_fma = 0;

static inline void jump_select(void) {
#ifdef SWIMRING_JUMP_FMA
  jump_uses_fma = jump_fma_usable();
#endif
}

static inline int32_t jump(uint64_t key, int32_t buckets) {
#ifdef SWIMRING_JUMP_FMA
  if (jump_uses_fma) return jump_fused(key, buckets);
#endif
  return jump_reference(key, buckets);
}

#endif
