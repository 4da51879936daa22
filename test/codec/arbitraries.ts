// fast-check generators for valid packets and helpers to hand-build wire bytes, shared by the codec tests.

import fc from 'fast-check';
import type { MemberMeta, Message, Packet, Update } from '../../src/core/types.js';

const utf8 = new TextEncoder();
export const byteLength = (s: string): number => utf8.encode(s).length;

/** A string of exactly `bytes` UTF-8 bytes made of `unit` (1-4 bytes each), padded with ASCII. */
export function stringOfBytes(bytes: number, unit = 'a'): string {
  const unitBytes = byteLength(unit);
  const whole = Math.floor(bytes / unitBytes);
  return unit.repeat(whole) + 'a'.repeat(bytes - whole * unitBytes);
}

/** Strings that fit a u8-length field: ASCII, any code point (astral too), graphemes, and exactly 255 bytes. */
function wireString(minLength: 0 | 1): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength, maxLength: 24 }) },
    { weight: 3, arbitrary: fc.string({ unit: 'binary', minLength, maxLength: 63 }) },
    {
      weight: 1,
      arbitrary: fc.string({ unit: 'grapheme', minLength, maxLength: 16 }).filter((s) => byteLength(s) <= 255),
    },
    { weight: 1, arbitrary: fc.constantFrom('a', 'é', '€', '😀', '\uFEFF').map((u) => stringOfBytes(255, u)) },
  );
}

export const nameArb = wireString(1);
export const anyStringArb = wireString(0);
export const seqArb = fc.oneof(fc.integer({ min: 0, max: 0xffff_ffff }), fc.constantFrom(0, 0xffff_ffff, 0x8000_0000));
export const incarnationArb = fc.oneof(
  fc.integer({ min: 0, max: 2 ** 50 }),
  fc.nat(),
  fc.constantFrom(0, 1, 2 ** 32 - 1, 2 ** 32, 2 ** 50 - 1, 2 ** 50, 1_750_000_000_000),
);

/** Tags well under the limit (at most 6 x (2+32+2+48) + 1 = 505 bytes), plus blocks of exactly 512 bytes. */
export const tagsArb: fc.Arbitrary<Record<string, string>> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.dictionary(
      fc.string({ unit: 'binary', minLength: 1, maxLength: 8 }),
      fc.string({ unit: 'binary', maxLength: 12 }),
      { maxKeys: 6, noNullPrototype: true },
    ),
  },
  { weight: 1, arbitrary: fc.constantFrom('a', 'é', '😀').map((u) => fullTags(u)) },
);

/** count (1) + "k1"(1+2) + v1(1+253) + "k2"(1+2) + v2(1+250) = 512 bytes exactly. */
export function fullTags(unit = 'a'): Record<string, string> {
  return { k1: stringOfBytes(253, unit), k2: stringOfBytes(250, unit) };
}

/** fc.record, but with ordinary prototypes, as decoded objects have (deepEqual compares prototypes). */
const rec = <T>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<T> => fc.record(model, { noNullPrototype: true });

export const metaArb: fc.Arbitrary<MemberMeta> = rec({
  appAddr: anyStringArb,
  serving: fc.boolean(),
  tags: tagsArb,
});

export const updateArb: fc.Arbitrary<Update> = fc.oneof(
  rec({
    kind: fc.constant('alive' as const),
    name: nameArb,
    lifeId: anyStringArb,
    incarnation: incarnationArb,
    gossipAddr: anyStringArb,
    grpcAddr: anyStringArb,
    meta: metaArb,
  }),
  rec({ kind: fc.constant('suspect' as const), name: nameArb, incarnation: incarnationArb, from: nameArb }),
  rec({ kind: fc.constant('dead' as const), name: nameArb, incarnation: incarnationArb, from: nameArb }),
  rec({ kind: fc.constant('left' as const), name: nameArb, incarnation: incarnationArb }),
);

export const messageArb: fc.Arbitrary<Message> = fc.oneof(
  rec({ type: fc.constant('ping' as const), seq: seqArb, from: nameArb, fromAddr: anyStringArb, target: nameArb }),
  rec({ type: fc.constant('ack' as const), seq: seqArb, from: nameArb }),
  rec({ type: fc.constant('nack' as const), seq: seqArb, from: nameArb }),
  rec({
    type: fc.constant('ping-req' as const),
    seq: seqArb,
    from: nameArb,
    fromAddr: anyStringArb,
    target: nameArb,
    targetAddr: anyStringArb,
  }),
);

export const packetArb: fc.Arbitrary<Packet> = rec({
  message: fc.option(messageArb, { nil: null }),
  updates: fc.array(updateArb, { maxLength: 8 }),
});

// ---- hand-built bytes, for inputs the encoder would never produce ----

type Part = number | readonly number[] | Uint8Array;

/** Concatenates bytes; numbers are single bytes. */
export function bytes(...parts: Part[]): Uint8Array {
  const out: number[] = [];
  for (const p of parts) {
    if (typeof p === 'number') out.push(p);
    else out.push(...p);
  }
  return Uint8Array.from(out);
}

export const HEADER = [0x53, 0x52, 0x01, 0x00] as const;
/** A u8-length string field. */
export const str = (s: string): number[] => {
  const b = utf8.encode(s);
  return [b.length, ...b];
};
export const u16 = (n: number): number[] => [n >>> 8, n & 0xff];
export const u32 = (n: number): number[] => [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
export const u64 = (high: number, low: number): number[] => [...u32(high), ...u32(low)];
