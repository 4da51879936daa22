// The ring: for every shard, the members in order of how near their nearest point is to the shard's
// position (circular distance on 2^64, either direction; ties by name order), the first K of them.
//
// No global sort of the members x vnodes points. The S shard positions cut the ring into S gaps; each
// point lands in one gap, and each gap keeps only its K nearest-to-either-end distinct members:
//   - "ahead" list: the K distinct members with the smallest points in the gap (nearest to the gap's
//     start, the shard position before them: what that shard sees walking forwards);
//   - "behind" list: the K distinct members with the largest points in the gap (nearest to the gap's
//     end, the next shard position: what that shard sees walking backwards).
// These "own" lists are the whole state (GapLists). Ranking copies them, sweeps the copy once
// backwards so each ahead list becomes the first K distinct members met walking forwards from that
// shard all the way round (and once forwards for behind), then merges each shard's two lists by
// distance. Time O(points + S x K), memory O(S x K) whatever the member count.
//
// Each list is kept in walk order by a key that grows along the walk: the point itself ahead, its
// bitwise complement (2^64 - 1 - point) behind, so both directions share one insertion routine.
//
// The own lists also allow incremental updates (ring-cache.ts): a joining member's points are offered
// like any others; a leaving member is struck out of every list, and a list that may have dropped a
// member (it was full at some point) and is now short is recomputed from the points of that gap,
// which points.ts's one-point-per-segment layout makes cheap to enumerate (point s of every member).
import { pointHigh, pointLow, segmentBits, segmentOf } from './points.js';
import { gapOf, shardPositionsHigh } from './positions.js';

// A gap record: [ahead count, behind count, ahead entries (key high, key low, member) x K,
// behind entries x K]. A count word holds the count in its low byte and MAY_HAVE_DROPPED once the
// list has been full (from then on a member may have been turned away).
const AHEAD = 0;
const BEHIND = 1;
const ENTRIES = 2;
const COUNT_MASK = 0xff;
const MAY_HAVE_DROPPED = 0x100;
/** The largest K (replicas + 1 plus bounded-load extras) a count byte can hold. */
export const MAX_DEPTH = 255;

// Per gap, two "limits" (high word of the K-th key, sign-flipped for signed comparison) used only by a
// full build: a point whose key's high word is beyond both limits cannot enter either list, and is
// rejected without touching the gap record. A list not yet full has limit OPEN.
const OPEN = 0x7fffffff;
const FLIP = 0x80000000 | 0;

/** The own lists of every gap, for one (shards, vnodes, depth) shape. */
export class GapLists {
  readonly stride: number;
  readonly records: Int32Array;
  readonly bits: number;

  constructor(
    readonly shards: number,
    readonly vnodes: number,
    readonly depth: number,
  ) {
    this.stride = ENTRIES + 6 * depth;
    this.records = new Int32Array(shards * this.stride);
    this.bits = segmentBits(vnodes);
  }
}

/** (ah:al, am) < (bh:bl, bm): unsigned 64-bit keys, then member index. */
function before(ah: number, al: number, am: number, bh: number, bl: number, bm: number): boolean {
  if (ah !== bh) return (ah ^ FLIP) < (bh ^ FLIP);
  if (al !== bl) return (al ^ FLIP) < (bl ^ FLIP);
  return am < bm;
}

/**
 * Offers member m's key (kh:kl) to one list (count word at `count`, entries from `first`): kept if it
 * is among the K smallest keys of distinct members. Returns the list's limit afterwards (see OPEN).
 */
