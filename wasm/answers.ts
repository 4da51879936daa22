// Route answers written in WebAssembly (POST /v1/route in both layouts, GET /v1/route/:key): for a key
// the JS side has copied into memory (plain ASCII: JSON needs no escape for it), {"key":"K","shard":N and
// the shard's cached tail, copied from a RouteIndex's tail cache, which lives in this module's memory
// (src/runtime/tail-store.ts). The JS side (src/runtime/wasm-answers.ts) writes the key's bytes where they
// belong in the answer, so they are copied once and hashed where they land.
import { jump, jump2, jump2Second, xxh64 } from './lookup';

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
  if (!roomForKey(at, keyLength, limit)) return 0;
  return answerInShard(at, keyLength, limit, jump(xxh64(at + KEY_OPEN_LENGTH, keyLength), tailBuckets));
}

// @ts-ignore: decorator
@inline function roomForKey(at: usize, keyLength: usize, limit: usize): bool {
  const key = at + KEY_OPEN_LENGTH;
  return limit >= key && limit - key >= keyLength + SHARD_FIELD_LENGTH + 10;
}

/** answer() for a key known to be in `shard`, with roomForKey checked. */
function answerInShard(at: usize, keyLength: usize, limit: usize, shard: i32): usize {
  const id = <u32>load<u16>(tailIds + (<usize>shard << 1));
  if (id == 0 || id >= tailOffsetCount) return 0;
  const start = load<u32>(tailOffsets + (<usize>(id - 1) << 2));
  const end = load<u32>(tailOffsets + (<usize>id << 2));
  if (end < start || end > tailArenaLength) return 0;
  store<u64>(at, KEY_OPEN);
  let p = at + KEY_OPEN_LENGTH + keyLength;
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

/** Where the last answerRun stopped writing. */
let lastRunEnd: usize = 0;

export function runEnd(): usize {
  return lastRunEnd;
}

// @ts-ignore: decorator
@inline const LOW_BITS: u64 = 0x0101010101010101;
// @ts-ignore: decorator
@inline const HIGH_BITS: u64 = 0x8080808080808080;

/** Whether a byte of `w` is zero (exact: no false positives). */
// @ts-ignore: decorator
@inline function hasZeroByte(w: u64): bool {
  return ((w - LOW_BITS) & ~w & HIGH_BITS) != 0;
}

/**
 * Copies `length` bytes from `from` to `to` if they are plain (printable ASCII without quote or backslash:
 * JSON needs no escape for them, and they are their own UTF-8); false, having maybe copied some, if not.
 * Eight bytes at a time: with no byte at 0x80 or above, a byte is below 0x20 iff w - 0x20 borrows into its
 * top bit, and above 0x7e iff it is 0x7f.
 */
function copyPlain(from: usize, to: usize, length: usize): bool {
  let i: usize = 0;
  for (; i + 8 <= length; i += 8) {
    const w = load<u64>(from + i);
    if ((w & HIGH_BITS) != 0 || ((w - LOW_BITS * 0x20) & ~w & HIGH_BITS) != 0) return false;
    if (hasZeroByte(w ^ (LOW_BITS * 0x7f)) || hasZeroByte(w ^ (LOW_BITS * 0x22)) || hasZeroByte(w ^ (LOW_BITS * 0x5c))) return false;
    store<u64>(to + i, w);
  }
  for (; i < length; i++) {
    const c = load<u8>(from + i);
    if (c < 0x20 || c > 0x7e || c == 0x22 || c == 0x5c) return false;
    store<u8>(to + i, c);
  }
  return true;
}

/**
 * The answers of `count` keys whose bytes lie back to back at `keys` (their lengths as u32 at `lengths`),
 * each after the previous one, from `at` on, with `limit` the end of the room; a comma before each but the
 * first, and before the first too if `comma`. Stops at the first key it must hand back (not plain, its tail
 * not cached, no room). Returns how many it wrote; runEnd() is where they end. Nothing is written at or past
 * `limit`.
 */
export function answerRun(keys: usize, lengths: usize, count: u32, at: usize, limit: usize, comma: bool): u32 {
  let written: u32 = 0;
  // Keys go to jump in pairs (jump2): the shard of the pair's second key, or -1.
  let pending: i32 = -1;
  for (; written < count; written++) {
    const length = <usize>load<u32>(lengths + (<usize>written << 2));
    let shard = pending;
    pending = -1;
    if (shard < 0) {
      if (written + 1 < count) {
        // The bytes where they are: if a key is not plain the run stops at it, and its hash goes unused.
        const next = <usize>load<u32>(lengths + (<usize>(written + 1) << 2));
        shard = jump2(xxh64(keys, length), xxh64(keys + length, next), tailBuckets);
        pending = jump2Second();
      } else {
        shard = jump(xxh64(keys, length), tailBuckets);
      }
    }
    const p = at + <usize>comma;
    const key = p + KEY_OPEN_LENGTH;
    if (!roomForKey(p, length, limit) || !copyPlain(keys, key, length)) break;
    const end = answerInShard(p, length, limit, shard);
    if (end == 0) break;
    if (comma) store<u8>(at, 0x2c);
    at = end;
    keys += length;
    comma = true;
  }
  lastRunEnd = at;
  return written;
}
