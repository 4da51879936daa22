// The native lookup (./native/lookup.cc, compiled by `npm run build` when a C++ compiler is there): XXH64 +
// jump in one call, and the answer writer (./native/answers.cc). Optional: when dist/native/ has no addon
// (an npm install ships none), or it fails to load, or SWIMRING_NATIVE=0, tables use the WebAssembly module
// (./wasm.ts) or the JS path (./fast-path.ts chooses), which give the same answers
// (test/placement/native.test.ts checks the addon against the vectors and the JS path).
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export interface NativeLookup {
  /** jump(xxh64(utf8(key)), buckets); key at most NATIVE_MAX_KEY_UNITS UTF-16 units, buckets in [1, 2^31 - 1]. */
  shard(key: string, buckets: number): number;
  /** shard with the bucket count bound (validated once; the lookup then skips reading it): use nativeShardFor. */
  shardFor(buckets: number): (key: string) => number;
  /** XXH64 of the key's UTF-8 bytes as [high, low] uint32 words (tests). */
  hash(key: string): [number, number];
  /** Jump hash of hi * 2^32 + lo (tests). */
  jump(hi: number, lo: number, buckets: number): number;
  /** The same by the paper's loop, whichever loop jump runs (tests compare them). */
  jumpReference(hi: number, lo: number, buckets: number): number;
  // The batch answer writer (./native/answers.cc; used by src/runtime/route-index.ts writeAnswerRun).
  /** Starts a run: answers go into `out`, tails come from a RouteIndex arena; `index` is the batch index of the first answer. */
  answersBegin(out: Uint8Array, shardTails: Uint16Array, offsets: Uint32Array, arena: Uint8Array, index: number): void;
  /** Writes the next answer at `at`; returns its end, or -1 when this key must be written in JS. */
  answer(key: string, at: number): number;
  /** Ends the run: the addon forgets the arrays. */
  answersEnd(): void;
  /** One answer, the same bytes as answer(), as a flat string; undefined when this key must be written in JS. */
  answerText(key: string, shardTails: Uint16Array, offsets: Uint32Array, arena: Uint8Array): string | undefined;
  /** The loop jump runs on this CPU: "fused" (fma + trunc, same values) or "reference" (lookup-core.h). */
  jumpLoop: string;
}

/** Longer keys take the JS path: 256 UTF-16 units are at most 768 UTF-8 bytes, inside the addon's buffer. */
export const NATIVE_MAX_KEY_UNITS = 256;

// From src/placement/ (tests) and from dist/placement/ (the agent) alike: the addon is built into dist/native/.
const ADDON_PATH = fileURLToPath(new URL('../../dist/native/swimring_lookup.node', import.meta.url));

export type NativeStatus = { readonly loaded: true; readonly path: string; readonly jumpLoop: string } | { readonly loaded: false; readonly reason: string };

function isNativeLookup(x: unknown): x is NativeLookup {
  if (typeof x !== 'object' || x === null) return false;
  const o = x as Record<string, unknown>;
  return ['shard', 'shardFor', 'hash', 'jump', 'jumpReference', 'answersBegin', 'answer', 'answersEnd', 'answerText'].every((name) => typeof o[name] === 'function') && typeof o['jumpLoop'] === 'string';
}

function load(): { lookup: NativeLookup | null; status: NativeStatus } {
  if (process.env['SWIMRING_NATIVE'] === '0') return { lookup: null, status: { loaded: false, reason: 'SWIMRING_NATIVE=0' } };
  if (!existsSync(ADDON_PATH)) return { lookup: null, status: { loaded: false, reason: `not built (${ADDON_PATH})` } };
  try {
    const addon: unknown = createRequire(import.meta.url)(ADDON_PATH);
    if (!isNativeLookup(addon)) return { lookup: null, status: { loaded: false, reason: 'the addon lacks a function this version calls (built from another version?)' } };
    return { lookup: addon, status: { loaded: true, path: ADDON_PATH, jumpLoop: addon.jumpLoop } };
  } catch (err) {
    return { lookup: null, status: { loaded: false, reason: err instanceof Error ? err.message : String(err) } };
  }
}

const loaded = load();

/** The addon, or null: then lookups take the JS path. */
export const nativeLookup: NativeLookup | null = loaded.lookup;
/** The addon's answer writer (batches and single answers), or null: then answers are written in JS. */
export const nativeAnswers: Pick<NativeLookup, 'answersBegin' | 'answer' | 'answersEnd' | 'answerText'> | null = loaded.lookup;
/** Whether the addon is in use and why not (the agent's "swimring is running" log line says which). */
export const nativeStatus: NativeStatus = loaded.status;

const boundShards = new Map<number, (key: string) => number>();

/**
 * The addon's lookup for one bucket count, or null without the addon. One function per count for the whole
 * process, so every table with that count calls the same function and the call site stays monomorphic.
 */
export function nativeShardFor(buckets: number): ((key: string) => number) | null {
  if (nativeLookup === null) return null;
  let shard = boundShards.get(buckets);
  if (shard === undefined) {
    shard = nativeLookup.shardFor(buckets);
    boundShards.set(buckets, shard);
  }
  return shard;
}
