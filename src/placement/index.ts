// Placement: key -> shard -> owner and replicas. Pure functions, no I/O. The mapping is specified in
// docs/placement.md precisely enough to reimplement; test/vectors/placement.json holds answers.
export {
  DEFAULT_REPLICAS,
  DEFAULT_SHARDS,
  DEFAULT_VNODES,
  MAX_BOUNDED_LOAD,
  MAX_REPLICAS,
  MAX_SHARD_SLOTS,
  MAX_SHARDS,
  MAX_VNODES,
  MIN_BOUNDED_LOAD,
} from './constants.js';
export { xxh64 } from './xxh64-reference.js';
export { jumpHash, MAX_JUMP_BUCKETS } from './jump.js';
export { keyHash } from './key-hash.js';
export { type PlacementOptions } from './options.js';
export { buildTable, PlacementTable, type OwnershipTable } from './table.js';
export { diffTables, type ShardMove } from './diff.js';
export { memberNameProblem } from './names.js';
export { boundedCap } from './bounded.js';
