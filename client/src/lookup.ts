// key -> shard: jump(XXH64(UTF-8 key), shards), docs/placement.md. The hash and the jump run in a small
// WebAssembly module (lookup.wat), which has the 64-bit multiplies JavaScript lacks; the key's bytes are
// written into its memory first (ASCII keys by a loop, others by TextEncoder). Keys too long for its
// memory go to the sidecar's JavaScript implementation (src/placement), which answers the same.
import { jumpUnchecked } from '../../src/placement/jump.js';
import { hashKeyInto, hashOut } from '../../src/placement/key-hash.js';
import { LOOKUP_WASM_BASE64 } from './lookup-wasm.js';

// The global WebAssembly object of Node, typed for what is used here: Node 20's @types/node and the
// ES libs do not declare it (the DOM lib does).
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: object };
};

interface LookupExports {
  readonly memory: { readonly buffer: ArrayBuffer };
  shard(len: number, buckets: number): number;
  hash(len: number, at: number): void;
}

const exports = new WebAssembly.Instance(new WebAssembly.Module(Buffer.from(LOOKUP_WASM_BASE64, 'base64')), {}).exports as unknown as LookupExports;
// The module never grows its memory, so this view stays valid.
const memory = new Uint8Array(exports.memory.buffer);
/** Keys whose UTF-8 could exceed this go to the JavaScript path (a UTF-16 unit is at most 3 bytes). */
const MAX_WASM_UNITS = Math.floor((memory.length - 16) / 3);
const encoder = new TextEncoder();

/** Writes the key's UTF-8 into the module's memory; returns its length, or -1 when it does not fit. */
function place(key: string): number {
  const n = key.length;
  if (n <= 64) {
    let i = 0;
    for (; i < n; i++) {
      const c = key.charCodeAt(i);
      if (c > 0x7f) break;
      memory[i] = c;
    }
    if (i === n) return n;
  }
  if (n > MAX_WASM_UNITS) return -1;
  return encoder.encodeInto(key, memory).written;
}

/** The shard of `key` among `shards` (an integer in [1, 2^31 - 1]). */
export function shardOf(key: string, shards: number): number {
  const len = place(key);
  if (len >= 0) return exports.shard(len, shards);
  hashKeyInto(key);
  return jumpUnchecked(hashOut[0]!, hashOut[1]!, shards);
}

/** XXH64 of the key's UTF-8 as 16 hex digits, through the module (for tests). */
export function wasmHashHex(key: string): string {
  const len = place(key);
  if (len < 0) throw new RangeError('key too long for the module');
  const at = (len + 7) & ~7;
  exports.hash(len, at);
  const view = new DataView(exports.memory.buffer);
  return view.getBigUint64(at, true).toString(16).padStart(16, '0');
}
