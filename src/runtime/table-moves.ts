// Shard moves between two tables, grouped by (role, from, to): a join at 10 members moves tens of
// thousands of shards, and watchers want "these shards went from A to B", not one object per shard.
// Built tables are compared by member index in one pass with no object per moved shard: going through
// placement's diffTables (one object and one string key per move) cost 150 ms at 2^18 shards and 10
// members, three times the build itself.
import { diffTables, PlacementTable, type OwnershipTable } from '../placement/index.js';
import { runSteps, type Steps } from '../placement/steps.js';
import type { EntrantSlots, MovesPatch, RouteOwner, ShardMoveGroup, ShardRange } from './view-json.js';

/** Shards added in ascending order, kept as ranges of neighbours. */
class RangeList {
  readonly ranges: [number, number][] = [];
  count = 0;

  add(shard: number): void {
    this.count++;
    const last = this.ranges[this.ranges.length - 1];
    if (last !== undefined && last[1] === shard - 1) last[1] = shard;
    else this.ranges.push([shard, shard]);
  }
}

/** Every shard of `ranges`, ascending: for tests and clients that want shard numbers. */
export function shardsOfRanges(ranges: readonly ShardRange[]): number[] {
  const out: number[] = [];
  for (const [first, last] of ranges) for (let s = first; s <= last; s++) out.push(s);
  return out;
}

export interface MoveSummary {
  readonly groups: ShardMoveGroup[];
  readonly ownerMoves: number;
  readonly replicaMoves: number;
  /** Present when the groups with these slots describe the change exactly (a watch event's patch). */
  readonly replicaSlots?: ReplicaSlots;
  /** Set when only the counts were taken (no one watched): `groups` is empty whatever moved. */
  readonly countsOnly?: true;
}

/**
 * Where each shard's replica-set entrants sit in its new replica list, for shards where they are not the
 * last slots (a leave's are; a join puts the joiner, or the owner it displaced, anywhere).
 */
export interface ReplicaSlots {
  /** The version of the table the summary leads from. */
  readonly from: string;
  readonly replicas: number;
  readonly groups: EntrantSlots[];
}

export function summarizeMoves(before: OwnershipTable, after: OwnershipTable): MoveSummary {
  if (before instanceof PlacementTable && after instanceof PlacementTable && before.shards === after.shards) {
    return runSteps(summarizeBuiltSteps(before, after));
  }
  return summarizeGeneric(before, after);
}

/** Shards compared between two yields of summarizeBuiltSteps: a few milliseconds of work. */
const SHARDS_PER_STEP = 16_384;

/** The reference: placement's diffTables, grouped. Same answer as summarizeBuilt (tested). */
export function summarizeGeneric(before: OwnershipTable, after: OwnershipTable): MoveSummary {
  const byKey = new Map<string, { role: 'owner' | 'replica'; from: string | null; to: string | null; list: RangeList }>();
  let ownerMoves = 0;
  let replicaMoves = 0;
  for (const m of diffTables(before, after)) {
    if (m.role === 'owner') ownerMoves++;
    else replicaMoves++;
    const key = `${m.role}\u0000${m.from ?? ''}\u0000${m.to ?? ''}`;
    let g = byKey.get(key);
    if (!g) {
      g = { role: m.role, from: m.from, to: m.to, list: new RangeList() };
      byKey.set(key, g);
    }
    g.list.add(m.shard);
  }
  const groups = [...byKey.values()].map(({ role, from, to, list }) => ({ role, from, to, count: list.count, ranges: list.ranges }));
  return { groups, ownerMoves, replicaMoves };
}

/**
 * Moves of two built tables of one shard count. Groups are keyed by (role, index in before + 1, index
 * in after + 1), 0 standing for null; member indexes name members uniquely, so this groups exactly as
 * by names, and groups appear in the order of their first shard, as diffTables lists moves.
 *
 * With `grouped` false only the counts are taken. Groups are for watchers; while a cluster forms nearly
 * every shard moves at each build, and listing each moved shard in its group's ranges costs about as
 * much as the build itself.
 */