function offer(d: Int32Array, count: number, first: number, k: number, kh: number, kl: number, m: number): number {
  const word = d[count]!;
  let c = word & COUNT_MASK;
  // Insertion point: after every entry that comes before the new key.
  let at = c;
  while (at > 0 && before(kh, kl, m, d[first + 3 * at - 3]!, d[first + 3 * at - 2]!, d[first + 3 * at - 1]!)) at--;
  if (at === k) return d[first + 3 * k - 3]! ^ FLIP; // after the K-th: not kept
  for (let t = 0; t < at; t++) if (d[first + 3 * t + 2] === m) return c === k ? d[first + 3 * k - 3]! ^ FLIP : OPEN; // nearer already listed
  // Shift [at, end) one place down, where end is the member's farther entry if listed, else the last.
  let end = c === k ? k - 1 : c;
  for (let t = at; t < c; t++) {
    if (d[first + 3 * t + 2] === m) {
      end = t;
      c--;
      break;
    }
  }
  for (let t = first + 3 * end; t > first + 3 * at; t -= 3) {
    d[t] = d[t - 3]!;
    d[t + 1] = d[t - 2]!;
    d[t + 2] = d[t - 1]!;
  }
  const e = first + 3 * at;
  d[e] = kh;
  d[e + 1] = kl;
  d[e + 2] = m;
  if (c < k) c++;
  d[count] = c === k ? c | MAY_HAVE_DROPPED : c | (word & MAY_HAVE_DROPPED);
  return c === k ? d[first + 3 * k - 3]! ^ FLIP : OPEN;
}

/** Offers point (ph:pl) of member m to both lists of its gap. */
function offerPoint(lists: GapLists, ph: number, pl: number, m: number): void {
  const rec = gapOf(ph, lists.shards) * lists.stride;
  const k = lists.depth;
  offer(lists.records, rec + AHEAD, rec + ENTRIES, k, ph, pl, m);
  offer(lists.records, rec + BEHIND, rec + ENTRIES + 3 * k, k, ~ph, ~pl, m);
}

let scratchLimits = new Int32Array(0);

/**
 * Fills the lists from scratch with every point of members [0, n). Segment by segment, so the offers of
 * one stretch touch only that segment's gap records (which stay in cache).
 */
export function offerAll(lists: GapLists, seeds: Int32Array, n: number): void {
  const { shards, vnodes, depth: k, stride, bits, records: d } = lists;
  // Written only where not zero already: the records of a new GapLists are zero pages the kernel has
  // not yet backed, and writing every count would make the whole array resident where no point lands.
  for (let g = 0; g < shards; g++) {
    if (d[g * stride + AHEAD] !== 0) d[g * stride + AHEAD] = 0;
    if (d[g * stride + BEHIND] !== 0) d[g * stride + BEHIND] = 0;
  }
  if (scratchLimits.length < 2 * shards) scratchLimits = new Int32Array(2 * shards);
  const limits = scratchLimits;
  limits.fill(OPEN, 0, 2 * shards);
  const behindFirst = ENTRIES + 3 * k;
  for (let s = 0; s < vnodes; s++) {
    for (let m = 0; m < n; m++) {
      const ph = pointHigh(seeds[2 * m]!, s, bits);
      const g = gapOf(ph, shards);
      const a = ph ^ FLIP;
      const b = ~ph ^ FLIP;
      const aheadLimit = limits[2 * g]!;
      const behindLimit = limits[2 * g + 1]!;
      if (a > aheadLimit && b > behindLimit) continue;
      const pl = pointLow(seeds[2 * m + 1]!, s);
      const rec = g * stride;
      if (a <= aheadLimit) limits[2 * g] = offer(d, rec + AHEAD, rec + ENTRIES, k, ph, pl, m);
      if (b <= behindLimit) limits[2 * g + 1] = offer(d, rec + BEHIND, rec + behindFirst, k, ~ph, ~pl, m);
    }
  }
}

/** Offers every point of member m (seed at seeds[2m]). */
export function offerMember(lists: GapLists, seeds: Int32Array, m: number): void {
  const sh = seeds[2 * m]!;
  const sl = seeds[2 * m + 1]!;
  for (let s = 0; s < lists.vnodes; s++) offerPoint(lists, pointHigh(sh, s, lists.bits), pointLow(sl, s), m);
}

/**
 * Renumbers the members in every list: entry member m becomes newIndex[m], or is struck out when
 * newIndex[m] < 0 (order among the rest is unchanged, so lists stay sorted). Returns the gaps whose
 * list lost an entry it may not be able to replace: those must be recomputed.
 */
