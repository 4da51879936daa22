// The answer writer RouteIndex uses for plain keys whose tail is cached: the WebAssembly module's
// (./wasm-answers.ts) where tables use the module, none on the JS path. It writes the same bytes as the
// serializers' JS code (test/runtime/answer-writers.test.ts, test/runtime/wasm-answers.test.ts).
import { fastPath } from '../placement/fast-path.js';
import { wasm } from '../placement/wasm.js';
import { JsTailStore, WasmTailStore, type TailStore } from './tail-store.js';
import type { AnswerLayout } from './view.js';
import { wasmAnswerRun, wasmAnswerText } from './wasm-answers.js';

export interface AnswerWriter {
  /** The tail store this writer reads, for a table of `shards` shards; `owner`'s collection frees it. */
  newStore(shards: number, owner: object): TailStore;
  /** One answer as a flat string, or undefined when JS must write it (as run() hands keys back). */
  answerText(store: TailStore, key: string): string | undefined;
  /**
   * Writes the answers of keys[from], … into `out` from `at` for as long as it can; returns the index of
   * the first key it did not write, and leaves the end of what it wrote in `end`. Every answer but the
   * batch's first (index 0) starts with a comma.
   */
  run(store: TailStore, layout: AnswerLayout, keys: readonly string[], from: number, out: Uint8Array, at: number, end: { at: number }): number;
}

function wasmWriter(module: NonNullable<typeof wasm>): AnswerWriter {
  return {
    newStore: (shards, owner) => new WasmTailStore(module, shards, owner),
    answerText: (store, key) => wasmAnswerText(module, store as WasmTailStore, key),
    run: (store, layout, keys, from, out, at, end) => wasmAnswerRun(module, store as WasmTailStore, layout, keys, from, out, at, end),
  };
}

/** The module's writer, or null where it did not load (tests compare it with the JS code). */
export const wasmAnswerWriter: AnswerWriter | null = wasm === null ? null : wasmWriter(wasm);

/** The writer RouteIndex uses, the one of the tables' fast path, or null: every answer is written by the serializers' JS code. */
export const answerWriter: AnswerWriter | null = fastPath === 'wasm' ? wasmAnswerWriter : null;

/** A store for a RouteIndex without a writer (the JS path). */
export function jsTailStore(shards: number): TailStore {
  return new JsTailStore(shards);
}
