// Route answers written by the WebAssembly module (wasm/answers.ts) from a WasmTailStore. A batch goes to
// the module in chunks: the chunk's keys joined and copied into its memory by one TextEncoder.encodeInto
// (a JS loop over the characters costs more per key than one such call costs per chunk), their lengths
// beside them; one call then writes the chunk's answers into a scratch area (checking each key is plain:
// printable ASCII without quote or backslash, so JSON needs no escape and the bytes are its UTF-8, hashing
// it where it lands) and the scratch goes to the output in one copy. A single answer copies a short key
// with a JS loop, a longer one as a chunk of one. Keys to escape, tails not cached yet and a full output are handed back to the serializers' JS code.
import { heap, memoryGeneration, wasmAlloc, type WasmExports } from '../placement/wasm.js';
import type { WasmTailStore } from './tail-store.js';
import type { AnswerLayout } from './view.js';

/** {"key":" before the key's bytes. */
const KEY_OPEN_LENGTH = 8;
/** After the key: ","shard": and up to 10 digits (the module checks the tail's room itself). */
const AFTER_KEY_ROOM = 20;
/**
 * The scratch area: answers of a run collect here and go to the output when it is full. Large enough for
 * a long key and a tail of several KB; an answer longer than the room is written in JS.
 */
const SCRATCH_BYTES = 64 * 1024;
const TEXT_ROOM = 8192;
/** A chunk of a batch: at most this many keys, of at most this many UTF-16 units together. */
const CHUNK_KEYS = 256;
const CHUNK_UNITS = 16 * 1024;

let scratchAt = 0;
let scratchText: Buffer = Buffer.alloc(0);
/** A chunk's keys (room for 3 UTF-8 bytes per unit, so encodeInto never stops short) and their lengths. */
let chunkKeysAt = 0;
let chunkKeys: Uint8Array = new Uint8Array(0);
let chunkLengthsAt = 0;
let chunkLengths: Uint32Array = new Uint32Array(0);
let scratchGeneration = -1;

const encoder = new TextEncoder();

/** The scratch's address, allocated on first use (with the chunk's room); views renewed when the memory grew. */
function scratch(module: WasmExports): number {
  if (scratchAt === 0) {
    scratchAt = wasmAlloc(module, SCRATCH_BYTES);
    chunkKeysAt = wasmAlloc(module, 3 * CHUNK_UNITS);
    chunkLengthsAt = wasmAlloc(module, 4 * CHUNK_KEYS);
  }
  if (scratchGeneration !== memoryGeneration) {
    scratchText = Buffer.from(heap.buffer, heap.byteOffset, heap.length);
    chunkKeys = heap.subarray(chunkKeysAt, chunkKeysAt + 3 * CHUNK_UNITS);
    chunkLengths = new Uint32Array(heap.buffer, chunkLengthsAt, CHUNK_KEYS);
    scratchGeneration = memoryGeneration;
  }
  return scratchAt;
}

/**
 * Puts keys[from], … (at most CHUNK_KEYS of them, CHUNK_UNITS units together) in the chunk's room; returns
 * how many (0 when keys[from] alone is longer). Where a key is not ASCII, the keys from it on are not where
 * their lengths say (its UTF-8 is longer), but the module stops at it: its first non-ASCII character's first
 * byte (0x80 or above) lies within its first `length` bytes, which are in place.
 */
function fillChunk(keys: readonly string[], from: number): number {
  const lengths = chunkLengths;
  const last = Math.min(keys.length, from + CHUNK_KEYS);
  let units = 0;
  let i = from;
  for (; i < last; i++) {
    const length = keys[i]!.length;
    if (units + length > CHUNK_UNITS) break;
    lengths[i - from] = length;
    units += length;
  }
  if (i > from) encoder.encodeInto(i - from === 1 ? keys[from]! : keys.slice(from, i).join(''), chunkKeys);
  return i - from;
}

/**
 * Copies `key` to `at` if it is plain (printable ASCII without quote or backslash) and has room before
 * `limit`; returns false, having maybe written some of it, when it is not or has not.
 */
function putPlainKey(key: string, at: number, limit: number): boolean {
  const units = key.length;
  if (at + units > limit) return false;
  const bytes = heap;
  for (let i = 0; i < units; i++) {
    const c = key.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return false;
    bytes[at + i] = c;
  }
  return true;
}

/** Keys up to this many units are copied by a JS loop; longer ones by encodeInto (its fixed cost pays off). */
const LOOP_COPY_UNITS = 24;

/** One full answer as a flat string, or undefined when JS must write it. */
export function wasmAnswerText(module: WasmExports, store: WasmTailStore, key: string): string | undefined {
  const at = scratch(module);
  const limit = at + TEXT_ROOM;
  let end = 0;
  if (key.length <= LOOP_COPY_UNITS) {
    if (!putPlainKey(key, at + KEY_OPEN_LENGTH, limit - AFTER_KEY_ROOM)) return undefined;
    store.use('full');
    end = module.answer(at, key.length, limit);
  } else {
    if (key.length > CHUNK_UNITS) return undefined;
    chunkLengths[0] = key.length;
    encoder.encodeInto(key, chunkKeys);
    store.use('full');
    end = module.answerRun(chunkKeysAt, chunkLengthsAt, 1, at, limit, 0) === 1 ? module.runEnd() : 0;
  }
  // The key is ASCII, but a tail holds UTF-8 (member names, tags): decoded as such.
  return end === 0 ? undefined : scratchText.toString('utf8', at, end);
}

/** RouteIndex.writeAnswerRun's work on the module: see AnswerWriter.run (./answer-writer.ts). */
export function wasmAnswerRun(module: WasmExports, store: WasmTailStore, layout: AnswerLayout, keys: readonly string[], from: number, out: Uint8Array, at: number, end: { at: number }): number {
  const start = scratch(module);
  store.use(layout);
  let used = 0;
  // The room of this scratch load: the scratch, or what is left of `out` if less.
  let limit = start + Math.min(SCRATCH_BYTES, out.length - at);
  let i = from;
  // The chunk: `count` keys, the first `c` of them written; the next one's bytes at `offset` in its room.
  let count = 0;
  let c = 0;
  let offset = 0;
  while (i < keys.length) {
    if (c === count) {
      count = fillChunk(keys, i);
      if (count === 0) break;
      c = 0;
      offset = 0;
    }
    const comma = i > 0 ? 1 : 0;
    let wrote = module.answerRun(chunkKeysAt + offset, chunkLengthsAt + 4 * c, count - c, start + used, limit, comma);
    if (wrote === 0 && used > 0) {
      // Perhaps only the scratch was full: empty it into `out` and try once more from its start.
      out.set(heap.subarray(start, start + used), at);
      at += used;
      used = 0;
      limit = start + Math.min(SCRATCH_BYTES, out.length - at);
      wrote = module.answerRun(chunkKeysAt + offset, chunkLengthsAt + 4 * c, count - c, start, limit, comma);
    }
    if (wrote === 0) break;
    used = module.runEnd() - start;
    for (const last = c + wrote; c < last; c++) offset += chunkLengths[c]!;
    i += wrote;
  }
  out.set(heap.subarray(start, start + used), at);
  end.at = at + used;
  return i;
}
