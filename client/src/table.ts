// One ownership table as the library routes from it: decoded from GET /v1/table/compact, or made from
// the previous one and a moves event (./apply-moves.ts), and never changed afterwards (a new version is a
// new RingTable with new arrays, swapped in whole), so route() never sees a half-applied table. A lookup is the sidecar's: XXH64 of the key's UTF-8, jump hash over the shard
// count (docs/placement.md, ./lookup.ts), then a typed-array read naming the shard's placement (its
// owner and replicas, one frozen object shared by every shard placed alike).
import { shardFunction, shardOf } from './lookup.js';
import { replicasBeside } from '../../src/placement/claimed-replicas.js';
import type { Claimant, CompactTableJson, RouteAnswer, RouteOwner, ShardMoveGroup, ShardRange } from './types.js';

export const TABLE_FORMAT = 'swimring-table-v1';

export { shardOf };

function unpack(b64: string, width: number, count: number, what: string): Int32Array {
  const bytes = Buffer.from(b64, 'base64');
  if (bytes.length !== count * width) throw new Error(`compact table: ${what} holds ${bytes.length} bytes, expected ${count * width}`);
  const out = new Int32Array(count);
  if (width === 1) out.set(bytes);
  else if (width === 2) for (let i = 0; i < count; i++) out[i] = bytes.readUInt16LE(i * 2);
  else for (let i = 0; i < count; i++) out[i] = bytes.readUInt32LE(i * 4);
  return out;
}

/** Who a shard's ring answers name. Frozen and shared by every shard with the same owner and replicas. */
interface Placement {
  readonly owner: RouteOwner | null;
  readonly replicas: readonly RouteOwner[];
}

/**
 * Distinct placements kept shared. Ten members with two replicas make at most 720; at a thousand members
 * nearly every shard is its own, and past this bound placements are made per shard on first use instead
 * (as many objects as shards routed, not one per shard up front).
 */
const MAX_SHARED_PLACEMENTS = 4096; // below 2^16: placement ids fit a Uint16Array

/**
 * The shard's owner and replicas, without the members that no longer serve, as the sidecar answers (its
 * RouteIndex): a member that stopped serving (draining, app unready) stays in the table until the
 * sidecar's rebuild, and meanwhile its shards go to the next member of each ranking. Unchanged when none
 * of them serves.
 */
function placementOf(members: readonly RouteOwner[], ownerIndex: Int32Array, replicaIndex: Int32Array, replicas: number, shard: number): Placement {
  const o = ownerIndex[shard]!;
  if (o < 0) return Object.freeze({ owner: null, replicas: Object.freeze([]) });
  let ranking: RouteOwner[] = [members[o]!];
  for (let k = 0; k < replicas; k++) ranking.push(members[replicaIndex[shard * replicas + k]!]!);
  const serving = ranking.filter((m) => m.serving);
  if (serving.length > 0) ranking = serving;
  return Object.freeze({ owner: ranking[0]!, replicas: Object.freeze(ranking.slice(1)) });
}

/**
 * Each shard's placement id and the placements, when the table has few distinct ones (it has for any
 * cluster of tens of members): a route answer then reads one entry of a 2-byte-per-shard array and one
 * small object, both likely in cache, where per-shard replica lists would be a quarter million objects
 * scattered over the heap. Null when there are more than MAX_SHARED_PLACEMENTS.
 */
function sharedPlacements(members: readonly RouteOwner[], ownerIndex: Int32Array, replicaIndex: Int32Array, replicas: number, tableMembers: number): { ids: Uint16Array; placements: Placement[] } | null {
  const shards = ownerIndex.length;
  const placements: Placement[] = [];
  const idOf = new Map<number | string, number>();
  const ids = new Uint16Array(shards);
  // A placement's key: its member indexes as digits in base tableMembers + 1 while that stays an exact
  // double (it does for tens of members and a few replicas), else as text.
  const base = tableMembers + 1;
  const span = Math.pow(base, replicas + 1);
  const numeric = span <= Number.MAX_SAFE_INTEGER;
  // Few enough keys: ids in an array indexed by key (a Map lookup per shard is most of the load's cost).
  const direct = span <= 0x10000 ? new Int32Array(span).fill(-1) : null;
  for (let shard = 0; shard < shards; shard++) {
    const row = shard * replicas;
    let key: number | string;
    if (numeric) {
      key = ownerIndex[shard]! + 1;
      for (let k = 0; k < replicas; k++) key = key * base + replicaIndex[row + k]! + 1;
    } else key = `${ownerIndex[shard]!},${replicaIndex.subarray(row, row + replicas).join(',')}`;
    let id = direct === null ? idOf.get(key) : direct[key as number]!;
    if (id === undefined || id < 0) {
      if (placements.length === MAX_SHARED_PLACEMENTS) return null;
      id = placements.length;
      placements.push(placementOf(members, ownerIndex, replicaIndex, replicas, shard));
      if (direct === null) idOf.set(key, id);
      else direct[key as number] = id;
    }
    ids[shard] = id;
  }
  return { ids, placements };
}

