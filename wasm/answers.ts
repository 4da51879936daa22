// Route answers written in WebAssembly (POST /v1/route in both layouts, GET /v1/route/:key): for a key
// the JS side has copied into memory (plain ASCII: JSON needs no escape for it), {"key":"K","shard":N and
// the shard's cached tail, copied from a RouteIndex's tail cache, which lives in this module's memory
// (src/runtime/tail-store.ts). The JS side (src/runtime/wasm-answers.ts) writes the key's bytes where they
// belong in the answer, so they are copied once and hashed where they land.
import { jump, xxh64 } from './lookup';

// The tail cache answers read (useTails): per shard a u16 tail id (0: not cached); tail id i's bytes are
// arena[offsets[i - 1] .. offsets[i]).
let tailIds: usize = 0;
let tailBuckets: i32 = 1;
let tailOffsets: usize = 0;
let tailOffsetCount: u32 = 0;
let tailArena: usize = 0;
let tailArenaLength: u32 = 0;

/** Selects the tail cache the next answers read. */
export function useTails(ids: usize, buckets: i32, offsets: usize, offsetCount: u32, arena: usize, arenaLength: u32): void {
  tailIds = ids;
  tailBuckets = buckets;
  tailOffsets = offsets;
  tailOffsetCount = offsetCount;
  tailArena = arena;
  tailArenaLength = arenaLength;
}

// {"key":" and ","shard": as little-endian words.
// @ts-ignore: decorator
@inline const KEY_OPEN: u64 = 0x223a2279656b227b;
// @ts-ignore: decorator
@inline const KEY_OPEN_LENGTH: usize = 8;
// @ts-ignore: decorator
@inline const SHARD_FIELD_HEAD: u64 = 0x6472616873222c22; // ","shard
// @ts-ignore: decorator
@inline const SHARD_FIELD_TAIL: u16 = 0x3a22; // ":
// @ts-ignore: decorator
@inline const SHARD_FIELD_LENGTH: usize = 10;

function digitCount(n: u32): usize {
  let count: usize = 1;
  while (n >= 10) {
    n /= 10;
    count++;
  }
  return count;
}

/**
 * Writes {"key":"K","shard":N and the shard's tail at `at`, where the key's `keyLength` bytes already are
 * at at + 8, with `limit` the end of the room. Returns the answer's end, or 0 when the JS side must write
 * it (the tail is not cached yet, or no room). Bytes before limit may have been written either way.
 */
export function answer(at: usize, keyLength: usize, limit: usize): usize {
  const key = at + KEY_OPEN_LENGTH;
  if (limit < key || limit - key < keyLength + SHARD_FIELD_LENGTH + 10) return 0;
  const shard = jump(xxh64(key, keyLength), tailBuckets);
  const id = <u32>load<u16>(tailIds + (<usize>shard << 1));
  if (id == 0 || id >= tailOffsetCount) return 0;
  const start = load<u32>(tailOffsets + (<usize>(id - 1) << 2));
  const end = load<u32>(tailOffsets + (<usize>id << 2));
  if (end < start || end > tailArenaLength) return 0;
  store<u64>(at, KEY_OPEN);
  let p = key + keyLength;
  store<u64>(p, SHARD_FIELD_HEAD);
  store<u16>(p, SHARD_FIELD_TAIL, 8);
  p += SHARD_FIELD_LENGTH;
  let n = <u32>shard;
  const digits = digitCount(n);
  for (let i = digits; i > 0; i--) {
    store<u8>(p + i - 1, <u8>(48 + n % 10));
    n /= 10;
  }
  p += digits;
  const length = <usize>(end - start);
  if (limit - p < length) return 0;
  memory.copy(p, tailArena + start, length);
  return p + length;
}
