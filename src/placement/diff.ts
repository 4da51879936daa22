// What moved between two tables of the same shard count: per shard, an owner move when the owner
// changed, and replica moves for the members that left and joined its replica set (a reordering of
// the same replicas is not a move).
import { PlacementTable, type OwnershipTable } from './table.js';

export interface ShardMove {
  shard: number;
  role: 'owner' | 'replica';
  /** null when the shard had no owner, or gained a replica slot. */
  from: string | null;
  /** null when the shard has no owner now, or lost a replica slot. */
  to: string | null;
}

/**
 * Shard moves from `before` to `after`, in shard order, the owner move (if any) before replica moves.
 * Replica moves pair the members that left the shard's replica set with those that joined it, in the
 * order of their rank; unpaired ones have null on the other side. Throws RangeError if the shard
 * counts differ (no shard-by-shard comparison is meaningful then).
 */
export function diffTables(before: OwnershipTable, after: OwnershipTable): ShardMove[] {
  if (before.shards !== after.shards) {
    throw new RangeError(`cannot diff tables with different shard counts (${before.shards} and ${after.shards})`);
  }
  if (before instanceof PlacementTable && after instanceof PlacementTable) return diffBuilt(before, after);
  return diffGeneric(before, after);
}

function diffGeneric(before: OwnershipTable, after: OwnershipTable): ShardMove[] {
  const moves: ShardMove[] = [];
  for (let shard = 0; shard < before.shards; shard++) {
    const from = before.ownerOf(shard);
    const to = after.ownerOf(shard);
    if (from !== to) moves.push({ shard, role: 'owner', from, to });
    replicaMoves(shard, before.replicasOf(shard), after.replicasOf(shard), moves);
  }
  return moves;
}

function replicaMoves(shard: number, was: readonly string[], now: readonly string[], moves: ShardMove[]): void {
  const left = was.filter((m) => !now.includes(m));
  const joined = now.filter((m) => !was.includes(m));
  const pairs = Math.max(left.length, joined.length);
  for (let i = 0; i < pairs; i++) moves.push({ shard, role: 'replica', from: left[i] ?? null, to: joined[i] ?? null });
}

/** Same answer as diffGeneric, comparing member indexes instead of building per-shard arrays. */
function diffBuilt(before: PlacementTable, after: PlacementTable): ShardMove[] {
  // Translate before's member indexes into after's (-1: not a member any more).
  const afterIndex = new Map<string, number>();
  after.members.forEach((name, i) => afterIndex.set(name, i));
  const toAfter = new Int32Array(before.members.length);
  before.members.forEach((name, i) => {
    toAfter[i] = afterIndex.get(name) ?? -1;
  });
  const nameBefore = (m: number): string | null => (m < 0 ? null : before.members[m]!);
  const nameAfter = (m: number): string | null => (m < 0 ? null : after.members[m]!);
  const moves: ShardMove[] = [];
  const rb = before.replicaCount;
  const ra = after.replicaCount;
  for (let shard = 0; shard < before.shards; shard++) {
    const ob = before.ownerIndex[shard]!;
    const oa = after.ownerIndex[shard]!;
    if ((ob < 0 ? -1 : toAfter[ob]!) !== oa || (ob < 0) !== (oa < 0)) {
      moves.push({ shard, role: 'owner', from: nameBefore(ob), to: nameAfter(oa) });
    }
    if (rb === 0 && ra === 0) continue;
    if (sameReplicaSet(before, after, toAfter, shard)) continue;
    replicaMoves(shard, before.replicasOf(shard), after.replicasOf(shard), moves);
  }
  return moves;
}

function sameReplicaSet(before: PlacementTable, after: PlacementTable, toAfter: Int32Array, shard: number): boolean {
  const rb = before.replicaCount;
  const ra = after.replicaCount;
  if (rb !== ra) return false;
  const bb = shard * rb;
  const ab = shard * ra;
  for (let i = 0; i < rb; i++) {
    const m = toAfter[before.replicaIndex[bb + i]!]!;
    if (m < 0) return false;
    let found = false;
    for (let k = 0; k < ra; k++) {
      if (after.replicaIndex[ab + k] === m) {
        found = true;
        break;
      }
    }
    if (!found) return false;
  }
  return true;
}
