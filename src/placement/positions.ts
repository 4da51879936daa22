// Where shards sit on the ring. Shard j (of S) sits at the 64-bit position ceil(j * 2^32 / S) * 2^32:
// evenly spaced, so a member's shard count follows the length of ring it is nearest to, without the
// extra noise hashed shard positions would add. Only the high word is ever non-zero, and the gap
// between shard j and shard j + 1 holds exactly the points whose high word h has floor(h * S / 2^32) = j.
//
// Positions are computed when needed rather than kept: an array of them is 4 bytes per shard that
// every idle sidecar would hold, for a few arithmetic operations per shard per build.

/** ceil(j * 2^32 / S) for shard j, computed exactly. */
export function shardPositionHigh(j: number, shards: number): number {
  // j * 2^32 / S = j * q + j * rem / S with q = floor(2^32 / S), rem = 2^32 mod S; j * rem < 2^42 is
  // exact in a double, and the rounded quotient is corrected to the exact ceiling.
  const q = Math.floor(4294967296 / shards);
  const rem = 4294967296 - q * shards;
  const num = j * rem;
  let c = Math.ceil(num / shards);
  if (c * shards < num) c++;
  else if ((c - 1) * shards >= num) c--;
  return j * q + c;
}

/** shardPositionHigh for every shard j (for a build that reads them many times). */
export function shardPositionsHigh(shards: number): Uint32Array {
  const high = new Uint32Array(shards);
  for (let j = 0; j < shards; j++) high[j] = shardPositionHigh(j, shards);
  return high;
}

/**
 * The gap a point with high word `high` (int32 or uint32) falls in: floor(high * S / 2^32), the last
 * shard at or before it. Exact for S <= 2^21, as high * S < 2^53.
 */
export function gapOf(high: number, shards: number): number {
  return Math.floor(((high >>> 0) * shards) / 4294967296);
}