export function renumber(lists: GapLists, newIndex: Int32Array): number[] {
  const { shards, depth: k, stride, records: d } = lists;
  const stale: number[] = [];
  for (let g = 0; g < shards; g++) {
    const rec = g * stride;
    let lost = false;
    for (let dir = 0; dir < 2; dir++) {
      const countAt = rec + dir;
      const first = rec + ENTRIES + 3 * k * dir;
      const word = d[countAt]!;
      const c = word & COUNT_MASK;
      let kept = 0;
      for (let t = 0; t < c; t++) {
        const m = newIndex[d[first + 3 * t + 2]!]!;
        if (m < 0) continue;
        d[first + 3 * kept] = d[first + 3 * t]!;
        d[first + 3 * kept + 1] = d[first + 3 * t + 1]!;
        d[first + 3 * kept + 2] = m;
        kept++;
      }
      d[countAt] = kept | (word & MAY_HAVE_DROPPED);
      if (kept < c && (word & MAY_HAVE_DROPPED) !== 0) lost = true;
    }
    if (lost) stale.push(g);
  }
  return stale;
}

/**
 * Rebuilds gap g's lists from the points that fall in it: point s of every member, for each segment s
 * the gap overlaps.
 */
export function recomputeGap(lists: GapLists, g: number, seeds: Int32Array, n: number): void {
  const { shards, bits, stride, records: d } = lists;
  d[g * stride + AHEAD] = 0;
  d[g * stride + BEHIND] = 0;
  const q = shardPositionsHigh(shards);
  const startHigh = q[g]!;
  const lastHigh = g + 1 < shards ? q[g + 1]! - 1 : 0xffffffff;
  if (lastHigh < startHigh) return; // an empty gap (more shards than high-word values)
  const firstSeg = segmentOf(startHigh, bits);
  const lastSeg = segmentOf(lastHigh, bits);
  for (let s = firstSeg; s <= lastSeg; s++) {
    for (let m = 0; m < n; m++) {
      const ph = pointHigh(seeds[2 * m]!, s, bits);
      if (gapOf(ph, shards) === g) offerPoint(lists, ph, pointLow(seeds[2 * m + 1]!, s), m);
    }
  }
}

let scratchWalk = new Int32Array(0);
let scratchSlot = new Int32Array(0);
let scratchAheadRef = new Int32Array(0);
let scratchBehindRef = new Int32Array(0);

/** Ints held by the walk scratch array (what the last ranking needed, or more): for the memory tests. */
export function ringWalkScratchInts(): number {
  return scratchWalk.length;
}

