// The answering side of the digest exchange, apart from gRPC: checks every index a peer sends against
// the tree's shape and the limits, answers from the local trees, and hands the peer's entries to the
// merge hooks. Returns a reason string for a refused request, never throws on peer input.
import type { MemberRecord } from '../core/types.js';
import type { ClaimRecord } from '../ownership/types.js';
import { MAX_FETCH_BUCKETS, MAX_GETLEAVES_PARENTS } from './limits.js';
import { localRoots } from './sync.js';
import { DIGEST_FANOUT } from './tree.js';
import type { BucketEntries, DigestSide, RootInfo, TreeName } from './types.js';

export interface MergeHooks {
  readonly mergeMembers: (records: readonly MemberRecord[]) => void;
  readonly mergeClaims: (records: readonly ClaimRecord[]) => void;
}

/** A refusal: the field at fault and why. */
export interface DigestRefusal {
  readonly field: string;
  readonly problem: string;
}

export class DigestResponder {
  constructor(
    private readonly side: DigestSide,
    private readonly hooks: MergeHooks,
  ) {}

  exchangeRoots(): RootInfo[] {
    this.side.refresh();
    return localRoots(this.side, ['members', 'claims']);
  }

  getLeaves(name: TreeName, level: number, parents: readonly number[]): Uint8Array | DigestRefusal {
    const tree = this.side.tree(name);
    if (tree === undefined) return { field: 'tree', problem: `this member keeps no ${name} tree` };
    if (!Number.isInteger(level) || level < 1 || level > tree.depth) return { field: 'level', problem: `must be 1..${tree.depth}, got ${level}` };
    if (parents.length > MAX_GETLEAVES_PARENTS) return { field: 'parents', problem: `${parents.length} parents, at most ${MAX_GETLEAVES_PARENTS}` };
    const parentCount = DIGEST_FANOUT ** (level - 1);
    const children: number[] = [];
    for (let i = 0; i < parents.length; i++) {
      const p = parents[i]!;
      if (!Number.isInteger(p) || p < 0 || p >= parentCount) return { field: `parents[${i}]`, problem: `must be 0..${parentCount - 1} at level ${level - 1}, got ${p}` };
      for (let k = 0; k < DIGEST_FANOUT; k++) children.push(p * DIGEST_FANOUT + k);
    }
    // No refresh here: the walk compares against the tree as of ExchangeRoots; a change since then
    // only makes this round repair less, and the next round picks it up.
    return tree.hashesAt(level, children);
  }

  fetch(name: TreeName, buckets: readonly number[], theirs: BucketEntries): BucketEntries | DigestRefusal {
    const tree = this.side.tree(name);
    if (tree === undefined) return { field: 'tree', problem: `this member keeps no ${name} tree` };
    if (buckets.length > MAX_FETCH_BUCKETS) return { field: 'buckets', problem: `${buckets.length} buckets, at most ${MAX_FETCH_BUCKETS}` };
    const seen = new Set<number>();
    for (let i = 0; i < buckets.length; i++) {
      const b = buckets[i]!;
      if (!Number.isInteger(b) || b < 0 || b >= tree.leaves) return { field: `buckets[${i}]`, problem: `must be 0..${tree.leaves - 1}, got ${b}` };
      if (seen.has(b)) return { field: `buckets[${i}]`, problem: `bucket ${b} repeated` };
      seen.add(b);
    }
    if (name === 'members' && theirs.claims.length > 0) return { field: 'claims', problem: 'claims sent for the members tree' };
    if (name === 'claims' && theirs.members.length > 0) return { field: 'members', problem: 'members sent for the claims tree' };
    // Ours as of before the merge: what the peer lacks, not an echo of what it just sent.
    const ours = this.side.entriesIn(name, buckets);
    if (theirs.members.length > 0) this.hooks.mergeMembers(theirs.members);
    if (theirs.claims.length > 0) this.hooks.mergeClaims(theirs.claims);
    return ours;
  }
}
