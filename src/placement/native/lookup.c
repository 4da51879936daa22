// The lookup's hot path in C, loaded by src/placement/native.ts when the build could compile it
// (scripts/build-native.mjs; without a C compiler the same answers come from the JS code).
// XXH64 (seed 0) of a key's UTF-8 bytes, then jump consistent hash: the definitions of docs/placement.md,
// checked against ../shared/vectors and against the JS implementation in test/placement/native.test.ts.
// Why C: JS has no 64-bit multiply, and the emulation on 32-bit halves costs more than the whole native
// lookup including the call (bench/README.md, "Placement").
#define NAPI_VERSION 8
#include <node_api.h>

#define KEY_BUFFER 1024
#define MAX_BUCKETS 0x7fffffff

#include "lookup-core.h"

// The key's UTF-8 bytes into buf (lone surrogates become U+FFFD, as TextEncoder does); -1 with a JS error
// thrown when the argument is not a string or does not fit. Callers pass keys of at most 256
// UTF-16 units (NATIVE_MAX_KEY_UNITS in src/placement/native.ts), which always fit; the length is re-read only when the buffer
// came back full, so a longer key is refused instead of hashed truncated.
static int key_bytes(napi_env env, napi_value value, uint8_t *buf, size_t *len) {
  if (napi_get_value_string_utf8(env, value, (char *)buf, KEY_BUFFER, len) != napi_ok) {
    napi_throw_type_error(env, NULL, "key must be a string");
    return -1;
  }
  if (*len >= KEY_BUFFER - 4) {
    size_t full = 0;
    if (napi_get_value_string_utf8(env, value, NULL, 0, &full) != napi_ok || full != *len) {
      napi_throw_range_error(env, NULL, "key too long for the native lookup: hash it in JS");
      return -1;
    }
  }
  return 0;
}

static int buckets_arg(napi_env env, napi_value value, int32_t *buckets) {
  double d = 0;
  if (napi_get_value_double(env, value, &d) != napi_ok || !(d >= 1 && d <= MAX_BUCKETS) || d != (double)(int32_t)d) {
    napi_throw_range_error(env, NULL, "buckets must be an integer in [1, 2^31 - 1]");
    return -1;
  }
  *buckets = (int32_t)d;
  return 0;
}

// shard(key, buckets): jump(xxh64(utf8(key)), buckets).
static napi_value shard(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value args[2];
  uint8_t buf[KEY_BUFFER];
  size_t len = 0;
  int32_t buckets = 0;
  napi_value result;
  if (napi_get_cb_info(env, info, &argc, args, NULL, NULL) != napi_ok || argc < 2) {
    napi_throw_type_error(env, NULL, "shard(key, buckets)");
    return NULL;
  }
  if (key_bytes(env, args[0], buf, &len) != 0 || buckets_arg(env, args[1], &buckets) != 0) return NULL;
  napi_create_int32(env, jump(xxh64(buf, len), buckets), &result);
  return result;
}

// hash(key): the XXH64 as [high word, low word] (uint32 each), for tests.
static napi_value hash(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value arg, result, hi, lo;
  uint8_t buf[KEY_BUFFER];
  size_t len = 0;
  if (napi_get_cb_info(env, info, &argc, &arg, NULL, NULL) != napi_ok || argc < 1) {
    napi_throw_type_error(env, NULL, "hash(key)");
    return NULL;
  }
  if (key_bytes(env, arg, buf, &len) != 0) return NULL;
  uint64_t h = xxh64(buf, len);
  napi_create_array_with_length(env, 2, &result);
  napi_create_uint32(env, (uint32_t)(h >> 32), &hi);
  napi_create_uint32(env, (uint32_t)h, &lo);
  napi_set_element(env, result, 0, hi);
  napi_set_element(env, result, 1, lo);
  return result;
}

// jump(hi, lo, buckets): jump consistent hash of the 64-bit key hi * 2^32 + lo, for tests.
static napi_value jump_js(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value args[3], result;
  uint32_t hi = 0, lo = 0;
  int32_t buckets = 0;
  if (napi_get_cb_info(env, info, &argc, args, NULL, NULL) != napi_ok || argc < 3 ||
      napi_get_value_uint32(env, args[0], &hi) != napi_ok || napi_get_value_uint32(env, args[1], &lo) != napi_ok) {
    napi_throw_type_error(env, NULL, "jump(hi, lo, buckets) with uint32 halves");
    return NULL;
  }
  if (buckets_arg(env, args[2], &buckets) != 0) return NULL;
  napi_create_int32(env, jump(((uint64_t)hi << 32) | lo, buckets), &result);
  return result;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"shard", NULL, shard, NULL, NULL, NULL, napi_enumerable, NULL},
    {"hash", NULL, hash, NULL, NULL, NULL, napi_enumerable, NULL},
    {"jump", NULL, jump_js, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE_INIT() { return init(env, exports); }
