// The byte length of a string's UTF-8 form without allocating: the core sizes every packet it fills, and
// the codec writes the same bytes; kept here so the core imports nothing from outside src/core/.

/**
 * Bytes the UTF-8 form of `s` takes. A lone surrogate counts 3 bytes (what TextEncoder writes for
 * it, U+FFFD); the encoder refuses such strings anyway, see isWellFormedUtf16.
 */
export function utf8Length(s: string): number {
  let bytes = 0;
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < n && isLowSurrogate(s.charCodeAt(i + 1))) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

/** A UTF-16 low (trailing) surrogate code unit. */
export function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}
