// The placement fast path in WebAssembly (wasm/swimring.ts, built by `npm run wasm` into the checked-in,
// shipped wasm/swimring.wasm): XXH64 of a key's UTF-8 bytes and jump hash in one call, and the route
// answer writer (src/runtime/wasm-answers.ts). No compiler on the user's machine, the same bytes on every
// Node version and CPU. Loaded synchronously at import (a few KB: compiling it is quick). When it cannot
// load, or SWIMRING_WASM=0, lookups take the JS path, which gives the same answers
// (test/placement/wasm.test.ts checks both against the reference and the shared vectors).
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// The few WebAssembly API pieces used here (this project's TypeScript libs do not declare them).
interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
interface WebAssemblyApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => { readonly exports: Record<string, unknown> };
  Memory: abstract new (...args: never[]) => WasmMemory;
}
const WebAssemblyGlobal = (globalThis as { WebAssembly?: WebAssemblyApi }).WebAssembly;

/** The module's exports (wasm/swimring.ts); pointers and lengths are byte offsets into `memory`. */
export interface WasmExports {
  readonly memory: WasmMemory;
  xxh64(p: number, len: number): bigint;
  jump(key: bigint, buckets: number): number;
  /** jump of two keys (the batch answer writer runs it); the second's bucket from jump2Second (tests). */
  jump2(key: bigint, other: bigint, buckets: number): number;
  jump2Second(): number;
  jumpReference(key: bigint, buckets: number): number;
  shard(p: number, len: number, buckets: number): number;
  alloc(bytes: number): number;
  release(p: number): void;
  useTails(ids: number, buckets: number, offsets: number, offsetCount: number, arena: number, arenaLength: number): void;
  answer(at: number, keyLength: number, limit: number): number;
  answerRun(keys: number, lengths: number, count: number, at: number, limit: number, comma: number): number;
  runEnd(): number;
}

// From src/placement/ (tests) and from dist/placement/ (the agent) alike: the module is in wasm/ at the top.
const MODULE_PATH = fileURLToPath(new URL('../../wasm/swimring.wasm', import.meta.url));

export type WasmStatus = { readonly loaded: true; readonly path: string } | { readonly loaded: false; readonly reason: string };

function isWasmExports(api: WebAssemblyApi, x: Record<string, unknown>): boolean {
  const fns = ['xxh64', 'jump', 'jumpReference', 'shard', 'alloc', 'release', 'useTails', 'answer', 'answerRun', 'runEnd', 'jump2', 'jump2Second'];
  return x['memory'] instanceof api.Memory && fns.every((name) => typeof x[name] === 'function');
}

function load(): { exports: WasmExports | null; status: WasmStatus } {
  if (process.env['SWIMRING_WASM'] === '0') return { exports: null, status: { loaded: false, reason: 'SWIMRING_WASM=0' } };
  const api = WebAssemblyGlobal;
  if (api === undefined) return { exports: null, status: { loaded: false, reason: 'no WebAssembly in this Node (--jitless?)' } };
  if (!existsSync(MODULE_PATH)) return { exports: null, status: { loaded: false, reason: `missing ${MODULE_PATH}` } };
  try {
    const module = new api.Module(readFileSync(MODULE_PATH));
    const abort = (): never => {
      throw new Error('swimring.wasm aborted');
    };
    const instance = new api.Instance(module, { env: { abort } });
    if (!isWasmExports(api, instance.exports)) return { exports: null, status: { loaded: false, reason: 'the module lacks a function this version calls' } };
    return { exports: instance.exports as unknown as WasmExports, status: { loaded: true, path: MODULE_PATH } };
  } catch (err) {
    return { exports: null, status: { loaded: false, reason: err instanceof Error ? err.message : String(err) } };
  }
}

const loaded = load();

/** The module, or null: then lookups and answers take the JS path. */
export const wasm: WasmExports | null = loaded.exports;
/** Whether the module is in use and why not (the agent's "swimring is running" log line says which). */
export const wasmStatus: WasmStatus = loaded.status;

/**
 * The module's memory as bytes. Growing the memory (only alloc does) detaches the old view: wasmAlloc
 * renews it, and `memoryGeneration` counts renewals so holders of other views know to renew theirs.
 */
export let heap: Uint8Array = wasm === null ? new Uint8Array(0) : new Uint8Array(wasm.memory.buffer);
/** The same memory as 32-bit words (little-endian, as wasm), for copying keys four characters at a time. */
let heapWords = new Int32Array(heap.buffer, 0, heap.length >>> 2);
export let memoryGeneration = 0;

/** `bytes` of the module's memory (released with wasm.release); renews `heap` if the memory grew. */
export function wasmAlloc(module: WasmExports, bytes: number): number {
  const p = module.alloc(bytes);
  if (heap.buffer !== module.memory.buffer) {
    heap = new Uint8Array(module.memory.buffer);
    heapWords = new Int32Array(heap.buffer, 0, heap.length >>> 2);
    memoryGeneration++;
  }
  return p;
}

const encoder = new TextEncoder();
/** Where a key's UTF-8 bytes go for a lookup: keyRoom bytes at keyAt. */
let keyAt = 0;
let keyRoom = 0;
let keyView: Uint8Array = new Uint8Array(0);
let keyGeneration = -1;

function keyBuffer(module: WasmExports, bytes: number): void {
  if (bytes > keyRoom) {
    if (keyRoom > 0) module.release(keyAt);
    keyRoom = Math.max(bytes, 1024);
    keyAt = wasmAlloc(module, keyRoom);
  }
  keyView = heap.subarray(keyAt, keyAt + keyRoom);
  keyGeneration = memoryGeneration;
}

