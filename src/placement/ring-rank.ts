// Ranking from the gap lists (ring.ts): each shard's first K members, walking the ring both ways from
// its position. The own lists are copied into walk lists (one per gap record, at the same offset),
// swept once backwards so each ahead list becomes the first K distinct members met walking forwards
// from that gap all the way round (and once forwards for behind), then each shard merges the walk of
// the first gap at or after it with the backwards walk of the last gap before it, by distance.
//
// An empty gap's walk is the next (or previous) non-empty gap's, found while sweeping, so no per-shard
// array is kept beyond the output itself. The merge goes a slice of shards per step (steps.ts).
import { type MemberIndexArray } from './member-index.js';
import { shardPositionHigh } from './positions.js';
import { AHEAD, BEHIND, COUNT_MASK, ENTRIES, holdsPoints, type GapLists } from './ring.js';
import { runSteps, type Steps } from './steps.js';

const FLIP = 0x80000000 | 0;

let scratchWalk = new Int32Array(0);

/** Ints held by the walk scratch array (what the last ranking needed, or more): for the memory tests. */
export function ringWalkScratchInts(): number {
  return scratchWalk.length;
}

/** Drops the scratch array builds keep between calls (one walk record per gap record). */
export function releaseRingScratch(): void {
  scratchWalk = new Int32Array(0);
}

/** (ah:al, am) < (bh:bl, bm): unsigned 64-bit keys, then member index. */
function before(ah: number, al: number, am: number, bh: number, bl: number, bm: number): boolean {
  if (ah !== bh) return (ah ^ FLIP) < (bh ^ FLIP);
  if (al !== bl) return (al ^ FLIP) < (bl ^ FLIP);
  return am < bm;
}

/**
 * Appends to one list of record dst (count word at dst + dir) the entries of the same list of record
 * src whose members it lacks, up to K. Both lists are in walk order and src's walk starts where dst's
 * own points end, so this is dst's walk extended. Returns whether dst changed.
 */
function extend(d: Int32Array, k: number, dst: number, src: number, dir: number): boolean {
  let c = d[dst + dir]! & COUNT_MASK;
  if (c >= k) return false;
  const sc = d[src + dir]! & COUNT_MASK;
  const db = dst + ENTRIES + 3 * k * dir;
  const sb = src + ENTRIES + 3 * k * dir;
  let changed = false;
  for (let t = 0; t < sc && c < k; t++) {
    const m = d[sb + 3 * t + 2]!;
    let seen = false;
    for (let u = 0; u < c; u++) {
      if (d[db + 3 * u + 2] === m) {
        seen = true;
        break;
      }
    }
    if (seen) continue;
    d[db + 3 * c] = d[sb + 3 * t]!;
    d[db + 3 * c + 1] = d[sb + 3 * t + 1]!;
    d[db + 3 * c + 2] = m;
    c++;
    changed = true;
  }
  d[dst + dir] = c;
  return changed;
}

/** Copies one list (count and entries) of the record at `rec` from the own lists to the walk lists. */
function copyList(from: Int32Array, to: Int32Array, rec: number, k: number, dir: number): void {
  const c = from[rec + dir]! & COUNT_MASK;
  to[rec + dir] = c;
  const first = ENTRIES + 3 * k * dir;
  for (let t = first; t < first + 3 * c; t++) to[rec + t] = from[rec + t]!;
}

/** Where ranked members go: row member r of shard j to head[j * headWidth + r] while r < headWidth, else to tail. */
interface RankOutput {
  readonly head: MemberIndexArray;
  readonly headWidth: number;
  readonly tail: MemberIndexArray;
  readonly tailWidth: number;
}

/** Shards merged between two yields of rankSteps: a few milliseconds of work. */
const SHARDS_PER_STEP = 8192;

/**
 * The first min(K, n) members of every shard's ranking, shard-major: result[j * w + r] is the member
 * index ranked r for shard j, w = min(K, n). The lists are left as they were.
 */
