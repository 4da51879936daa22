// Reads the bundle and its code cache (about 2 MB each) into memory that V8 maps for itself instead of
// into buffers from malloc.
//
// glibc serves a request above its mmap threshold (128 KB to start with) with a mapping of its own, and
// when such a mapping is freed it raises the threshold to its size and the trim threshold to twice that,
// for the life of the process. Two 2 MB buffers read and dropped at start would so leave every malloc
// arena (V8's collector threads have one each) keeping up to 4 MB of freed memory it never returns: RSS
// a long-running sidecar pays for nothing. A WebAssembly memory is mapped and unmapped by V8 itself, out
// of malloc's sight. Where WebAssembly is unavailable (node --jitless) the plain read does.
import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';

const WASM_PAGE = 65_536;

// The one WebAssembly API piece used here (this project's TypeScript libs do not declare them).
interface WasmMemoryApi {
  Memory: new (descriptor: { initial: number; maximum: number }) => { readonly buffer: ArrayBuffer };
}
const wasm = (globalThis as { WebAssembly?: WasmMemoryApi }).WebAssembly;

/** The file's bytes, in memory malloc never sees where WebAssembly is available. */
export function readUnpooled(path: string): Uint8Array {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    let bytes: Uint8Array;
    try {
      if (wasm === undefined) return readFileSync(fd);
      const pages = Math.max(1, Math.ceil(size / WASM_PAGE));
      bytes = new Uint8Array(new wasm.Memory({ initial: pages, maximum: pages }).buffer, 0, size);
    } catch {
      return readFileSync(fd);
    }
    let read = 0;
    // Bounded: each pass reads at least one byte or ends the loop (a file that shrank while read).
    while (read < size) {
      const n = readSync(fd, bytes, read, size - read, read);
      if (n === 0) break;
      read += n;
    }
    return bytes.subarray(0, read);
  } finally {
    closeSync(fd);
  }
}

/** The file as UTF-8 text, read as readUnpooled reads it. */
export function readTextUnpooled(path: string): string {
  const bytes = readUnpooled(path);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
}