/** Keys up to this many units are copied by a loop while they are ASCII; longer ones by encodeInto. */
const ASCII_COPY_UNITS = 24;

/**
 * Copies the UTF-8 bytes of `key` into the key buffer; returns their length (the buffer is then at
 * keyAt). Lone surrogates become U+FFFD (EF BF BD), as TextEncoder does everywhere. An ASCII key's bytes
 * are its char codes: a loop copies short ones (encodeInto's fixed cost is about a short key's lookup).
 */
export function writeKey(module: WasmExports, key: string): number {
  const units = key.length;
  // Each UTF-16 unit becomes at most 3 UTF-8 bytes.
  if (units * 3 > keyRoom || keyGeneration !== memoryGeneration) keyBuffer(module, units * 3);
  if (units <= ASCII_COPY_UNITS) {
    // Four characters per store: V8's typed-array stores cost more than the reads and the packing.
    const words = heapWords;
    const bytes = heap;
    const at = keyAt;
    let w = at >>> 2;
    let i = 0;
    let high = 0;
    for (; i + 4 <= units; i += 4) {
      const c0 = key.charCodeAt(i);
      const c1 = key.charCodeAt(i + 1);
      const c2 = key.charCodeAt(i + 2);
      const c3 = key.charCodeAt(i + 3);
      high |= c0 | c1 | c2 | c3;
      words[w++] = c0 | (c1 << 8) | (c2 << 16) | (c3 << 24);
    }
    for (; i < units; i++) {
      const c = key.charCodeAt(i);
      high |= c;
      bytes[at + i] = c;
    }
    if (high <= 0x7f) return units;
  }
  return encoder.encodeInto(key, keyView).written;
}

/** Where writeKey left the key's bytes. */
export function keyAddress(): number {
  return keyAt;
}

/** The largest bucket count jump accepts (int32 buckets). */
const MAX_BUCKETS = 0x7fffffff;

function checkBuckets(buckets: number): void {
  if (!Number.isInteger(buckets) || buckets < 1 || buckets > MAX_BUCKETS) throw new RangeError('buckets must be an integer in [1, 2^31 - 1]');
}

/** The lookup API on the module (tests, tools and the tables' shardFor). */
export interface WasmLookup {
  /** jump(xxh64(utf8(key)), buckets); buckets in [1, 2^31 - 1]. */
  shard(key: string, buckets: number): number;
  /** XXH64 of the key's UTF-8 bytes as [high, low] uint32 words (tests). */
  hash(key: string): [number, number];
  /** Jump hash of hi * 2^32 + lo: the loop lookups run (tests). */
  jump(hi: number, lo: number, buckets: number): number;
  /** The same by the paper's loop as written (tests compare them). */
  jumpReference(hi: number, lo: number, buckets: number): number;
}

function word64(hi: number, lo: number): bigint {
  if (!Number.isInteger(hi) || !Number.isInteger(lo) || hi < 0 || lo < 0 || hi > 0xffffffff || lo > 0xffffffff) throw new TypeError('jump(hi, lo, buckets) takes uint32 halves');
  return BigInt.asUintN(64, (BigInt(hi) << 32n) | BigInt(lo));
}

function lookupOn(module: WasmExports): WasmLookup {
  return {
    shard(key, buckets) {
      if (typeof key !== 'string') throw new TypeError('key must be a string');
      checkBuckets(buckets);
      const len = writeKey(module, key);
      return module.shard(keyAt, len, buckets);
    },
    hash(key) {
      if (typeof key !== 'string') throw new TypeError('key must be a string');
      const len = writeKey(module, key); // first: it may move the key buffer
      const h = BigInt.asUintN(64, module.xxh64(keyAt, len));
      return [Number(h >> 32n), Number(h & 0xffffffffn)];
    },
    jump(hi, lo, buckets) {
      const key = word64(hi, lo);
      checkBuckets(buckets);
      return module.jump(key, buckets);
    },
    jumpReference(hi, lo, buckets) {
      const key = word64(hi, lo);
      checkBuckets(buckets);
      return module.jumpReference(key, buckets);
    },
  };
}

/** The module's lookup, or null without it. */
export const wasmLookup: WasmLookup | null = wasm === null ? null : lookupOn(wasm);

/**
 * jump(xxh64(utf8(key)), buckets) on the module for a bucket count the caller has checked (an integer in
 * [1, 2^31 - 1]; tables check theirs when they are built), or null without the module: what tables call.
 * One function for every table and count, so their call site stays monomorphic and V8 inlines it with the
 * call into the module; the count goes as one more i32 argument, which costs the module nothing.
 */
export const wasmShard: ((key: string, buckets: number) => number) | null = wasm === null ? null : shardOn(wasm);

function shardOn(module: WasmExports): (key: string, buckets: number) => number {
  return (key, buckets) => {
    const len = writeKey(module, key); // first: it may move the key buffer
    return module.shard(keyAt, len, buckets);
  };
}

const boundShards = new Map<number, (key: string) => number>();

/**
 * The module's lookup for one bucket count, checked here, or null without the module (the client
 * library's tables bind their count; one function per count for the whole process).
 */
export function wasmShardFor(buckets: number): ((key: string) => number) | null {
  const shard = wasmShard;
  if (shard === null) return null;
  let bound = boundShards.get(buckets);
  if (bound === undefined) {
    checkBuckets(buckets);
    bound = (key: string): number => shard(key, buckets);
    boundShards.set(buckets, bound);
  }
  return bound;
}
