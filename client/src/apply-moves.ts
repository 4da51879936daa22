// A watch `moves` event applied to the installed table: the next version's table made here instead of
// loaded, when the event leads from the installed version and carries a patch (docs/http.md). The new
// placement is built in new arrays and handed back whole, so route() keeps answering from the installed
// table until the caller swaps; anything the event does not express, or that contradicts the installed
// table, is returned as a reason to load instead.
import { compareBytes } from '../../src/placement/names.js';
import { tableVersion } from '../../src/placement/version.js';
import { RingTable } from './table.js';
import type { RouteOwner, ShardRange, WatchEvent } from './types.js';

export type MovesWatchEvent = Extract<WatchEvent, { type: 'moves' }>;

/** Why an event was not applied (the library loads the table instead). */
export type ApplyRefusal =
  /** The event does not lead from the installed version: one was missed, or the table came from elsewhere. */
  | 'gap'
  /** No patch: an older sidecar, or a change the groups do not describe exactly (docs/http.md). */
  | 'no-patch'
  /** No table member before or after: every shard changes to or from no owner. */
  | 'empty'
  /** A group names a member that is in neither the installed table nor the patch's additions. */
  | 'unknown-member'
  /**
   * The event contradicts the installed table (a `from` that is not the shard's, a departed member left
   * behind), or the version of the member set it leads to is not the event's.
   */
  | 'mismatch';

class Refused extends Error {
  constructor(readonly reason: ApplyRefusal) {
    super(reason);
  }
}

const encoder = new TextEncoder();

/** Calls `visit` for each shard of `ranges`, which must lie in [0, shards). */
function eachShard(ranges: readonly ShardRange[], shards: number, visit: (shard: number) => void): void {
  for (const [first, last] of ranges) {
    if (!Number.isInteger(first) || !Number.isInteger(last) || first < 0 || last < first || last >= shards) throw new Refused('mismatch');
    for (let s = first; s <= last; s++) visit(s);
  }
}

/** The table `e` leads to, made from `t`, or why it cannot be. */
export function applyMoves(t: RingTable, e: MovesWatchEvent): RingTable | ApplyRefusal {
  if (e.previousVersion !== t.version) return 'gap';
  if (e.patch === undefined) return 'no-patch';
  try {
    return apply(t, e, e.patch);
  } catch (err) {
    // Anything else is an event not of the documented shape (a field of the wrong type): load instead.
    return err instanceof Refused ? err.reason : 'mismatch';
  }
}

