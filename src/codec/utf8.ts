// UTF-8 without allocation: the byte length of a string (sizes are asked for on every packet fill)
// and writing a string straight into the output buffer. Strict decoding lives in reader.ts. The plain
// and strict lengths live in the core, which sizes packets without importing from outside src/core/.
import { isLowSurrogate, strictUtf8Length, utf8Length } from '../core/utf8-length.js';

export { strictUtf8Length, utf8Length };

/** False when `s` holds a lone surrogate. */
export function isWellFormedUtf16(s: string): boolean {
  return strictUtf8Length(s) >= 0;
}

/** Writes the UTF-8 form of a well-formed `s` at `pos`; returns the position after it. */
export function writeUtf8(out: Uint8Array, pos: number, s: string): number {
  const n = s.length;
  for (let i = 0; i < n; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      out[pos++] = c;
    } else if (c < 0x800) {
      out[pos++] = 0xc0 | (c >> 6);
      out[pos++] = 0x80 | (c & 0x3f);
    } else if (c >= 0xd800 && c <= 0xdbff && i + 1 < n && isLowSurrogate(s.charCodeAt(i + 1))) {
      c = 0x10000 + ((c - 0xd800) << 10) + (s.charCodeAt(++i) - 0xdc00);
      out[pos++] = 0xf0 | (c >> 18);
      out[pos++] = 0x80 | ((c >> 12) & 0x3f);
      out[pos++] = 0x80 | ((c >> 6) & 0x3f);
      out[pos++] = 0x80 | (c & 0x3f);
    } else {
      out[pos++] = 0xe0 | (c >> 12);
      out[pos++] = 0x80 | ((c >> 6) & 0x3f);
      out[pos++] = 0x80 | (c & 0x3f);
    }
  }
  return pos;
}

