// Which fast lookup the tables use: the C++ addon where `npm run build` compiled it on this machine
// (./native.ts), else the WebAssembly module shipped in the package (./wasm.ts), else the JS code. All
// three give the same answers (test/placement/native.test.ts, test/placement/wasm.test.ts).
import { NATIVE_MAX_KEY_UNITS, nativeShardFor, nativeStatus } from './native.js';
import { wasmShardFor, wasmStatus } from './wasm.js';

export type FastPathKind = 'native' | 'wasm' | 'js';

function choose(): FastPathKind {
  if (nativeStatus.loaded) return 'native';
  return wasmStatus.loaded ? 'wasm' : 'js';
}

/** The lookup tables use (and the answer writer RouteIndex uses). */
export const fastPath: FastPathKind = choose();

/** What the agent's start-up log line says about it. */
export function fastPathDescription(): string {
  if (nativeStatus.loaded) return `native (jump: ${nativeStatus.jumpLoop})`;
  if (wasmStatus.loaded) return `wasm (addon: ${nativeStatus.reason})`;
  return `js (addon: ${nativeStatus.reason}; wasm: ${wasmStatus.reason})`;
}

/** Keys longer than this take the JS path: the addon's buffer bound; the module takes any length. */
export const FAST_MAX_KEY_UNITS = fastPath === 'native' ? NATIVE_MAX_KEY_UNITS : Number.MAX_SAFE_INTEGER;

/** The fast lookup for one bucket count (one function per count for the process), or null: the JS path. */
export function fastShardFor(buckets: number): ((key: string) => number) | null {
  if (fastPath === 'native') return nativeShardFor(buckets);
  if (fastPath === 'wasm') return wasmShardFor(buckets);
  return null;
}
