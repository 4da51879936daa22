// Placement options: checked once, defaults filled in one place.
import {
  DEFAULT_VNODES,
  MAX_BOUNDED_LOAD,
  MAX_POINTS,
  MAX_REPLICAS,
  MAX_SHARD_SLOTS,
  MAX_SHARDS,
  MAX_VNODES,
  MIN_BOUNDED_LOAD,
} from './constants.js';

export interface PlacementOptions {
  /** Shard count (jump-hash buckets), 1 to 2^20. Must be the same on every member. */
  shards: number;
  /** Replicas listed after the owner, 0 to 16. */
  replicas: number;
  /** Ring points per member: a power of two, 1 to 65,536. @default DEFAULT_VNODES */
  vnodes?: number;
  /**
   * Bounded-load factor c >= 1: no member owns more than ceil(c x shards / members) shards. Off
   * (null) by default: it trades extra movement on membership change for balance.
   */
  boundedLoad?: number | null;
}

export interface ResolvedOptions {
  readonly shards: number;
  readonly replicas: number;
  readonly vnodes: number;
  readonly boundedLoad: number | null;
}

function integerIn(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer from ${min} to ${max}, got ${String(value)}`);
  }
  return value;
}

/** Options with defaults filled in; throws RangeError saying which option is wrong and why. */
export function resolveOptions(opts: PlacementOptions, members: number): ResolvedOptions {
  if (typeof opts !== 'object' || opts === null) throw new RangeError('placement options must be an object');
  const shards = integerIn('shards', opts.shards, 1, MAX_SHARDS);
  const replicas = integerIn('replicas', opts.replicas, 0, MAX_REPLICAS);
  const vnodes = integerIn('vnodes', opts.vnodes ?? DEFAULT_VNODES, 1, MAX_VNODES);
  if ((vnodes & (vnodes - 1)) !== 0) throw new RangeError(`vnodes must be a power of two, got ${vnodes}`);
  const bl = opts.boundedLoad ?? null;
  if (bl !== null && (typeof bl !== 'number' || !Number.isFinite(bl) || bl < MIN_BOUNDED_LOAD || bl > MAX_BOUNDED_LOAD)) {
    throw new RangeError(`boundedLoad must be null (off) or a number from ${MIN_BOUNDED_LOAD} to ${MAX_BOUNDED_LOAD}, got ${String(bl)}`);
  }
  if (shards * (replicas + 1) > MAX_SHARD_SLOTS) {
    throw new RangeError(`shards x (replicas + 1) must be at most ${MAX_SHARD_SLOTS}, got ${shards} x ${replicas + 1}`);
  }
  if (members * vnodes > MAX_POINTS) {
    throw new RangeError(`members x vnodes must be at most ${MAX_POINTS}, got ${members} x ${vnodes}`);
  }
  return { shards, replicas, vnodes, boundedLoad: bl };
}
