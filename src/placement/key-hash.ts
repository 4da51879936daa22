// The lookup path's key hashing. A short ASCII key is hashed straight from its characters; any other
// key's UTF-8 bytes go into one reused buffer (TextEncoder.encodeInto), then XXH64 over that buffer.
// Nothing is allocated per call once the buffer is large enough for the longest key seen.
import { hashOut, xxh64Into, xxh64ShortAscii } from './xxh64-fast.js';

const encoder = new TextEncoder();
let buffer = new Uint8Array(256);

function grow(bytes: number): void {
  let size = buffer.length;
  while (size < bytes) size *= 2;
  buffer = new Uint8Array(size);
}

/**
 * The UTF-8 encoding of `key` into the shared buffer; returns the byte length. Lone surrogates become
 * U+FFFD (EF BF BD), as TextEncoder does everywhere. encodeInto has a fixed cost of about a short
 * key's hashing but copies long keys several times faster than a charCodeAt loop (measured).
 */
function encodeKey(key: string): number {
  // Each UTF-16 unit becomes at most 3 UTF-8 bytes.
  if (key.length * 3 > buffer.length) grow(key.length * 3);
  return encoder.encodeInto(key, buffer).written;
}

/** XXH64 (seed 0) of the UTF-8 bytes of `key`, left in hashOut: [high word, low word] (int32). */
export function hashKeyInto(key: string): void {
  if (key.length < 32 && xxh64ShortAscii(key)) return;
  const len = encodeKey(key);
  xxh64Into(buffer, len);
}

export { hashOut };

/** XXH64 (seed 0) of the UTF-8 bytes of `key` as uint32 halves: for tools and tests, not the hot path. */
export function keyHash(key: string): { hi: number; lo: number } {
  hashKeyInto(key);
  return { hi: hashOut[0]! >>> 0, lo: hashOut[1]! >>> 0 };
}
