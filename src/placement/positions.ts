// Where shards sit on the ring. Shard j (of S) sits at the 64-bit position ceil(j * 2^32 / S) * 2^32:
// evenly spaced, so a member's shard count follows the length of ring it is nearest to, without the
// extra noise hashed shard positions would add. Only the high word is ever non-zero, and the gap
// between shard j and shard j + 1 holds exactly the points whose high word h has floor(h * S / 2^32) = j.

let cachedShards = 0;
let cachedHigh = new Uint32Array(0);

/** ceil(j * 2^32 / S) for every shard j, computed exactly (memoized for the last S). */
export function shardPositionsHigh(shards: number): Uint32Array {
  if (shards === cachedShards) return cachedHigh;
  const high = new Uint32Array(shards);
  // j * 2^32 / S = j * q + j * rem / S with q = floor(2^32 / S), rem = 2^32 mod S; j * rem < 2^42 is
  // exact in a double, and the rounded quotient is corrected to the exact ceiling.
  const q = Math.floor(4294967296 / shards);
  const rem = 4294967296 - q * shards;
  for (let j = 0; j < shards; j++) {
    const num = j * rem;
    let c = Math.ceil(num / shards);
    if (c * shards < num) c++;
    else if ((c - 1) * shards >= num) c--;
    high[j] = j * q + c;
  }
  cachedShards = shards;
  cachedHigh = high;
  return high;
}

/**
 * The gap a point with high word `high` (int32 or uint32) falls in: floor(high * S / 2^32), the last
 * shard at or before it. Exact for S <= 2^21, as high * S < 2^53.
 */
export function gapOf(high: number, shards: number): number {
  return Math.floor(((high >>> 0) * shards) / 4294967296);
}
