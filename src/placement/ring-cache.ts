// Keeps the ring's gap lists from the last build so the next build, usually one join or leave later,
// costs about one member's points instead of every member's. Results are identical to building from
// scratch (tests compare the two); this is purely a speed-up, invisible to callers.
import { compareBytes } from './names.js';
import { GapLists, offerAllSteps, offerMember, recomputeGap, renumber } from './ring.js';
import { type Steps } from './steps.js';

interface Cached {
  lists: GapLists;
  /** Member names (UTF-8, sorted) the lists were built for; list entries index into this. */
  names: readonly Uint8Array[];
}

let cached: Cached | null = null;

/** Membership changes beyond which a fresh build is cheaper than patching. */
const MAX_PATCHED_CHANGES = 64;

export interface RankInput {
  /** Sorted member names (UTF-8). */
  readonly names: readonly Uint8Array[];
  /** Seeds of the members, as in points.ts. */
  readonly seeds: Int32Array;
  readonly shards: number;
  readonly vnodes: number;
  /** How many ranked members per shard to keep (replicas + 1, or more). */
  readonly depth: number;
}

/** How the last call got its lists: for tests and the benchmark. */
export type RankPath = 'fresh' | 'patched' | 'reused';
let lastPath: RankPath = 'fresh';

export function lastRankPath(): RankPath {
  return lastPath;
}

/** Forgets the kept lists. */
export function clearRingCache(): void {
  cached = null;
}

let bypass = false;

/** Runs fn with the kept lists neither used nor replaced (tests compare patched and fresh builds). */
export function bypassRingCache<T>(fn: () => T): T {
  const was = bypass;
  bypass = true;
  try {
    return fn();
  } finally {
    bypass = was;
  }
}

let leased = false;

/**
 * Takes the kept lists (and ring-rank.ts's scratch) for one build, which may be suspended between its
 * steps: true if the caller has them until it calls returnRing, false if another build holds them
 * (the caller then builds with lists and scratch of its own).
 */
export function leaseRing(): boolean {
  if (leased) return false;
  leased = true;
  return true;
}

export function returnRing(): void {
  leased = false;
}

/**
 * The gap lists of the member set, ready for ranking (ring-rank.ts), patched from the previous build's
 * lists when that is cheaper; with `shared` false (see leaseRing), fresh lists that are not kept. Kept
 * lists stay valid until the next call.
 */
export function* listsSteps(input: RankInput, shared: boolean): Steps<GapLists> {
  const { names, seeds, shards, vnodes, depth } = input;
  const n = names.length;
  if (bypass || !shared) {
    const lists = new GapLists(shards, vnodes, depth);
    yield* offerAllSteps(lists, seeds, n);
    lastPath = 'fresh';
    return lists;
  }
  const prev = cached;
  if (prev !== null && prev.lists.shards === shards && prev.lists.vnodes === vnodes && prev.lists.depth === depth) {
    const plan = changes(prev.names, names);
    if (plan !== null && plan.changed === 0) {
      lastPath = 'reused';
      return prev.lists;
    }
    if (plan !== null && plan.changed <= Math.min(MAX_PATCHED_CHANGES, Math.max(1, n >> 2))) {
      // Renumber (striking out the leavers), recompute the gaps that may have lost a member they
      // cannot replace, then offer the joiners' points.
      cached = null; // half-patched lists must not survive an exception
      const stale = renumber(prev.lists, plan.newIndex);
      for (const g of stale) recomputeGap(prev.lists, g, seeds, n);
      for (const m of plan.added) offerMember(prev.lists, seeds, m);
      cached = { lists: prev.lists, names };
      lastPath = 'patched';
      return prev.lists;
    }
  }
  const lists = prev !== null && prev.lists.shards === shards && prev.lists.vnodes === vnodes && prev.lists.depth === depth
    ? prev.lists
    : new GapLists(shards, vnodes, depth);
  cached = null;
  yield* offerAllSteps(lists, seeds, n);
  cached = { lists, names };
  lastPath = 'fresh';
  return lists;
}

interface Plan {
  /** Old member index -> new index, -1 for members that left. */
  newIndex: Int32Array;
  /** New indexes of members that joined. */
  added: number[];
  changed: number;
}

/** The renumbering from one sorted name list to another; null if they are too different to bother. */
function changes(before: readonly Uint8Array[], after: readonly Uint8Array[]): Plan | null {
  const newIndex = new Int32Array(before.length).fill(-1);
  const added: number[] = [];
  let changed = 0;
  let i = 0;
  let j = 0;
  while (i < before.length || j < after.length) {
    const c = i >= before.length ? 1 : j >= after.length ? -1 : compareBytes(before[i]!, after[j]!);
    if (c === 0) {
      newIndex[i++] = j++;
      continue;
    }
    changed++;
    if (changed > MAX_PATCHED_CHANGES) return null;
    if (c < 0) i++;
    else added.push(j++);
  }
  return { newIndex, added, changed };
}
