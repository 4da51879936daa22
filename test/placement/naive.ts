// The placement mapping written straight from docs/placement.md with BigInt and brute force: slow, but
// short enough to check by eye. The fast implementation must agree with it.
import { xxh64 } from '../../src/placement/xxh64-reference.js';

const MASK = (1n << 64n) - 1n;
const encoder = new TextEncoder();

export function naiveJump(key: bigint, buckets: number): number {
  let b = -1;
  let j = 0;
  let k = key;
  while (j < buckets) {
    b = j;
    k = (k * 2862933555777941757n + 1n) & MASK;
    j = Math.floor((b + 1) * (Number(1n << 31n) / Number((k >> 33n) + 1n)));
  }
  return b;
}

export function naiveShardOf(key: string, shards: number): number {
  return naiveJump(xxh64(encoder.encode(key)), shards);
}

function fmix32(x: bigint): bigint {
  let h = x & 0xffffffffn;
  h ^= h >> 16n;
  h = (h * 0x85ebca6bn) & 0xffffffffn;
  h ^= h >> 13n;
  h = (h * 0xc2b2ae35n) & 0xffffffffn;
  return h ^ (h >> 16n);
}

/**
 * Point i of V (a power of two, b = log2 V): high word (i << (32 - b)) | fmix32(seedHigh ^ (i+1)*0x9E3779B9) >> b,
 * low word fmix32(seedLow ^ (i+1)*0x7F4A7C15).
 */
export function memberPoints(seed: bigint, vnodes: number): bigint[] {
  const high = seed >> 32n;
  const low = seed & 0xffffffffn;
  const b = BigInt(Math.log2(vnodes));
  const out: bigint[] = [];
  for (let i = 0n; i < BigInt(vnodes); i++) {
    const h = (i << (32n - b)) | (fmix32(high ^ (((i + 1n) * 0x9e3779b9n) & 0xffffffffn)) >> b);
    const l = fmix32(low ^ (((i + 1n) * 0x7f4a7c15n) & 0xffffffffn));
    out.push(((h & 0xffffffffn) << 32n) | l);
  }
  return out;
}

/** ceil(shard * 2^32 / shards) * 2^32. */
export function shardPosition(shard: number, shards: number): bigint {
  const s = BigInt(shards);
  return (((BigInt(shard) << 32n) + s - 1n) / s) << 32n;
}

function compareUtf8(a: string, b: string): number {
  const x = encoder.encode(a);
  const y = encoder.encode(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
}

export interface NaiveRing {
  readonly names: string[];
  readonly points: bigint[][];
}

export function naiveRing(members: readonly string[], vnodes: number): NaiveRing {
  const names = [...new Set(members)].sort(compareUtf8);
  return { names, points: names.map((n) => memberPoints(xxh64(encoder.encode(n)), vnodes)) };
}

/** Every member, nearest first, for the shard: by circular distance to its nearest point, then name. */
export function naiveRanking(ring: NaiveRing, shard: number, shards: number): string[] {
  const q = shardPosition(shard, shards);
  const scored = ring.names.map((name, m) => {
    let best = MASK + 1n;
    for (const p of ring.points[m]!) {
      const fwd = (p - q) & MASK;
      const back = (q - p) & MASK;
      const d = fwd < back ? fwd : back;
      if (d < best) best = d;
    }
    return { name, d: best, m };
  });
  scored.sort((a, b) => (a.d < b.d ? -1 : a.d > b.d ? 1 : a.m - b.m));
  return scored.map((s) => s.name);
}
