// Lookups that hand the key to the module as a string reference instead of copying its characters from JS
// (a charCodeAt loop or TextEncoder.encodeInto, most of a lookup's instructions): the engine writes the
// string's UTF-16 units into the module's memory, and wasm/utf16.ts turns them into the UTF-8 bytes that
// are hashed. Needs WebAssembly reference-typed strings, which Node 20's V8 has behind
// --experimental-wasm-stringref: without that flag the module below does not compile and lookups copy
// the key as before. The module is a few dozen bytes, written here rather than by a compiler, as
// AssemblyScript does not emit this proposal's encodings.

/** What wasm/swimring.wasm gives the glue module, and the memory it writes into. */
export interface StringGlueImports {
  readonly memory: object;
  readonly shardUtf16: (p: number, units: number, buckets: number) => number;
}

interface WebAssemblyCtors {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => { readonly exports: Record<string, unknown> };
}

const i32 = 0x7f;
/** The value type "stringref": 0x64 in V8 before the GC proposal's final encodings, 0x67 after. */
const STRINGREF_CODES = [0x64, 0x67];

function section(id: number, content: number[]): number[] {
  return [id, content.length, ...content];
}

function name(text: string): number[] {
  return [text.length, ...Array.from(text, (c) => c.charCodeAt(0))];
}

/**
 * (module (import "m" "memory" (memory 0)) (import "m" "shardUtf16" (func $s (param i32 i32 i32) (result i32)))
 *   (func (export "shard") (param $key stringref) (param $at i32) (param $buckets i32) (result i32)
 *     (call $s (local.get $at) (string.encode_wtf16 (local.get $key) (local.get $at)) (local.get $buckets))))
 */
function glueBytes(stringref: number): Uint8Array {
  const types = [2, 0x60, 3, i32, i32, i32, 1, i32, 0x60, 3, stringref, i32, i32, 1, i32];
  const imports = [2, ...name('m'), ...name('memory'), 0x02, 0x00, 0x00, ...name('m'), ...name('shardUtf16'), 0x00, 0x00];
  const body = [0x00, 0x20, 0x01, 0x20, 0x00, 0x20, 0x01, 0xfb, 0x87, 0x01, 0x00, 0x20, 0x02, 0x10, 0x00, 0x0b];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, types),
    ...section(2, imports),
    ...section(3, [1, 1]),
    ...section(7, [1, ...name('shard'), 0x00, 0x01]),
    ...section(10, [1, body.length, ...body]),
  ]);
}

/** The key's shard by string reference, `at` pointing to 5 bytes of room per UTF-16 unit; or null. */
export type StringShard = (key: string, at: number, buckets: number) => number;

/** The glue module's lookup, or null when this engine lacks reference-typed strings (or they are off). */
export function stringShard(api: WebAssemblyCtors, imports: StringGlueImports): StringShard | null {
  for (const code of STRINGREF_CODES) {
    try {
      const instance = new api.Instance(new api.Module(glueBytes(code)), { m: { memory: imports.memory, shardUtf16: imports.shardUtf16 } });
      const shard = instance.exports['shard'];
      if (typeof shard === 'function') return shard as StringShard;
    } catch {
      // Not this encoding, or no stringref at all: the next code, then the copying path.
    }
  }
  return null;
}
