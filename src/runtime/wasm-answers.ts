// Route answers written by the WebAssembly module (wasm/answers.ts) from a WasmTailStore: JS copies each
// plain key's bytes (printable ASCII without quote or backslash: JSON needs no escape, and they are their
// own UTF-8) to where they belong in the answer, in a scratch area of the module's memory; the module
// hashes them there and writes the rest of the answer; the scratch goes to the output in one copy. Keys
// to escape, tails not cached yet and a full output are handed back to the serializers' JS code.
import { heap, memoryGeneration, wasmAlloc, type WasmExports } from '../placement/wasm.js';
import type { WasmTailStore } from './tail-store.js';
import type { AnswerLayout } from './view.js';

/** {"key":" before the key's bytes. */
const KEY_OPEN_LENGTH = 8;
/** After the key: ","shard": and up to 10 digits (the module checks the tail's room itself). */
const AFTER_KEY_ROOM = 20;
/**
 * The scratch area: answers of a run collect here and go to the output when it is full. Large enough for
 * the longest answer the addon writes (a 256-unit key and a tail of several KB); a longer one is written
 * in JS.
 */
const SCRATCH_BYTES = 64 * 1024;
const TEXT_ROOM = 8192;

let scratchAt = 0;
let scratchText: Buffer = Buffer.alloc(0);
let scratchGeneration = -1;

/** The scratch's address, allocated on first use; the Buffer over the module's memory renewed when it grew. */
function scratch(module: WasmExports): number {
  if (scratchAt === 0) scratchAt = wasmAlloc(module, SCRATCH_BYTES);
  if (scratchGeneration !== memoryGeneration) {
    scratchText = Buffer.from(heap.buffer, heap.byteOffset, heap.length);
    scratchGeneration = memoryGeneration;
  }
  return scratchAt;
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

/** One full answer as a flat string, or undefined when JS must write it. */
export function wasmAnswerText(module: WasmExports, store: WasmTailStore, key: string): string | undefined {
  const at = scratch(module);
  const limit = at + TEXT_ROOM;
  if (!putPlainKey(key, at + KEY_OPEN_LENGTH, limit - AFTER_KEY_ROOM)) return undefined;
  store.use('full');
  const end = module.answer(at, key.length, limit);
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
  for (; i < keys.length; i++) {
    const key = keys[i]!;
    const comma = i > 0 ? 1 : 0;
    let p = start + used;
    let next = putPlainKey(key, p + comma + KEY_OPEN_LENGTH, limit - AFTER_KEY_ROOM) ? module.answer(p + comma, key.length, limit) : 0;
    if (next === 0 && used > 0) {
      // Perhaps only the scratch was full: empty it into `out` and try once more from its start.
      out.set(heap.subarray(start, start + used), at);
      at += used;
      used = 0;
      p = start;
      limit = start + Math.min(SCRATCH_BYTES, out.length - at);
      next = putPlainKey(key, p + comma + KEY_OPEN_LENGTH, limit - AFTER_KEY_ROOM) ? module.answer(p + comma, key.length, limit) : 0;
    }
    if (next === 0) break;
    if (comma === 1) heap[p] = 0x2c;
    used = next - start;
  }
  out.set(heap.subarray(start, start + used), at);
  end.at = at + used;
  return i;
}