function apply(t: RingTable, e: MovesWatchEvent, patch: NonNullable<MovesWatchEvent['patch']>): RingTable {
  const { shards, replicaCount: oldWidth } = t;
  const width = patch.replicas;
  if (!Number.isInteger(width) || width < 0 || width > 16) throw new Refused('mismatch');
  // The new table's members: the installed ones less the removed plus the added, in table order (UTF-8 bytes).
  const oldIndex = new Map<string, number>();
  for (let i = 0; i < t.tableMembers; i++) oldIndex.set(t.members[i]!.name, i);
  const removed = new Set(patch.removed);
  for (const name of removed) if (!oldIndex.has(name)) throw new Refused('mismatch');
  const owners: RouteOwner[] = t.members.slice(0, t.tableMembers).filter((m) => !removed.has(m.name));
  for (const m of patch.added) {
    if (oldIndex.has(m.name) || typeof m.name !== 'string') throw new Refused('mismatch');
    owners.push(m);
  }
  if (t.tableMembers === 0 || owners.length === 0) throw new Refused('empty');
  const keyed = owners.map((m) => ({ m, bytes: encoder.encode(m.name) }));
  keyed.sort((a, b) => compareBytes(a.bytes, b.bytes));
  const tableMembers = keyed.map((k) => k.m);
  // The version of the member set derived here must be the event's: a check of the added and removed lists.
  if (tableVersion({ members: keyed.map((k) => k.bytes), shards, ...patch.placement }) !== e.version) throw new Refused('mismatch');
  const newIndex = new Map<string, number>();
  tableMembers.forEach((m, i) => newIndex.set(m.name, i));
  if (newIndex.size !== tableMembers.length) throw new Refused('mismatch');
  const toNew = new Int32Array(t.tableMembers);
  for (let i = 0; i < t.tableMembers; i++) toNew[i] = newIndex.get(t.members[i]!.name) ?? -1;
  const indexOf = (name: string | null): number => {
    if (name === null) throw new Refused('mismatch'); // to or from no member: a change of the slot count
    const i = newIndex.get(name);
    if (i === undefined) throw new Refused(oldIndex.has(name) ? 'mismatch' : 'unknown-member');
    return i;
  };

  // Every shard as it was, in the new member indexes (-1: a removed member, which the moves must replace).
  const ownerIndex = new Int32Array(shards);
  for (let s = 0; s < shards; s++) ownerIndex[s] = toNew[t.ownerIndex[s]!]!;
  const replicaIndex = new Int32Array(shards * width);
  if (width === oldWidth) for (let i = 0; i < replicaIndex.length; i++) replicaIndex[i] = toNew[t.replicaIndex[i]!]!;

  // Shards the event touches (every one when the slot count changes); per old replica slot, the entrant
  // that replaces its member (NO_ENTRANT: the slot is gone); per shard, an entrant into a new slot.
  const touched = new Uint8Array(shards);
  const NO_PAIR = -1;
  const NO_ENTRANT = -2;
  const entrantFor = new Int32Array(shards * oldWidth).fill(NO_PAIR);
  const grownBy = new Int32Array(width > oldWidth ? shards : 0).fill(NO_PAIR);
  for (const g of e.moves) {
    if (g.role === 'owner') {
      const to = indexOf(g.to);
      eachShard(g.ranges, shards, (s) => {
        if (t.tableOwnerName(s) !== g.from) throw new Refused('mismatch');
        ownerIndex[s] = to;
        touched[s] = 1;
      });
      continue;
    }
    const to = g.to === null && width < oldWidth ? NO_ENTRANT : indexOf(g.to);
    if (g.from === null) {
      if (width <= oldWidth) throw new Refused('mismatch');
      eachShard(g.ranges, shards, (s) => {
        if (grownBy[s] !== NO_PAIR) throw new Refused('mismatch');
        grownBy[s] = to;
        touched[s] = 1;
      });
      continue;
    }
    const from = oldIndex.get(g.from);
    if (from === undefined) throw new Refused('mismatch');
    eachShard(g.ranges, shards, (s) => {
      let k = 0;
      while (k < oldWidth && t.replicaIndex[s * oldWidth + k] !== from) k++;
      if (k === oldWidth || entrantFor[s * oldWidth + k] !== NO_PAIR) throw new Refused('mismatch');
      entrantFor[s * oldWidth + k] = to;
      touched[s] = 1;
    });
  }

  // Entrant slots other than the last ones, per shard (0: the last ones).
  const slotBits = patch.slots.length === 0 ? null : new Uint16Array(shards);
  for (const g of patch.slots) {
    let bits = 0;
    for (const k of g.slots) {
      if (!Number.isInteger(k) || k < 0 || k >= width || bits >> k !== 0) throw new Refused('mismatch'); // ascending, in range
      bits |= 1 << k;
    }
    eachShard(g.ranges, shards, (s) => {
      if (slotBits![s] !== 0 || touched[s] === 0) throw new Refused('mismatch');
      slotBits![s] = bits;
    });
  }

  // Each touched shard's new replica list: entrants (ordered as the slots they replace were, one into a
  // new slot last) at their slots, the members that stay in the others in their old order.
  const entrants: number[] = [];
  const kept: number[] = [];
  for (let s = 0; s < shards; s++) {
    if (touched[s] === 0) {
      if (width !== oldWidth) throw new Refused('mismatch'); // every list changes size
      continue;
    }
    entrants.length = 0;
    kept.length = 0;
    for (let k = 0; k < oldWidth; k++) {
      const to = entrantFor[s * oldWidth + k]!;
      if (to >= 0) entrants.push(to);
      else if (to === NO_PAIR) kept.push(toNew[t.replicaIndex[s * oldWidth + k]!]!);
    }
    if (width > oldWidth && grownBy[s]! >= 0) entrants.push(grownBy[s]!);
    if (entrants.length + kept.length !== width) throw new Refused('mismatch');
    const bits = slotBits?.[s] || ((1 << entrants.length) - 1) << (width - entrants.length);
    let nextEntrant = 0;
    let nextKept = 0;
    for (let k = 0; k < width; k++) {
      const at = bits & (1 << k) ? entrants[nextEntrant++] : kept[nextKept++];
      if (at === undefined) throw new Refused('mismatch'); // slots for more or fewer entrants than the shard has
      replicaIndex[s * width + k] = at;
    }
    // Owner and replicas distinct.
    for (let k = -1; k < width; k++) {
      const a = k < 0 ? ownerIndex[s]! : replicaIndex[s * width + k]!;
      for (let j = k + 1; j < width; j++) if (replicaIndex[s * width + j] === a) throw new Refused('mismatch');
    }
  }
  // A removed member still named anywhere: the event did not move all it had.
  for (let s = 0; s < shards; s++) if (ownerIndex[s]! < 0) throw new Refused('mismatch');
  for (let i = 0; i < replicaIndex.length; i++) if (replicaIndex[i]! < 0) throw new Refused('mismatch');

  // Claimants outside the table (and members that left it) stay known by name for claims.
  const extras = t.members.filter((m, i) => (i >= t.tableMembers || removed.has(m.name)) && !newIndex.has(m.name));
  return new RingTable({
    version: e.version,
    shards,
    replicaCount: width,
    members: [...tableMembers, ...extras],
    tableMembers: tableMembers.length,
    ownerIndex,
    replicaIndex,
    claims: t.claims,
  });
}