export function rankShards(lists: GapLists, n: number, sharedScratch: boolean): Int32Array {
  const width = Math.min(lists.depth, n);
  const result = new Int32Array(lists.shards * width);
  runSteps(rankSteps(lists, n, { head: result, headWidth: width, tail: result, tailWidth: 0 }, sharedScratch));
  return result;
}

/**
 * The ranking written straight into a table's arrays, a slice of shards per step: each shard's first
 * member to owners[j], the next replicaCount to replicas[j * replicaCount ..] (replicaCount = min(K, n)
 * - 1), with no shards x K intermediate. `sharedScratch`: whether the caller holds the ring (leaseRing)
 * and may use the walk scratch kept between builds; otherwise the walk lists are its own.
 */
export function rankSplitSteps(
  lists: GapLists,
  n: number,
  owners: MemberIndexArray,
  replicas: MemberIndexArray,
  replicaCount: number,
  sharedScratch: boolean,
): Steps<void> {
  return rankSteps(lists, n, { head: owners, headWidth: 1, tail: replicas, tailWidth: replicaCount }, sharedScratch);
}

function* rankSteps(lists: GapLists, n: number, out: RankOutput, sharedScratch: boolean): Steps<void> {
  const { shards, depth: k, stride } = lists;
  if (Math.min(k, n) === 0) return;
  const size = lists.used * stride;
  let d: Int32Array;
  if (sharedScratch) {
    if (scratchWalk.length < size) scratchWalk = new Int32Array(size);
    d = scratchWalk;
  } else {
    d = new Int32Array(size);
  }
  const firstAhead = walkAhead(lists, d);
  const lastBehind = walkBehind(lists, d);
  const cursor: MergeCursor = { aheadGap: -1, behindRec: lists.slotOf[lastBehind]! * stride, firstAhead, row: new Int32Array(Math.min(k, n)) };
  for (let from = 0; from < shards; from += SHARDS_PER_STEP) {
    yield;
    mergeShards(lists, d, out, cursor, from, Math.min(shards, from + SHARDS_PER_STEP));
  }
}

/**
 * Forwards walks, into d; returns the first gap holding points. Lap one, backwards over the gaps: a
 * non-empty gap's walk is its own list extended by the walk of the next non-empty gap; wrapping round,
 * that is the first non-empty gap's list, still only its own at that point (a prefix of its walk, which
 * is enough). Lap two redoes the non-empty gaps from the end until nothing changes.
 */
function walkAhead(lists: GapLists, d: Int32Array): number {
  const { shards, depth: k, stride, records, slotOf } = lists;
  let firstAhead = 0;
  while (!holdsPoints(lists, firstAhead, AHEAD)) firstAhead++;
  let next = slotOf[firstAhead]! * stride;
  copyList(records, d, next, k, AHEAD);
  for (let j = shards - 1; j >= 0; j--) {
    if (!holdsPoints(lists, j, AHEAD)) continue;
    const rec = slotOf[j]! * stride;
    copyList(records, d, rec, k, AHEAD);
    if (rec !== next) extend(d, k, rec, next, AHEAD);
    next = rec;
  }
  next = slotOf[firstAhead]! * stride;
  for (let j = shards - 1; j >= 0; j--) {
    if (!holdsPoints(lists, j, AHEAD)) continue;
    const rec = slotOf[j]! * stride;
    if (rec === next || !extend(d, k, rec, next, AHEAD)) break;
    next = rec;
  }
  return firstAhead;
}

/** Backwards walks, the mirror image of walkAhead: forwards over the gaps, behind lists. Returns the last gap holding points. */
function walkBehind(lists: GapLists, d: Int32Array): number {
  const { shards, depth: k, stride, records, slotOf } = lists;
  let lastBehind = shards - 1;
  while (!holdsPoints(lists, lastBehind, BEHIND)) lastBehind--;
  let prev = slotOf[lastBehind]! * stride;
  copyList(records, d, prev, k, BEHIND);
  for (let j = 0; j < shards; j++) {
    if (!holdsPoints(lists, j, BEHIND)) continue;
    const rec = slotOf[j]! * stride;
    copyList(records, d, rec, k, BEHIND);
    if (rec !== prev) extend(d, k, rec, prev, BEHIND);
    prev = rec;
  }
  prev = slotOf[lastBehind]! * stride;
  for (let j = 0; j < shards; j++) {
    if (!holdsPoints(lists, j, BEHIND)) continue;
    const rec = slotOf[j]! * stride;
    if (rec === prev || !extend(d, k, rec, prev, BEHIND)) break;
    prev = rec;
  }
  return lastBehind;
}

