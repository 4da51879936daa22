// Batch route answers written natively (POST /v1/route, both layouts): for each key, the separator,
// {"key":"K","shard":N and the shard's cached tail, copied from the RouteIndex's tail arena
// (src/runtime/route-index.ts). In JS the same bytes cost ~450 ns per key (V8's byte stores, ~6 ns each);
// here the key's bytes are copied once, hashed where they land and the tail is one memcpy.
// The JS side (RouteIndex.writeAnswerRun) calls answersBegin with the output and the tail cache, then
// answer(key, at) per key until one returns -1 (a key to write in JS: not plain ASCII, longer than the
// lookup's bound, a tail not cached yet, or no room left), then answersEnd. The run's pointers stay valid
// only while JS holds those arrays, which it does for the whole synchronous run; answersEnd forgets them
// and answer() without a run returns -1. Per thread: the table builder's worker may load the addon too.
// Single answers (GET /v1/route/:key) take answerText: the same bytes, returned as one flat string
// (Node writes a string body together with the headers, and a flat one spares fastify's length check
// and Node's write the flattening of a concatenation).
#include <node.h>
#include <v8.h>

#include <cstring>

extern "C" {
#include "lookup-core.h"
}

#include "answers.h"

namespace swimring {
namespace {

using v8::FunctionCallbackInfo;
using v8::Isolate;
using v8::Local;
using v8::String;
using v8::Uint32;
using v8::Value;

constexpr int kMaxKeyUnits = 256;  // the lookup's bound (lookup.cc)

// A RouteIndex's tail cache for one layout, as the addon reads it.
struct TailCache {
  const uint16_t* shard_tails = nullptr;  // tail id per shard, 0 = not cached
  int32_t buckets = 0;
  const uint32_t* offsets = nullptr;  // tail id i's bytes: arena[offsets[i - 1] .. offsets[i])
  size_t offset_count = 0;
  const uint8_t* arena = nullptr;
  size_t arena_length = 0;
};

struct AnswerRun {
  uint8_t* out = nullptr;
  size_t out_length = 0;
  TailCache tails;
  uint32_t next_index = 0;  // the batch index of the next answer: all but the first get a separator
};

thread_local AnswerRun run;

template <typename T>
bool ViewOf(Local<Value> value, bool kind_ok, T** data, size_t* count) {
  if (!kind_ok) return false;
  Local<v8::ArrayBufferView> view = value.As<v8::ArrayBufferView>();
  // Buffer() moves a small on-heap array's bytes off the heap, so the pointer stays put during the run.
  uint8_t* base = static_cast<uint8_t*>(view->Buffer()->Data());
  if (base == nullptr && view->ByteLength() > 0) return false;
  *data = reinterpret_cast<T*>(base + view->ByteOffset());
  *count = view->ByteLength() / sizeof(T);
  return true;
}

void Fail(const FunctionCallbackInfo<Value>& info, const char* message) {
  Isolate* isolate = info.GetIsolate();
  isolate->ThrowException(v8::Exception::TypeError(String::NewFromUtf8(isolate, message).ToLocalChecked()));
}

// The tail cache from info[first .. first + 2] (shardTails: Uint16Array, offsets: Uint32Array, arena:
// Uint8Array); throws a TypeError naming `signature` and returns false when they are not that.
bool TailCacheOf(const FunctionCallbackInfo<Value>& info, int first, const char* signature, TailCache* cache) {
  size_t shards = 0;
  uint16_t* tails = nullptr;
  uint32_t* offsets = nullptr;
  uint8_t* arena = nullptr;
  TailCache next;
  if (!ViewOf(info[first], info[first]->IsUint16Array(), &tails, &shards) ||
      !ViewOf(info[first + 1], info[first + 1]->IsUint32Array(), &offsets, &next.offset_count) ||
      !ViewOf(info[first + 2], info[first + 2]->IsUint8Array(), &arena, &next.arena_length)) {
    Fail(info, signature);
    return false;
  }
  if (shards < 1 || shards > 2147483647 || next.offset_count < 1) {
    Fail(info, "shardTails must have one entry per shard (1 to 2^31 - 1), offsets at least one");
    return false;
  }
  next.shard_tails = tails;
  next.buckets = static_cast<int32_t>(shards);
  next.offsets = offsets;
  next.arena = arena;
  *cache = next;
  return true;
}

// answersBegin(out: Uint8Array, shardTails: Uint16Array, offsets: Uint32Array, arena: Uint8Array, index)
void Begin(const FunctionCallbackInfo<Value>& info) {
  run = AnswerRun();
  AnswerRun next;
  constexpr const char* kSignature = "answersBegin(out: Uint8Array, shardTails: Uint16Array, offsets: Uint32Array, arena: Uint8Array, index: uint32)";
  if (!ViewOf(info[0], info[0]->IsUint8Array(), &next.out, &next.out_length)) {
    Fail(info, kSignature);
    return;
  }
  if (!TailCacheOf(info, 1, kSignature, &next.tails)) return;
  if (!info[4]->IsUint32()) {
    Fail(info, kSignature);
    return;
  }
  next.next_index = info[4].As<Uint32>()->Value();
  run = next;
}

void End(const FunctionCallbackInfo<Value>&) { run = AnswerRun(); }

// JSON needs no escape for these bytes, and as ASCII they are their own UTF-8.
bool IsPlain(const uint8_t* p, int length) {
  bool plain = true;
  for (int i = 0; i < length; i++) {
    const uint8_t c = p[i];
    plain &= (c >= 0x20) & (c <= 0x7e) & (c != '"') & (c != '\\');
  }
  return plain;
}

uint8_t* PutDigits(uint8_t* p, uint32_t n) {
  uint8_t digits[10];
  int count = 0;
  do {
    digits[count++] = static_cast<uint8_t>('0' + n % 10);
    n /= 10;
  } while (n > 0);
  while (count > 0) *p++ = digits[--count];
  return p;
}

constexpr char kKeyOpen[] = "{\"key\":\"";
constexpr char kShardField[] = "\",\"shard\":";
constexpr size_t kKeyOpenLength = sizeof(kKeyOpen) - 1;
constexpr size_t kShardFieldLength = sizeof(kShardField) - 1;

// Writes {"key":"K","shard":N and the shard's cached tail for `key` from p, with `limit` the end of the
// room; returns the answer's end, or nullptr when JS must write it (not plain ASCII, longer than the
// lookup's bound, a tail not cached yet, no room). Bytes before limit may have been written either way.
uint8_t* WriteAnswer(Isolate* isolate, const TailCache& cache, Local<Value> key_value, uint8_t* p, uint8_t* limit) {
  if (!key_value->IsString()) return nullptr;
  Local<String> key = key_value.As<String>();
  const int units = key->Length();
  if (units > kMaxKeyUnits || !key->IsOneByte()) return nullptr;
  // Key and shard (the tail's room is checked once its length is known).
  if (static_cast<size_t>(limit - p) < kKeyOpenLength + static_cast<size_t>(units) + kShardFieldLength + 10) return nullptr;
  std::memcpy(p, kKeyOpen, kKeyOpenLength);
  p += kKeyOpenLength;
  key->WriteOneByte(isolate, p, 0, units, String::NO_NULL_TERMINATION);
  if (!IsPlain(p, units)) return nullptr;
  const int32_t shard = jump(xxh64(p, static_cast<size_t>(units)), cache.buckets);
  p += units;
  const uint16_t id = cache.shard_tails[shard];
  if (id == 0 || id >= cache.offset_count) return nullptr;
  const uint32_t start = cache.offsets[id - 1];
  const uint32_t end = cache.offsets[id];
  if (end < start || end > cache.arena_length) return nullptr;
  std::memcpy(p, kShardField, kShardFieldLength);
  p = PutDigits(p + kShardFieldLength, static_cast<uint32_t>(shard));
  if (static_cast<size_t>(limit - p) < end - start) return nullptr;
  std::memcpy(p, cache.arena + start, end - start);
  return p + (end - start);
}

// answer(key, at): the end of the answer written at `at`, or -1 when JS must write this one.
void Answer(const FunctionCallbackInfo<Value>& info) {
  info.GetReturnValue().Set(-1);
  if (run.out == nullptr) return;
  Local<Value> at_value = info[1];
  if (!at_value->IsUint32()) return;
  const size_t at = at_value.As<Uint32>()->Value();
  if (at >= run.out_length) return;
  uint8_t* p = run.out + at;
  if (run.next_index > 0) *p++ = ',';
  uint8_t* end = WriteAnswer(info.GetIsolate(), run.tails, info[0], p, run.out + run.out_length);
  if (end == nullptr) return;
  run.next_index++;
  info.GetReturnValue().Set(static_cast<uint32_t>(end - run.out));
}

// Room for one text answer: the longest key (256 one-byte units) and a tail of several KB (long names and
// addresses, many replicas) fit; a longer answer is written in JS.
constexpr size_t kTextRoom = 8192;

// answerText(key, shardTails: Uint16Array, offsets: Uint32Array, arena: Uint8Array): the key's whole
// answer as a flat string, or undefined when JS must write it (as answer() hands keys back).
void AnswerText(const FunctionCallbackInfo<Value>& info) {
  TailCache cache;
  if (!TailCacheOf(info, 1, "answerText(key: string, shardTails: Uint16Array, offsets: Uint32Array, arena: Uint8Array)", &cache)) return;
  thread_local uint8_t room[kTextRoom];
  uint8_t* end = WriteAnswer(info.GetIsolate(), cache, info[0], room, room + kTextRoom);
  if (end == nullptr) return;
  // The key is ASCII, but a tail holds UTF-8 (member names, tags): decoded as such; an all-ASCII answer
  // still becomes a one-byte string.
  Local<String> text;
  if (String::NewFromUtf8(info.GetIsolate(), reinterpret_cast<const char*>(room), v8::NewStringType::kNormal, static_cast<int>(end - room)).ToLocal(&text)) {
    info.GetReturnValue().Set(text);
  }
}

}  // namespace

void RegisterAnswers(Local<v8::Object> exports) {
  jump_select();  // lookup-core.h's choice is per translation unit: this file's jump() needs its own
  NODE_SET_METHOD(exports, "answersBegin", Begin);
  NODE_SET_METHOD(exports, "answer", Answer);
  NODE_SET_METHOD(exports, "answersEnd", End);
  NODE_SET_METHOD(exports, "answerText", AnswerText);
}

}  // namespace swimring
