// A key handed over as UTF-16 code units (what a JS string holds; the engine writes them into the module's
// memory itself when the string reaches the module as a reference, src/placement/wasm-strings.ts), turned
// here into the UTF-8 bytes lookups hash: ASCII four units at a time, anything else as TextEncoder encodes
// it (a lone surrogate becomes U+FFFD, EF BF BD).
import { shard } from './lookup';

// @ts-ignore: decorator
@inline const ASCII_MASK: u64 = 0xff80ff80ff80ff80;

/** UTF-8 of the `units` UTF-16 units at `p` written at `out` (room: 3 bytes a unit); returns its length. */
export function utf16ToUtf8(p: usize, units: usize, out: usize): usize {
  const end = p + (units << 1);
  let o = out;
  while (p + 8 <= end) {
    const x = load<u64>(p);
    if ((x & ASCII_MASK) != 0) break;
    store<u32>(o, <u32>(x & 0xff) | <u32>((x >> 8) & 0xff00) | <u32>((x >> 16) & 0xff0000) | <u32>((x >> 24) & 0xff000000));
    p += 8;
    o += 4;
  }
  while (p < end) {
    let c = <u32>load<u16>(p);
    p += 2;
    if (c < 0x80) {
      store<u8>(o++, <u8>c);
    } else if (c < 0x800) {
      store<u8>(o, <u8>(0xc0 | (c >> 6)));
      store<u8>(o, <u8>(0x80 | (c & 0x3f)), 1);
      o += 2;
    } else {
      if ((c & 0xfc00) == 0xd800 && p < end) {
        const d = <u32>load<u16>(p);
        if ((d & 0xfc00) == 0xdc00) {
          const cp = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          p += 2;
          store<u8>(o, <u8>(0xf0 | (cp >> 18)));
          store<u8>(o, <u8>(0x80 | ((cp >> 12) & 0x3f)), 1);
          store<u8>(o, <u8>(0x80 | ((cp >> 6) & 0x3f)), 2);
          store<u8>(o, <u8>(0x80 | (cp & 0x3f)), 3);
          o += 4;
          continue;
        }
      }
      if ((c & 0xf800) == 0xd800) c = 0xfffd;
      store<u8>(o, <u8>(0xe0 | (c >> 12)));
      store<u8>(o, <u8>(0x80 | ((c >> 6) & 0x3f)), 1);
      store<u8>(o, <u8>(0x80 | (c & 0x3f)), 2);
      o += 3;
    }
  }
  return o - out;
}

/** shard() of a key given as `units` UTF-16 units at `p`; its UTF-8 goes right after them. */
export function shardUtf16(p: usize, units: usize, buckets: i32): i32 {
  const out = p + (units << 1);
  return shard(out, utf16ToUtf8(p, units, out), buckets);
}