/** Where the merge is between slices of shards. */
interface MergeCursor {
  /** The first gap holding points at or after the last shard merged (shards when none: wrap). */
  aheadGap: number;
  /** The walk record of the last gap holding points before the next shard (wrapping to the last). */
  behindRec: number;
  readonly firstAhead: number;
  /** One shard's ranking as it is found. */
  readonly row: Int32Array;
}

/**
 * Merges shards [from, to) by distance: ahead d = point - q; behind d = q - point = q + key + 1 (key =
 * ~point). Shard j reads the walk of the first non-empty gap at or after j (wrapping to the first) and
 * the backwards walk of the last non-empty gap before j (wrapping to the last).
 */
function mergeShards(lists: GapLists, d: Int32Array, out: RankOutput, cursor: MergeCursor, from: number, to: number): void {
  const { shards, depth: k, stride, slotOf } = lists;
  const { head, headWidth, tail, tailWidth } = out;
  const row = cursor.row;
  const width = row.length;
  let aheadGap = cursor.aheadGap;
  let bRec = cursor.behindRec;
  for (let j = from; j < to; j++) {
    if (j > 0 && holdsPoints(lists, j - 1, BEHIND)) bRec = slotOf[j - 1]! * stride;
    if (aheadGap < j) {
      aheadGap = j;
      while (aheadGap < shards && !holdsPoints(lists, aheadGap, AHEAD)) aheadGap++;
    }
    const aRec = slotOf[aheadGap < shards ? aheadGap : cursor.firstAhead]! * stride;
    const qh = shardPositionHigh(j, shards) | 0;
    const ab = aRec + ENTRIES;
    const ac = d[aRec + AHEAD]! & COUNT_MASK;
    const bb = bRec + ENTRIES + 3 * k;
    const bc = d[bRec + BEHIND]! & COUNT_MASK;
    let a = 0;
    let b = 0;
    let filled = 0;
    // The current head of each list, with its distance.
    let adh = (d[ab]! - qh) | 0;
    let adl = d[ab + 1]!;
    let am = d[ab + 2]!;
    let kl = d[bb + 1]!;
    let bdh = (((qh + d[bb]!) | 0) + (kl === -1 ? 1 : 0)) | 0;
    let bdl = (kl + 1) | 0;
    let bm = d[bb + 2]!;
    while (filled < width) {
      let m: number;
      if (a < ac && (b >= bc || before(adh, adl, am, bdh, bdl, bm))) {
        m = am;
        if (++a < ac) {
          adh = (d[ab + 3 * a]! - qh) | 0;
          adl = d[ab + 3 * a + 1]!;
          am = d[ab + 3 * a + 2]!;
        }
      } else if (b < bc) {
        m = bm;
        if (++b < bc) {
          kl = d[bb + 3 * b + 1]!;
          bdh = (((qh + d[bb + 3 * b]!) | 0) + (kl === -1 ? 1 : 0)) | 0;
          bdl = (kl + 1) | 0;
          bm = d[bb + 3 * b + 2]!;
        }
      } else {
        break;
      }
      let seen = false;
      for (let u = 0; u < filled; u++) {
        if (row[u] === m) {
          seen = true;
          break;
        }
      }
      if (!seen) row[filled++] = m;
    }
    for (let r = 0; r < filled; r++) {
      if (r < headWidth) head[j * headWidth + r] = row[r]!;
      else tail[j * tailWidth + r - headWidth] = row[r]!;
    }
  }
  cursor.aheadGap = aheadGap;
  cursor.behindRec = bRec;
}