/** A table decoded: per shard the owner's and replicas' indexes into `members`. */
export type TableParts = Pick<RingTable, 'version' | 'shards' | 'replicaCount' | 'members' | 'tableMembers' | 'ownerIndex' | 'replicaIndex' | 'claims'>;

function decodeCompact(json: CompactTableJson): TableParts {
  if (json.format !== TABLE_FORMAT) throw new Error(`compact table: unknown format ${JSON.stringify(json.format)} (this library reads ${TABLE_FORMAT})`);
  const { shards, replicas, tableMembers, indexBytes } = json;
  if (!Number.isInteger(shards) || shards < 1 || shards > 0x7fffffff) throw new Error(`compact table: bad shard count ${String(shards)}`);
  if (!Number.isInteger(tableMembers) || tableMembers < 0 || tableMembers > json.members.length) throw new Error('compact table: bad tableMembers');
  if (indexBytes !== 1 && indexBytes !== 2 && indexBytes !== 4) throw new Error(`compact table: bad indexBytes ${String(indexBytes)}`);
  let replicaCount = 0;
  let ownerIndex: Int32Array;
  let replicaIndex: Int32Array;
  if (tableMembers === 0) {
    ownerIndex = new Int32Array(shards).fill(-1);
    replicaIndex = new Int32Array(0);
  } else {
    replicaCount = replicas;
    ownerIndex = unpack(json.owners, indexBytes, shards, 'owners');
    replicaIndex = unpack(json.replicaIndexes, indexBytes, shards * replicas, 'replicaIndexes');
    for (const a of [ownerIndex, replicaIndex]) {
      // Negative: a 4-byte index of 2^31 or more, read into an Int32Array.
      for (let i = 0; i < a.length; i++) if (a[i]! >= tableMembers || a[i]! < 0) throw new Error('compact table: a member index out of range');
    }
  }
  const claims = new Map<string, Claimant>();
  for (const [id, member, fence] of json.claims) {
    const owner = json.members[member];
    if (owner === undefined) throw new Error('compact table: a claim names no member');
    if (typeof fence !== 'string' || !/^\d{1,20}$/.test(fence)) throw new Error(`compact table: the claim of ${JSON.stringify(id)} has no fencing token`);
    claims.set(id, { owner, fence });
  }
  return { version: json.version, shards, replicaCount, members: json.members, tableMembers, ownerIndex, replicaIndex, claims };
}

export class RingTable {
  readonly version: string;
  readonly shards: number;
  /** The shard of a key in this table (the lookup bound to its shard count). */
  readonly shardOf: (key: string) => number;
  readonly replicaCount: number;
  /** Table members then claimants, as route answers name them. */
  readonly members: readonly RouteOwner[];
  readonly tableMembers: number;
  /** Owner's member index per shard, -1 when no member owns shards. */
  readonly ownerIndex: Int32Array;
  readonly replicaIndex: Int32Array;
  /** Claimed id -> claimant and fence, as the sidecar had them when this table was loaded. */
  readonly claims: ReadonlyMap<string, Claimant>;
  /** Every table member serves: no ranking skips one, and ownerName() reads the table directly. */
  private readonly allServing: boolean;
  /** Each shard's index into `placements`; null: the index is the shard, its placement made on first use. */
  private readonly placementIds: Uint16Array | null;
  private readonly placements: (Placement | undefined)[];
  /** Per placement and claimant's name (the replicas depend on nothing else): the claimed answers' replicas. */
  private readonly claimedReplicas = new Map<Placement, Map<string, readonly RouteOwner[]>>();

  /** Decodes a compact table (GET /v1/table/compact), or takes decoded parts as they are. */
  constructor(input: CompactTableJson | TableParts) {
    const parts = 'format' in input ? decodeCompact(input) : input;
    this.version = parts.version;
    this.shards = parts.shards;
    this.shardOf = shardFunction(parts.shards);
    this.members = parts.members;
    this.tableMembers = parts.tableMembers;
    this.replicaCount = parts.replicaCount;
    this.ownerIndex = parts.ownerIndex;
    this.replicaIndex = parts.replicaIndex;
    this.claims = parts.claims;
    this.allServing = this.members.slice(0, this.tableMembers).every((m) => m.serving);
    const shared = sharedPlacements(this.members, this.ownerIndex, this.replicaIndex, this.replicaCount, this.tableMembers);
    this.placementIds = shared?.ids ?? null;
    this.placements = shared?.placements ?? new Array<Placement | undefined>(this.shards);
  }

  /** This table with member `index`'s answer object replaced (its addresses or serving flag changed). */
  withMember(index: number, member: RouteOwner): RingTable {
    const members = [...this.members];
    members[index] = member;
    return new RingTable({ ...this.parts(), members });
  }

  /** What the table is made of (the arrays are shared: a RingTable never changes them). */
  parts(): TableParts {
    const { version, shards, replicaCount, members, tableMembers, ownerIndex, replicaIndex, claims } = this;
    return { version, shards, replicaCount, members, tableMembers, ownerIndex, replicaIndex, claims };
  }

