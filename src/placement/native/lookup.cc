// The lookup's hot path in C++, loaded by src/placement/native.ts when the build could compile it
// (scripts/build-native.mjs; without a compiler the same answers come from the JS code).
// XXH64 (seed 0) of a key's UTF-8 bytes, then jump consistent hash (lookup-core.h): the definitions of
// docs/placement.md, checked against ../shared/vectors and against the JS path in
// test/placement/native.test.ts.
// Why native: JS has no 64-bit multiply, and its emulation on 32-bit halves costs more than a whole native
// lookup. Why V8's API and not Node-API: Node-API's call and string copy cost ~130 ns of a ~300 ns lookup,
// V8's ~70 (bench/README.md, "Placement"); with the bucket count bound (shardFor) ~60. V8's API changes
// between Node versions, so the addon is built on the machine (or image stage) that runs it, against that
// node's headers; a mismatch fails to load and the agent uses the WebAssembly module (src/placement/wasm.ts).
#include <node.h>
#include <v8.h>

extern "C" {
#include "lookup-core.h"
}

#include "answers.h"

namespace {

using v8::Exception;
using v8::FunctionCallbackInfo;
using v8::Int32;
using v8::Isolate;
using v8::Local;
using v8::Number;
using v8::String;
using v8::Uint32;
using v8::Value;

constexpr int kKeyBuffer = 1024;
// 256 UTF-16 units are at most 768 UTF-8 bytes: NATIVE_MAX_KEY_UNITS in src/placement/native.ts.
constexpr int kMaxKeyUnits = 256;
constexpr double kMaxBuckets = 2147483647.0;

void Throw(Isolate* isolate, bool range, const char* message) {
  Local<String> text = String::NewFromUtf8(isolate, message).ToLocalChecked();
  isolate->ThrowException(range ? Exception::RangeError(text) : Exception::TypeError(text));
}

bool IsAscii(const uint8_t* p, int len) {
  uint64_t high = 0;
  int i = 0;
  for (; i + 8 <= len; i += 8) high |= read64(p + i);
  for (; i < len; i++) high |= p[i];
  return (high & 0x8080808080808080ULL) == 0;
}

// The key's UTF-8 bytes into buf (lone surrogates become U+FFFD, as TextEncoder does); -1 with a JS
// error thrown when the argument is not a string of at most kMaxKeyUnits units. One-byte strings of
// ASCII characters (nearly every key) are copied as they are; anything else is encoded by V8.
int KeyBytes(Isolate* isolate, Local<Value> value, uint8_t* buf) {
  if (!value->IsString()) {
    Throw(isolate, false, "key must be a string");
    return -1;
  }
  Local<String> key = value.As<String>();
  const int units = key->Length();
  if (units > kMaxKeyUnits) {
    Throw(isolate, true, "key longer than 256 UTF-16 units: the JS path hashes it");
    return -1;
  }
  if (key->IsOneByte()) {
    key->WriteOneByte(isolate, buf, 0, units, String::NO_NULL_TERMINATION);
    if (IsAscii(buf, units)) return units;
  }
  return key->WriteUtf8(isolate, reinterpret_cast<char*>(buf), kKeyBuffer, nullptr, String::NO_NULL_TERMINATION | String::REPLACE_INVALID_UTF8);
}

bool Buckets(Isolate* isolate, Local<Value> value, int32_t* buckets) {
  const double d = value->IsNumber() ? value.As<Number>()->Value() : 0;
  if (!(d >= 1 && d <= kMaxBuckets) || d != static_cast<double>(static_cast<int32_t>(d))) {
    Throw(isolate, true, "buckets must be an integer in [1, 2^31 - 1]");
    return false;
  }
  *buckets = static_cast<int32_t>(d);
  return true;
}

// shard(key, buckets): jump(xxh64(utf8(key)), buckets).
void Shard(const FunctionCallbackInfo<Value>& info) {
  Isolate* isolate = info.GetIsolate();
  uint8_t buf[kKeyBuffer];
  int32_t buckets = 0;
  const int len = KeyBytes(isolate, info[0], buf);
  if (len < 0 || !Buckets(isolate, info[1], &buckets)) return;
  info.GetReturnValue().Set(jump(xxh64(buf, static_cast<size_t>(len)), buckets));
}

// The function shardFor(buckets) returns: shard(key, buckets) with the bucket count bound, validated once.
// Reading it from the function's data instead of an argument saves ~9 of a lookup's ~230 ns.
void BoundShard(const FunctionCallbackInfo<Value>& info) {
  uint8_t buf[kKeyBuffer];
  const int len = KeyBytes(info.GetIsolate(), info[0], buf);
  if (len < 0) return;
  info.GetReturnValue().Set(jump(xxh64(buf, static_cast<size_t>(len)), info.Data().As<Int32>()->Value()));
}

// shardFor(buckets): a function of one argument, the key. Function::New, not a FunctionTemplate: V8 keeps
// every template's instantiation for the life of the context, a plain function goes with its last user.
void ShardFor(const FunctionCallbackInfo<Value>& info) {
  Isolate* isolate = info.GetIsolate();
  int32_t buckets = 0;
  if (!Buckets(isolate, info[0], &buckets)) return;
  Local<v8::Function> bound;
  if (v8::Function::New(isolate->GetCurrentContext(), BoundShard, Int32::New(isolate, buckets), 1, v8::ConstructorBehavior::kThrow).ToLocal(&bound)) {
    info.GetReturnValue().Set(bound);
  }
}

// hash(key): the XXH64 as [high word, low word] (uint32 each), for tests.
void Hash(const FunctionCallbackInfo<Value>& info) {
  Isolate* isolate = info.GetIsolate();
  uint8_t buf[kKeyBuffer];
  const int len = KeyBytes(isolate, info[0], buf);
  if (len < 0) return;
  const uint64_t h = xxh64(buf, static_cast<size_t>(len));
  Local<Value> words[] = {Uint32::NewFromUnsigned(isolate, static_cast<uint32_t>(h >> 32)), Uint32::NewFromUnsigned(isolate, static_cast<uint32_t>(h))};
  info.GetReturnValue().Set(v8::Array::New(isolate, words, 2));
}

// jump(hi, lo, buckets): jump consistent hash of the 64-bit key hi * 2^32 + lo, for tests; as
// jumpReference, always the paper's loop (jump_reference), so tests compare the two.
void Jump(const FunctionCallbackInfo<Value>& info) {
  Isolate* isolate = info.GetIsolate();
  if (!info[0]->IsUint32() || !info[1]->IsUint32()) {
    Throw(isolate, false, "jump(hi, lo, buckets) takes uint32 halves");
    return;
  }
  int32_t buckets = 0;
  if (!Buckets(isolate, info[2], &buckets)) return;
  const uint64_t key = (static_cast<uint64_t>(info[0].As<Uint32>()->Value()) << 32) | info[1].As<Uint32>()->Value();
  info.GetReturnValue().Set(info.Data()->IsTrue() ? jump_reference(key, buckets) : jump(key, buckets));
}

}  // namespace

NODE_MODULE_INIT() {
  jump_select();
  Isolate* isolate = context->GetIsolate();
  NODE_SET_METHOD(exports, "shard", Shard);
  NODE_SET_METHOD(exports, "shardFor", ShardFor);
  NODE_SET_METHOD(exports, "hash", Hash);
  NODE_SET_METHOD(exports, "jump", Jump);
  Local<v8::Function> reference = v8::Function::New(context, Jump, v8::True(isolate), 3).ToLocalChecked();
  exports->Set(context, String::NewFromUtf8Literal(isolate, "jumpReference"), reference).Check();
  // Which jump loop this machine runs (lookup-core.h): "fused" or "reference"; the agent's start-up log says.
  swimring::RegisterAnswers(exports);
  exports->Set(context, String::NewFromUtf8Literal(isolate, "jumpLoop"), jump_uses_fma ? String::NewFromUtf8Literal(isolate, "fused") : String::NewFromUtf8Literal(isolate, "reference")).Check();
}
