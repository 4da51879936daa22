// Consistent hashing with bounded loads (Mirrokni, Thorup, Zadimoghaddam, 2018), as an option: no member
// owns more than ceil(c x S / n) shards. Shards are assigned in index order; each goes to the first
// member of its ranking (the ring's nearest-point order) that is still below that cap. Replicas are
// the first R members of the ranking other than the owner, uncapped. Deterministic, and a function of
// the member set only, but a join or leave can now move shards between members that stay.
import { memberIndexArray, type MemberIndexArray } from './member-index.js';
import { pointHigh, pointLow, segmentBits } from './points.js';
import { shardPositionsHigh } from './positions.js';

export interface BoundedInput {
  readonly seeds: Int32Array;
  readonly members: number;
  readonly shards: number;
  readonly vnodes: number;
  readonly replicas: number;
  /** rankShards' output: the first `width` members of each shard's ranking. */
  readonly ranked: Int32Array;
  readonly width: number;
  readonly factor: number;
}

/** The cap on shards per member for load factor c. */
export function boundedCap(factor: number, shards: number, members: number): number {
  return Math.ceil((factor * shards) / members);
}

/** Owners (one per shard) and replicas (replicaCount per shard) under the load cap. */
export function assignBounded(input: BoundedInput): { owners: MemberIndexArray; replicas: MemberIndexArray; replicaCount: number } {
  const { members, shards, replicas, ranked, width } = input;
  const replicaCount = Math.min(replicas, members - 1);
  const owners = memberIndexArray(members, shards);
  const replicaOut = memberIndexArray(members, shards * replicaCount);
  const cap = boundedCap(input.factor, shards, members);
  const loads = new Int32Array(members);
  let fallback: Fallback | null = null;
  for (let j = 0; j < shards; j++) {
    const base = j * width;
    let owner = -1;
    for (let r = 0; r < width; r++) {
      const m = ranked[base + r]!;
      if (loads[m]! < cap) {
        owner = m;
        break;
      }
    }
    if (owner < 0) {
      // Every listed candidate is full: walk the whole ranking (rare unless c is close to 1).
      fallback ??= new Fallback(input);
      owner = fallback.nearestBelowCap(j, loads, cap);
    }
    owners[j] = owner;
    loads[owner]!++;
    let n = 0;
    for (let r = 0; r < width && n < replicaCount; r++) {
      const m = ranked[base + r]!;
      if (m !== owner) replicaOut[j * replicaCount + n++] = m;
    }
  }
  return { owners, replicas: replicaOut, replicaCount };
}

/** The exact ranking of one shard by brute force over every point, for the rare full-candidates case. */
class Fallback {
  private readonly points: Int32Array;
  private readonly qHigh: Uint32Array;

  constructor(private readonly input: BoundedInput) {
    const { seeds, members, vnodes } = input;
    const bits = segmentBits(vnodes);
    this.points = new Int32Array(members * vnodes * 2);
    for (let m = 0; m < members; m++) {
      for (let i = 0; i < vnodes; i++) {
        this.points[(m * vnodes + i) * 2] = pointHigh(seeds[2 * m]!, i, bits);
        this.points[(m * vnodes + i) * 2 + 1] = pointLow(seeds[2 * m + 1]!, i);
      }
    }
    this.qHigh = shardPositionsHigh(input.shards);
  }

  /** The member below the cap whose nearest point is nearest shard j (ties: lower member index). */
  nearestBelowCap(shard: number, loads: Int32Array, cap: number): number {
    const { members, vnodes } = this.input;
    const qh = this.qHigh[shard]! | 0;
    let bestM = -1;
    let bestH = 0;
    let bestL = 0;
    for (let m = 0; m < members; m++) {
      if (loads[m]! >= cap) continue;
      let mh = -1;
      let ml = -1;
      const base = m * vnodes * 2;
      for (let i = 0; i < vnodes; i++) {
        const ph = this.points[base + 2 * i]!;
        const pl = this.points[base + 2 * i + 1]!;
        // forwards: p - q; backwards: q - p = q + ~p + 1 (q's low word is 0)
        let dh = (ph - qh) | 0;
        let dl = pl;
        const bl = (~pl + 1) | 0;
        const bh = (((qh + ~ph) | 0) + (pl === 0 ? 1 : 0)) | 0;
        if (lessU64(bh, bl, dh, dl)) {
          dh = bh;
          dl = bl;
        }
        if (lessU64(dh, dl, mh, ml)) {
          mh = dh;
          ml = dl;
        }
      }
      if (bestM < 0 || lessU64(mh, ml, bestH, bestL)) {
        bestM = m;
        bestH = mh;
        bestL = ml;
      }
    }
    return bestM;
  }
}

function lessU64(ah: number, al: number, bh: number, bl: number): boolean {
  if (ah !== bh) return (ah ^ 0x80000000) < (bh ^ 0x80000000);
  return (al ^ 0x80000000) < (bl ^ 0x80000000);
}