  /** The shard's owner and replicas. */
  placement(shard: number): Placement {
    const id = this.placementIds === null ? shard : this.placementIds[shard]!;
    return this.placements[id] ?? (this.placements[id] = placementOf(this.members, this.ownerIndex, this.replicaIndex, this.replicaCount, shard));
  }

  /** The name of the shard's owner, allocating nothing (null when no member owns shards). */
  ownerName(shard: number): string | null {
    // Through ownerIndex, not the placements: one dependent read fewer (measured a little faster).
    if (!this.allServing) return this.placement(shard).owner?.name ?? null;
    const i = this.ownerIndex[shard]!;
    return i < 0 ? null : this.members[i]!.name;
  }

  /** The table's owner of the shard, serving or not (null when no member owns shards). */
  tableOwnerName(shard: number): string | null {
    const i = this.ownerIndex[shard]!;
    return i < 0 ? null : this.members[i]!.name;
  }

  owner(shard: number): RouteOwner | null {
    return this.placement(shard).owner;
  }

  replicas(shard: number): readonly RouteOwner[] {
    return this.placement(shard).replicas;
  }

  /** The answer for a key claimed by `c`: the claimant, the shard's ring members beside it as replicas, the fence. */
  claimedAnswer(key: string, shard: number, c: Claimant): RouteAnswer {
    return { key, shard, owner: c.owner, replicas: this.replicasBeside(c.owner, this.placement(shard)), version: this.version, claimed: true, fence: c.fence };
  }

  /** A claimed answer's replicas, made once per placement and claimant and shared like the ring's lists. */
  private replicasBeside(claimant: RouteOwner, p: Placement): readonly RouteOwner[] {
    let byClaimant = this.claimedReplicas.get(p);
    if (byClaimant === undefined) this.claimedReplicas.set(p, (byClaimant = new Map()));
    let list = byClaimant.get(claimant.name);
    if (list === undefined) byClaimant.set(claimant.name, (list = Object.freeze(replicasBeside(claimant, p.owner, p.replicas))));
    return list;
  }

  /** The ring's answer (no claims). */
  ringAnswer(key: string, shard: number): RouteAnswer {
    const p = this.placement(shard);
    return { key, shard, owner: p.owner, replicas: p.replicas, version: this.version };
  }

  /** Index in `members` of the member named `name` among the table's, -1 when it is not one. */
  memberIndex(name: string): number {
    for (let i = 0; i < this.tableMembers; i++) if (this.members[i]!.name === name) return i;
    return -1;
  }
}

/** Ranges built from shards added in ascending order. */
class RangeGroup {
  readonly ranges: [number, number][] = [];
  count = 0;
  constructor(
    readonly role: 'owner' | 'replica',
    readonly from: string | null,
    readonly to: string | null,
  ) {}

  add(shard: number): void {
    this.count++;
    const last = this.ranges[this.ranges.length - 1];
    if (last !== undefined && last[1] === shard - 1) last[1] = shard;
    else this.ranges.push([shard, shard]);
  }

  done(): ShardMoveGroup {
    return { role: this.role, from: this.from, to: this.to, count: this.count, ranges: this.ranges as ShardRange[] };
  }
}

/**
 * What member `self` gained and lost from `before` to `after` (same shard count): owner shards grouped by
 * who had them (gained) or has them now (lost); replica slots with the other side null, since which
 * member a slot went to or came from is not one member when sets change by more than one.
 */
export function movesOf(before: RingTable, after: RingTable, self: string): { gained: ShardMoveGroup[]; lost: ShardMoveGroup[] } {
  const gained = new Map<string, RangeGroup>();
  const lost = new Map<string, RangeGroup>();
  const group = (into: Map<string, RangeGroup>, role: 'owner' | 'replica', from: string | null, to: string | null): RangeGroup => {
    const key = `${role}\u0000${from ?? ''}\u0000${to ?? ''}`;
    let g = into.get(key);
    if (g === undefined) into.set(key, (g = new RangeGroup(role, from, to)));
    return g;
  };
  const holds = (t: RingTable, shard: number, name: string): boolean => {
    for (let k = 0; k < t.replicaCount; k++) if (t.members[t.replicaIndex[shard * t.replicaCount + k]!]!.name === name) return true;
    return false;
  };
  for (let shard = 0; shard < after.shards; shard++) {
    const ob = before.tableOwnerName(shard);
    const oa = after.tableOwnerName(shard);
    if (ob !== oa) {
      if (oa === self) group(gained, 'owner', ob, self).add(shard);
      else if (ob === self) group(lost, 'owner', self, oa).add(shard);
    }
    const rb = holds(before, shard, self);
    const ra = holds(after, shard, self);
    if (ra && !rb) group(gained, 'replica', null, self).add(shard);
    else if (rb && !ra) group(lost, 'replica', self, null).add(shard);
  }
  return { gained: [...gained.values()].map((g) => g.done()), lost: [...lost.values()].map((g) => g.done()) };
}
