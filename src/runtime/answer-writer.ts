// The answer writer RouteIndex uses for plain keys whose tail is cached: the addon's
// (src/placement/native/answers.cc) where tables use the addon, the WebAssembly module's (./wasm-answers.ts)
// where they use the module, none on the JS path. Each writes the same bytes as the serializers' JS code
// (test/runtime/native-answers.test.ts, test/runtime/wasm-answers.test.ts).
import { fastPath } from '../placement/fast-path.js';
import { nativeAnswers } from '../placement/native.js';
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

function nativeWriter(addon: NonNullable<typeof nativeAnswers>): AnswerWriter {
  return {
    newStore: (shards) => new JsTailStore(shards),
    answerText(store, key) {
      const { offsets, bytes } = store.arena('full');
      return addon.answerText(key, store.ids(), offsets, bytes);
    },
    run(store, layout, keys, from, out, at, end) {
      const arena = store.arena(layout);
      addon.answersBegin(out, store.ids(), arena.offsets, arena.bytes, from);
      let i = from;
      try {
        for (; i < keys.length; i++) {
          const next = addon.answer(keys[i]!, at);
          if (next < 0) break;
          at = next;
        }
      } finally {
        addon.answersEnd();
      }
      end.at = at;
      return i;
    },
  };
}

function wasmWriter(module: NonNullable<typeof wasm>): AnswerWriter {
  return {
    newStore: (shards, owner) => new WasmTailStore(module, shards, owner),
    answerText: (store, key) => wasmAnswerText(module, store as WasmTailStore, key),
    run: (store, layout, keys, from, out, at, end) => wasmAnswerRun(module, store as WasmTailStore, layout, keys, from, out, at, end),
  };
}

/** Each writer, or null where it did not load (tests compare them). */
export const nativeAnswerWriter: AnswerWriter | null = nativeAnswers === null ? null : nativeWriter(nativeAnswers);
export const wasmAnswerWriter: AnswerWriter | null = wasm === null ? null : wasmWriter(wasm);

/** The writer RouteIndex uses, the one of the tables' fast path, or null: every answer is written by the serializers' JS code. */
export const answerWriter: AnswerWriter | null = fastPath === 'native' ? nativeAnswerWriter : fastPath === 'wasm' ? wasmAnswerWriter : null;

/** A store for a RouteIndex without a writer (the JS path). */
export function jsTailStore(shards: number): TailStore {
  return new JsTailStore(shards);
}
