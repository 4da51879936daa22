// The ownership table: shard -> owner + replicas for every shard, built from a member set. Immutable;
// the runtime builds a new one on every membership change and diffs it against the old.
import { assignBounded } from './bounded.js';
import { MAX_SHARD_SLOTS } from './constants.js';
import { fastShard } from './fast-path.js';
import { jumpUnchecked } from './jump.js';
import { hashKeyInto, hashOut } from './key-hash.js';
import { memberIndexArray, type MemberIndexArray } from './member-index.js';
import { sortMembers } from './names.js';
import { resolveOptions, type PlacementOptions } from './options.js';
import { memberSeeds } from './points.js';
import { leaseRing, listsSteps, returnRing } from './ring-cache.js';
import { rankShards, rankSplitSteps } from './ring-rank.js';
import { runSteps, type Steps } from './steps.js';
import { tableVersion } from './version.js';

export interface OwnershipTable {
  /** Digest of the member set and options: equal versions, equal answers. 16 hex digits. */
  readonly version: string;
  readonly shards: number;
  /** Replicas asked for; a shard lists fewer only when there are fewer other members. */
  readonly replicas: number;
  /** The members that own shards, in ascending UTF-8 byte order. */
  readonly members: readonly string[];
  /** The key's shard: jump(XXH64(UTF-8 key), shards). Allocates nothing. */
  shardOf(key: string): number;
  /** The shard's owner; null iff members is empty. */
  ownerOf(shard: number): string | null;
  /** The shard's replicas, nearest first; never the owner, all distinct. */
  replicasOf(shard: number): readonly string[];
  /** Shards owned by each member (every member appears, possibly with 0). */
  shardsPerMember(): Record<string, number>;
}

/** OwnershipTable as built here; diffTables reads the index arrays directly. */
export class PlacementTable implements OwnershipTable {
  readonly version: string;
  readonly shards: number;
  readonly replicas: number;
  readonly vnodes: number;
  readonly boundedLoad: number | null;
  readonly members: readonly string[];
  /** Owner member index per shard, -1 when there are no members (narrowest type: member-index.ts). */
  readonly ownerIndex: MemberIndexArray;
  /** replicaCount member indexes per shard, shard-major. */
  readonly replicaIndex: MemberIndexArray;
  readonly replicaCount: number;

  constructor(init: {
    version: string;
    shards: number;
    replicas: number;
    vnodes: number;
    boundedLoad: number | null;
    members: readonly string[];
    ownerIndex: MemberIndexArray;
    replicaIndex: MemberIndexArray;
    replicaCount: number;
  }) {
    this.version = init.version;
    this.shards = init.shards;
    this.replicas = init.replicas;
    this.vnodes = init.vnodes;
    this.boundedLoad = init.boundedLoad;
    this.members = Object.freeze([...init.members]);
    this.ownerIndex = init.ownerIndex;
    this.replicaIndex = init.replicaIndex;
    this.replicaCount = init.replicaCount;
  }

  shardOf(key: string): number {
    if (fastShard !== null) return fastShard(key, this.shards);
    hashKeyInto(key);
    return jumpUnchecked(hashOut[0]!, hashOut[1]!, this.shards);
  }

  ownerOf(shard: number): string | null {
    this.checkShard(shard);
    const m = this.ownerIndex[shard]!;
    return m < 0 ? null : this.members[m]!;
  }

  replicasOf(shard: number): readonly string[] {
    this.checkShard(shard);
    const out = new Array<string>(this.replicaCount);
    const base = shard * this.replicaCount;
    for (let r = 0; r < this.replicaCount; r++) out[r] = this.members[this.replicaIndex[base + r]!]!;
    return out;
  }

  shardsPerMember(): Record<string, number> {
    const counts = this.ownerCounts();
    // A null-prototype object: member names such as "__proto__" are plain keys.
    const out = Object.create(null) as Record<string, number>;
    this.members.forEach((name, m) => {
      out[name] = counts[m]!;
    });
    return out;
  }

  /** Shards owned per member index. */
  ownerCounts(): Int32Array {
    const counts = new Int32Array(this.members.length);
    for (let s = 0; s < this.shards; s++) {
      const m = this.ownerIndex[s]!;
      if (m >= 0) counts[m]!++;
    }
    return counts;
  }

  private checkShard(shard: number): void {
    if (!Number.isInteger(shard) || shard < 0 || shard >= this.shards) {
      throw new RangeError(`shard must be an integer from 0 to ${this.shards - 1}, got ${String(shard)}`);
    }
  }
}

/** How many extra candidates per shard the bounded-load pass keeps before walking the full ranking. */
const BOUNDED_EXTRA_CANDIDATES = 8;

/**
 * The ownership table of `members` (a set: order and duplicates do not matter). Throws RangeError with
 * a message naming the bad option or member name.
 */
export function buildTable(members: readonly string[], opts: PlacementOptions): PlacementTable {
  return runSteps(buildTableSteps(members, opts));
}

/** buildTable a few milliseconds of work per step (steps.ts), for a caller that yields between them. */
export function* buildTableSteps(members: readonly string[], opts: PlacementOptions): Steps<PlacementTable> {
  const sorted = sortMembers(members);
  const n = sorted.names.length;
  const o = resolveOptions(opts, n);
  const version = tableVersion({ members: sorted.bytes, ...o });
  const replicaCount = Math.max(0, Math.min(o.replicas, n - 1));
  const base = { version, ...o, members: sorted.names, replicaCount };
  if (n === 0) {
    return new PlacementTable({ ...base, ownerIndex: memberIndexArray(0, o.shards).fill(-1), replicaIndex: memberIndexArray(0, 0) });
  }
  if (n === 1) {
    // One candidate for every shard, bounded load or not: the ranking would find nothing else.
    return new PlacementTable({ ...base, ownerIndex: memberIndexArray(1, o.shards).fill(0), replicaIndex: memberIndexArray(1, 0) });
  }
  const seeds = memberSeeds(sorted.bytes);
  // A build suspended between steps keeps the ring cache to itself; one that starts meanwhile uses
  // lists and scratch of its own.
  const shared = leaseRing();
  try {
    if (o.boundedLoad === null) {
      const lists = yield* listsSteps({ names: sorted.bytes, seeds, shards: o.shards, vnodes: o.vnodes, depth: o.replicas + 1 }, shared);
      const ownerIndex = memberIndexArray(n, o.shards);
      const replicaIndex = memberIndexArray(n, o.shards * replicaCount);
      yield* rankSplitSteps(lists, n, ownerIndex, replicaIndex, replicaCount, shared);
      return new PlacementTable({ ...base, ownerIndex, replicaIndex });
    }
    const slotsLeft = Math.floor(MAX_SHARD_SLOTS / o.shards);
    const k = Math.max(o.replicas + 1, Math.min(o.replicas + 1 + BOUNDED_EXTRA_CANDIDATES, slotsLeft));
    const width = Math.min(k, n);
    const lists = yield* listsSteps({ names: sorted.bytes, seeds, shards: o.shards, vnodes: o.vnodes, depth: k }, shared);
    const ranked = rankShards(lists, n, shared);
    yield;
    const assigned = assignBounded({
      seeds,
      members: n,
      shards: o.shards,
      vnodes: o.vnodes,
      replicas: o.replicas,
      ranked,
      width,
      factor: o.boundedLoad,
    });
    return new PlacementTable({ ...base, ownerIndex: assigned.owners, replicaIndex: assigned.replicas });
  } finally {
    if (shared) returnRing();
  }
}
