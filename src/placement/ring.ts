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
import { gapOf, shardPositionHigh } from './positions.js';
import { type Steps } from './steps.js';

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
export { AHEAD, BEHIND, COUNT_MASK, ENTRIES };

// Per gap, two "limits" (high word of the K-th key, sign-flipped for signed comparison) used only by a
// full build: a point whose key's high word is beyond both limits cannot enter either list, and is
// rejected without touching the gap record. A list not yet full has limit OPEN.
const OPEN = 0x7fffffff;
const FLIP = 0x80000000 | 0;

/**
 * The own lists of every gap holding points, for one (shards, vnodes, depth) shape. Only those gaps get
 * a record: a cluster of tens of members has points in a few percent of the default shard count's
 * gaps, and a record per shard would be most of a build's memory. Records are handed out in the
 * order gaps first receive a point; a gap that loses all its points keeps its (empty) record.
 */
export class GapLists {
  readonly stride: number;
  readonly bits: number;
  /** Gap -> its record number (offset / stride), -1 while no point has landed in the gap. */
  readonly slotOf: Int32Array;
  /** The records, `used` of them, then zeros. */
  records: Int32Array;
  used = 0;

  constructor(
    readonly shards: number,
    readonly vnodes: number,
    readonly depth: number,
  ) {
    this.stride = ENTRIES + 6 * depth;
    this.records = new Int32Array(0);
    this.slotOf = new Int32Array(shards).fill(-1);
    this.bits = segmentBits(vnodes);
  }

  /** Forgets every record, keeping room for `capacity` (and reusing the array when it is about that size). */
  reset(capacity: number): void {
    const ints = capacity * this.stride;
    if (this.records.length < ints || this.records.length > 2 * ints) this.records = new Int32Array(ints);
    else this.records.fill(0, 0, this.used * this.stride);
    if (this.used > 0) this.slotOf.fill(-1);
    this.used = 0;
  }

  /** Gap g's record number, giving the gap an empty record if it has none. */
  slotFor(g: number): number {
    const slot = this.slotOf[g]!;
    if (slot >= 0) return slot;
    if ((this.used + 1) * this.stride > this.records.length) {
      const grown = new Int32Array(Math.max(2 * this.records.length, 16 * this.stride));
      grown.set(this.records.subarray(0, this.used * this.stride));
      this.records = grown;
    }
    this.slotOf[g] = this.used;
    return this.used++;
  }
}

/** Whether gap g holds points (its record's list in direction dir is not empty). */
export function holdsPoints(lists: GapLists, g: number, dir: number): boolean {
  const slot = lists.slotOf[g]!;
  return slot >= 0 && (lists.records[slot * lists.stride + dir]! & COUNT_MASK) > 0;
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
  const rec = lists.slotFor(gapOf(ph, lists.shards)) * lists.stride;
  const k = lists.depth;
  offer(lists.records, rec + AHEAD, rec + ENTRIES, k, ph, pl, m);
  offer(lists.records, rec + BEHIND, rec + ENTRIES + 3 * k, k, ~ph, ~pl, m);
}

/** Points offered between two yields of offerAllSteps: a few milliseconds of work. */
const POINTS_PER_STEP = 1 << 15;

/**
 * Fills the lists from scratch with every point of members [0, n), yielding now and then so a caller
 * can let other work run. Segment by segment, so the offers of one stretch touch only that segment's
 * gap records (which stay in cache).
 */
export function* offerAllSteps(lists: GapLists, seeds: Int32Array, n: number): Steps<void> {
  const { shards, vnodes } = lists;
  // At most one gap per point holds points: no record is ever added beyond this.
  const capacity = Math.min(shards, n * vnodes);
  lists.reset(capacity);
  // Per record, the limits of its two lists (a record not yet handed out has OPEN lists).
  const limits = new Int32Array(2 * capacity).fill(OPEN);
  const segmentsPerStep = Math.max(1, Math.floor(POINTS_PER_STEP / Math.max(1, n)));
  for (let s = 0; s < vnodes; s += segmentsPerStep) {
    offerSegments(lists, seeds, n, limits, s, Math.min(vnodes, s + segmentsPerStep));
    if (s + segmentsPerStep < vnodes) yield;
  }
}

/** Offers point s of members [0, n) for segments s in [from, to). */
function offerSegments(lists: GapLists, seeds: Int32Array, n: number, limits: Int32Array, from: number, to: number): void {
  const { shards, depth: k, stride, bits, slotOf } = lists;
  const d = lists.records; // offerAllSteps made room for every record: it is not replaced
  const behindFirst = ENTRIES + 3 * k;
  for (let s = from; s < to; s++) {
    for (let m = 0; m < n; m++) {
      const ph = pointHigh(seeds[2 * m]!, s, bits);
      const g = gapOf(ph, shards);
      const a = ph ^ FLIP;
      const b = ~ph ^ FLIP;
      let slot = slotOf[g]!;
      if (slot >= 0 && a > limits[2 * slot]! && b > limits[2 * slot + 1]!) continue;
      if (slot < 0) slot = lists.slotFor(g);
      const pl = pointLow(seeds[2 * m + 1]!, s);
      const rec = slot * stride;
      if (a <= limits[2 * slot]!) limits[2 * slot] = offer(d, rec + AHEAD, rec + ENTRIES, k, ph, pl, m);
      if (b <= limits[2 * slot + 1]!) limits[2 * slot + 1] = offer(d, rec + BEHIND, rec + behindFirst, k, ~ph, ~pl, m);
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
  const { shards, depth: k, stride, records: d, slotOf } = lists;
  const stale: number[] = [];
  for (let g = 0; g < shards; g++) {
    const slot = slotOf[g]!;
    if (slot < 0) continue;
    const rec = slot * stride;
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
  const { shards, bits, stride } = lists;
  const rec = lists.slotFor(g) * stride;
  lists.records[rec + AHEAD] = 0;
  lists.records[rec + BEHIND] = 0;
  const startHigh = shardPositionHigh(g, shards);
  const lastHigh = g + 1 < shards ? shardPositionHigh(g + 1, shards) - 1 : 0xffffffff;
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
