// Which fast lookup the tables use: the WebAssembly module shipped in the package (./wasm.ts), else the
// JS code (where WebAssembly is not there, e.g. node --jitless, or SWIMRING_WASM=0). Both give the same
// answers (test/placement/wasm.test.ts checks the module against the reference and the shared vectors).
import { wasmShard, wasmStatus } from './wasm.js';

export type FastPathKind = 'wasm' | 'js';

/** The lookup tables use (and the answer writer RouteIndex uses). */
export const fastPath: FastPathKind = wasmStatus.loaded ? 'wasm' : 'js';

/** What the agent's start-up log line says about it. */
export function fastPathDescription(): string {
  return wasmStatus.loaded ? 'wasm' : `js (wasm: ${wasmStatus.reason})`;
}

/** The fast lookup, jump(xxh64(utf8(key)), buckets) for a checked bucket count, or null: the JS path. */
export const fastShard: ((key: string, buckets: number) => number) | null = fastPath === 'wasm' ? wasmShard : null;
