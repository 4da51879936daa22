// key -> shard: jump(XXH64(UTF-8 key), shards), docs/placement.md. The sidecar's own code answers: its
// WebAssembly module (src/placement/wasm.ts, wasm/swimring.wasm, shipped in this package's dist/wasm/),
// which has the 64-bit multiplies JavaScript lacks, or its JavaScript implementation where WebAssembly
// is not available. One implementation for the sidecar and the library, so they cannot disagree.
import { jumpUnchecked } from '../../src/placement/jump.js';
import { hashKeyInto, hashOut } from '../../src/placement/key-hash.js';
import { wasmLookup, wasmShardFor } from '../../src/placement/wasm.js';

/** The lookup for one shard count: the module's where it loaded, else the JavaScript one. */
export function shardFunction(shards: number): (key: string) => number {
  return wasmShardFor(shards) ?? ((key: string) => jsShard(key, shards));
}

function jsShard(key: string, shards: number): number {
  hashKeyInto(key);
  return jumpUnchecked(hashOut[0]!, hashOut[1]!, shards);
}

/** The shard of `key` among `shards` (an integer in [1, 2^31 - 1]). */
export function shardOf(key: string, shards: number): number {
  return shardFunction(shards)(key);
}

/** XXH64 of the key's UTF-8 as 16 hex digits, through the module (for tests). */
export function wasmHashHex(key: string): string {
  if (wasmLookup === null) throw new Error('the WebAssembly module did not load');
  const [hi, lo] = wasmLookup.hash(key);
  return hi.toString(16).padStart(8, '0') + lo.toString(16).padStart(8, '0');
}
