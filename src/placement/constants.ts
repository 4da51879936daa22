// Placement defaults and limits. The defaults were chosen by measurement (bench/placement.ts,
// docs/placement.md "Choosing the defaults"): with them, max/mean shards per member stays near 1.05 at
// 50 members and one join or leave at 200 members moves under 1.1 x 1/n of the keys.

/** Shards (jump-hash buckets). 2^18: below this the per-shard granularity alone breaks 1.1/n at n = 200. */
export const DEFAULT_SHARDS = 262_144;
/** Ring points per member. 1,024 keeps the ring's own imbalance near 2% (standard deviation). */
export const DEFAULT_VNODES = 1024;
/** Replicas listed after the owner. */
export const DEFAULT_REPLICAS = 2;

export const MAX_SHARDS = 1 << 20;
export const MAX_REPLICAS = 16;
export const MAX_VNODES = 1 << 16;
/** Shards x (replicas + 1): builds use up to about 48 bytes per slot (about 45 MB at the defaults, 200 MB at this cap). */
export const MAX_SHARD_SLOTS = 1 << 22;
export const MAX_MEMBERS = 1 << 20;
/** Members x vnodes, the ring points one build walks (10,000 members at the default is 10.24 M). */
export const MAX_POINTS = 1 << 27;
export const MAX_NAME_BYTES = 1024;
/** Bounded-load factors accepted: c in [1, 1000] (ceil(c x shards / members) shards per member at most). */
export const MIN_BOUNDED_LOAD = 1;
export const MAX_BOUNDED_LOAD = 1000;