export function* summarizeBuiltSteps(before: PlacementTable, after: PlacementTable, grouped = true): Steps<MoveSummary> {
  const nb = before.members.length;
  const na = after.members.length;
  const afterIndex = new Map<string, number>();
  after.members.forEach((name, i) => afterIndex.set(name, i));
  const toAfter = new Int32Array(nb);
  for (let i = 0; i < nb; i++) toAfter[i] = afterIndex.get(before.members[i]!) ?? -1;
  const groups = new Map<number, RangeList>();
  const add = (role: number, from: number, to: number, shard: number): void => {
    const key = (role * (nb + 1) + from + 1) * (na + 1) + to + 1;
    let list = groups.get(key);
    if (list === undefined) groups.set(key, (list = new RangeList()));
    list.add(shard);
  };
  const rb = before.replicaCount;
  const ra = after.replicaCount;
  const bo = before.ownerIndex;
  const ao = after.ownerIndex;
  const br = before.replicaIndex;
  const ar = after.replicaIndex;
  // Rank-ordered members that left / joined one shard's replica set (before's / after's indexes).
  const left = new Int32Array(rb);
  const joined = new Int32Array(ra);
  let ownerMoves = 0;
  let replicaMoves = 0;
  // Exact while every replica list is the old one with the moves applied: the members that stay keep
  // their order (always so without bounded loads, docs/placement.md §3), and no shard has two entrants
  // without a member they replace (a list grown by two slots at once), whose order no pair tells.
  let exact = true;
  const slotGroups = new Map<number, RangeList>();
  const compare = (from: number, to: number): void => {
    for (let shard = from; shard < to; shard++) {
      const ob = bo[shard]!;
      const oa = ao[shard]!;
      if ((ob < 0 ? -1 : toAfter[ob]!) !== oa || (ob < 0) !== (oa < 0)) {
        if (grouped) add(0, ob, oa, shard);
        ownerMoves++;
      }
      let nLeft = 0;
      for (let i = 0; i < rb; i++) {
        const m = br[shard * rb + i]!;
        const inAfter = toAfter[m]!;
        let kept = false;
        if (inAfter >= 0) for (let k = 0; k < ra && !kept; k++) kept = ar[shard * ra + k] === inAfter;
        if (!kept) left[nLeft++] = m;
      }
      // Same size and nobody left: the same set, perhaps reordered, which is not a move.
      if (nLeft === 0 && rb === ra) {
        for (let k = 0; k < ra && exact; k++) exact = ar[shard * ra + k] === toAfter[br[shard * rb + k]!];
        continue;
      }
      let nJoined = 0;
      // Bit k: slot k of the new list holds an entrant.
      let entrantSlots = 0;
      let lastKeptAt = -1;
      for (let k = 0; k < ra; k++) {
        const m = ar[shard * ra + k]!;
        let keptAt = -1;
        for (let i = 0; i < rb && keptAt < 0; i++) if (toAfter[br[shard * rb + i]!] === m) keptAt = i;
        if (keptAt < 0) {
          joined[nJoined++] = m;
          entrantSlots |= 1 << k;
        } else {
          if (keptAt < lastKeptAt) exact = false;
          lastKeptAt = keptAt;
        }
      }
      if (nJoined - nLeft > 1) exact = false;
      const pairs = Math.max(nLeft, nJoined);
      replicaMoves += pairs;
      if (!grouped) continue;
      if (exact && nJoined > 0 && entrantSlots !== ((1 << nJoined) - 1) << (ra - nJoined)) {
        let list = slotGroups.get(entrantSlots);
        if (list === undefined) slotGroups.set(entrantSlots, (list = new RangeList()));
        list.add(shard);
      }
      for (let i = 0; i < pairs; i++) add(1, i < nLeft ? left[i]! : -1, i < nJoined ? joined[i]! : -1, shard);
    }
  };
  for (let from = 0; from < before.shards; from += SHARDS_PER_STEP) {
    if (from > 0) yield;
    compare(from, Math.min(before.shards, from + SHARDS_PER_STEP));
  }
  if (!grouped) return { groups: [], ownerMoves, replicaMoves, countsOnly: true };
  const out: ShardMoveGroup[] = [];
  for (const [key, list] of groups) {
    const to = (key % (na + 1)) - 1;
    const rest = Math.floor(key / (na + 1));
    const from = (rest % (nb + 1)) - 1;
    const role = Math.floor(rest / (nb + 1)) === 0 ? 'owner' : 'replica';
    out.push({ role, from: from < 0 ? null : before.members[from]!, to: to < 0 ? null : after.members[to]!, count: list.count, ranges: list.ranges });
  }
  if (!exact) return { groups: out, ownerMoves, replicaMoves };
  const slots: EntrantSlots[] = [];
  for (const [bits, list] of slotGroups) {
    const at: number[] = [];
    for (let k = 0; k < ra; k++) if (bits & (1 << k)) at.push(k);
    slots.push({ slots: at, count: list.count, ranges: list.ranges });
  }
  return { groups: out, ownerMoves, replicaMoves, replicaSlots: { from: before.version, replicas: ra, groups: slots } };
}

/**
 * A watch moves event's patch from `previous` to `next` (`ownerOf`: the answer object of `next`'s member
 * i): null unless the summary is exact and was made from `previous` (the builder summarizes against the
 * last table it handed out, which is this one).
 */
export function movesPatch(previous: PlacementTable, next: PlacementTable, moves: MoveSummary, ownerOf: (member: number) => RouteOwner): MovesPatch | null {
  const slots = moves.replicaSlots;
  if (slots === undefined || slots.from !== previous.version) return null;
  const before = new Set(previous.members);
  const after = new Set(next.members);
  const added: RouteOwner[] = [];
  next.members.forEach((name, i) => {
    if (!before.has(name)) added.push(ownerOf(i));
  });
  return {
    added,
    removed: previous.members.filter((name) => !after.has(name)),
    replicas: slots.replicas,
    placement: { replicas: next.replicas, vnodes: next.vnodes, boundedLoad: next.boundedLoad },
    slots: slots.groups,
  };
}
