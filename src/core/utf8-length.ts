// The byte length of a string's UTF-8 form without allocating: the core sizes every packet it fills, and
// the codec writes the same bytes; kept here so the core imports nothing from outside src/core/.

/**
 * Bytes the UTF-8 form of `s` takes. A lone surrogate counts 3 bytes (what TextEncoder writes for
 * it, U+FFFD); the encoder refuses such strings anyway, see isWellFormedUtf16.
 */
export function utf8Length(s: string): number {
  return measureUtf8(s, false);
}

/**
 * Bytes the UTF-8 form of `s` takes, or -1 when `s` holds a lone surrogate, which has no UTF-8 form
 * and would not survive a round trip. One pass for a validator's two questions.
 */
export function strictUtf8Length(s: string): number {
  return measureUtf8(s, true);
}

/** The one length loop; the callers differ only in what a lone surrogate means to them. */
function measureUtf8(s: string, refuseLoneSurrogate: boolean): number {
  let bytes = 0;
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c < 0xd800 || c > 0xdfff) bytes += 3;
    else if (c <= 0xdbff && i + 1 < n && isLowSurrogate(s.charCodeAt(i + 1))) {
      bytes += 4;
      i++;
    } else if (refuseLoneSurrogate) return -1;
    else bytes += 3;
  }
  return bytes;
}

/** A UTF-16 low (trailing) surrogate code unit. */
export function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}
