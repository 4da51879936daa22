/**
 * 32-bit FNV-1a over a string's UTF-16 code units: a cheap, stable spread of names where every
 * member must compute the same number (relay groups) and no adversary picks the input.
 */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