/** Drops the scratch arrays builds keep between calls (up to shards x stride ints: 21 MB at 2^18 shards). */
export function releaseRingScratch(): void {
  scratchLimits = new Int32Array(0);
  scratchWalk = new Int32Array(0);
  scratchSlot = new Int32Array(0);
  scratchAheadRef = new Int32Array(0);
  scratchBehindRef = new Int32Array(0);
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

/** Copies one list (count and entries) of the gap record at `fromRec` in `from` to the record at `toRec` in `to`. */
function copyList(from: Int32Array, fromRec: number, to: Int32Array, toRec: number, k: number, dir: number): void {
  const c = from[fromRec + dir]! & COUNT_MASK;
  to[toRec + dir] = c;
  const first = ENTRIES + 3 * k * dir;
  for (let t = first; t < first + 3 * c; t++) to[toRec + t] = from[fromRec + t]!;
}

/**
 * The first min(K, n) members of every shard's ranking, shard-major: result[j * w + r] is the member
 * index ranked r for shard j, w = min(K, n). The lists are left as they were.
 *
 * Walk lists are built only for gaps that hold points; an empty gap's walk is the next non-empty
 * gap's (aheadRef / behindRef name the record to read), which saves most of the work when shards
 * outnumber points. The walk lists sit packed, one record per non-empty gap (slot[j] is gap j's
 * record in the walk array, -1 for an empty gap): a cluster of tens of members has points in a
 * fraction of the gaps, and a walk array as large as the own lists would be a large part of a
 * build's memory.
 */
export function rankShards(lists: GapLists, n: number): Int32Array {
  const { shards, depth: k, stride, records } = lists;
  const width = Math.min(k, n);
  const result = new Int32Array(shards * width);
  if (width === 0) return result;
  if (scratchAheadRef.length < shards) {
    scratchSlot = new Int32Array(shards);
    scratchAheadRef = new Int32Array(shards);
    scratchBehindRef = new Int32Array(shards);
  }
  // Slots are handed out as the sweeps meet gaps holding points (no extra pass over the own lists);
  // there are at most as many such gaps as points.
  const slot = scratchSlot;
  slot.fill(-1, 0, shards);
  let slots = 0;
  const size = Math.min(shards, n * lists.vnodes) * stride;
  if (scratchWalk.length < size) scratchWalk = new Int32Array(size);
  const d = scratchWalk;
  const aheadRef = scratchAheadRef;
  const behindRef = scratchBehindRef;

  // Forwards walks. Lap one, backwards over the gaps: a non-empty gap's walk is its own list extended
  // by the walk of the next non-empty gap; wrapping round, that is the first non-empty gap's list,
  // still only its own at that point (a prefix of its walk, which is enough). Lap two redoes the
  // non-empty gaps from the end until nothing changes.
  let firstAhead = -1;
  for (let j = 0; j < shards; j++) {
    if ((records[j * stride + AHEAD]! & COUNT_MASK) > 0) {
      firstAhead = j;
      break;
    }
  }
  slot[firstAhead] = slots++ * stride;
  let next = slot[firstAhead]!;
  copyList(records, firstAhead * stride, d, next, k, AHEAD);
  for (let j = shards - 1; j >= 0; j--) {
    if ((records[j * stride + AHEAD]! & COUNT_MASK) > 0) {
      if (slot[j]! < 0) slot[j] = slots++ * stride;
      const rec = slot[j]!;
      copyList(records, j * stride, d, rec, k, AHEAD);
      if (rec !== next) extend(d, k, rec, next, AHEAD);
      next = rec;
    }
    aheadRef[j] = next;
  }
  next = slot[firstAhead]!;
  for (let j = shards - 1; j >= 0; j--) {
    const rec = aheadRef[j]!;
    if (rec !== slot[j]) continue;
    if (rec === next || !extend(d, k, rec, next, AHEAD)) break;
    next = rec;
  }

  // Backwards walks, the mirror image: forwards over the gaps, behind lists.
  let lastBehind = -1;
  for (let j = shards - 1; j >= 0; j--) {
    if ((records[j * stride + BEHIND]! & COUNT_MASK) > 0) {
      lastBehind = j;
      break;
    }
  }
  if (slot[lastBehind]! < 0) slot[lastBehind] = slots++ * stride;
  let prev = slot[lastBehind]!;
  copyList(records, lastBehind * stride, d, prev, k, BEHIND);
  for (let j = 0; j < shards; j++) {
    if ((records[j * stride + BEHIND]! & COUNT_MASK) > 0) {
      if (slot[j]! < 0) slot[j] = slots++ * stride;
      const rec = slot[j]!;
      copyList(records, j * stride, d, rec, k, BEHIND);
      if (rec !== prev) extend(d, k, rec, prev, BEHIND);
      prev = rec;
    }
    behindRef[j] = prev;
  }
  prev = slot[lastBehind]!;
  for (let j = 0; j < shards; j++) {
    const rec = behindRef[j]!;
    if (rec !== slot[j]) continue;
    if (rec === prev || !extend(d, k, rec, prev, BEHIND)) break;
    prev = rec;
  }

  // Merge per shard by distance: ahead d = point - q; behind d = q - point = q + key + 1 (key = ~point).
  const qHigh = shardPositionsHigh(shards);
  for (let j = 0; j < shards; j++) {
    const qh = qHigh[j]! | 0;
    const aRec = aheadRef[j]!;
    const ab = aRec + ENTRIES;
    const ac = d[aRec + AHEAD]! & COUNT_MASK;
    const bRec = behindRef[j === 0 ? shards - 1 : j - 1]!;
    const bb = bRec + ENTRIES + 3 * k;
    const bc = d[bRec + BEHIND]! & COUNT_MASK;
    const out = j * width;
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
      for (let u = out; u < out + filled; u++) {
        if (result[u] === m) {
          seen = true;
          break;
        }
      }
      if (!seen) result[out + filled++] = m;
    }
  }
  return result;
}
