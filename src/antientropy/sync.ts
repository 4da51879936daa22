// The calling side of one digest exchange: roots first; where a root differs, walk down the tree one
// level per round trip, asking only for the children of nodes that differ; then swap the entries of
// the differing buckets (ours pushed, theirs pulled). The caller merges what comes back.
import type { MemberRecord } from '../core/types.js';
import type { ClaimRecord } from '../ownership/types.js';
import { FETCH_CHUNK_BUCKETS, MAX_GETLEAVES_PARENTS } from './limits.js';
import { DIGEST_FANOUT, hashFromBytes, sameHash, type DigestTree } from './tree.js';
import type { DigestPeer, DigestSide, RootInfo, TreeName } from './types.js';

/**
 * 'digest' walks to the differing buckets; 'full' skips the roots and the walk and swaps every bucket:
 * the full-state exchange, kept as the baseline the benchmark compares against.
 */
export type SyncMode = 'digest' | 'full';

export interface TreeSyncReport {
  readonly tree: TreeName;
  readonly rootsEqual: boolean;
  /** Buckets swapped (all of them in 'full' mode). */
  readonly buckets: number;
  /** GetLeaves + FetchEntries calls for this tree. */
  readonly calls: number;
  readonly sent: number;
  readonly received: number;
}

export interface SyncResult {
  /** The peer's member records of the differing buckets, to merge. */
  readonly members: MemberRecord[];
  /** The peer's claim records of the differing buckets, to merge. */
  readonly claims: ClaimRecord[];
  readonly trees: readonly TreeSyncReport[];
  /** True when every tree the two share had equal roots. */
  readonly inSync: boolean;
}

export class DigestSyncError extends Error {
  override readonly name = 'DigestSyncError';
}

export function localRoots(side: DigestSide, names: readonly TreeName[]): RootInfo[] {
  const out: RootInfo[] = [];
  for (const tree of names) {
    const t = side.tree(tree);
    if (t !== undefined) out.push({ tree, root: t.root(), entries: t.size, leaves: t.leaves });
  }
  return out;
}

export async function syncWith(side: DigestSide, peer: DigestPeer, mode: SyncMode): Promise<SyncResult> {
  side.refresh();
  const mine = localRoots(side, ['members', 'claims']);
  const theirs = await peer.exchangeRoots(mine);
  const members: MemberRecord[] = [];
  const claims: ClaimRecord[] = [];
  const trees: TreeSyncReport[] = [];
  let inSync = true;
  for (const ours of mine) {
    const other = theirs.find((r) => r.tree === ours.tree);
    // A peer without this tree (claims turned off there) has nothing to swap for it.
    if (other === undefined) continue;
    const tree = side.tree(ours.tree);
    if (tree === undefined) continue;
    const rootsEqual = sameHash(ours.root, other.root) && ours.leaves === other.leaves;
    if (!rootsEqual) inSync = false;
    if (rootsEqual && mode === 'digest') {
      trees.push({ tree: ours.tree, rootsEqual, buckets: 0, calls: 0, sent: 0, received: 0 });
      continue;
    }
    if (other.leaves !== ours.leaves) {
      throw new DigestSyncError(`${ours.tree} tree: peer has ${other.leaves} leaves, this member ${ours.leaves}`);
    }
    let calls = 0;
    let buckets: number[];
    if (mode === 'full') {
      buckets = Array.from({ length: tree.leaves }, (_, i) => i);
    } else {
      const walked = await differingBuckets(tree, ours.tree, peer);
      buckets = walked.buckets;
      calls += walked.calls;
    }
    let sent = 0;
    let received = 0;
    for (let i = 0; i < buckets.length; i += FETCH_CHUNK_BUCKETS) {
      const chunk = buckets.slice(i, i + FETCH_CHUNK_BUCKETS);
      const push = side.entriesIn(ours.tree, chunk);
      const got = await peer.fetch(ours.tree, chunk, push);
      calls++;
      sent += push.members.length + push.claims.length;
      received += got.members.length + got.claims.length;
      for (const m of got.members) members.push(m);
      for (const c of got.claims) claims.push(c);
    }
    trees.push({ tree: ours.tree, rootsEqual, buckets: buckets.length, calls, sent, received });
  }
  return { members, claims, trees, inSync };
}

/** Leaf indexes where the peer's tree differs from ours, found level by level from the root. */
export async function differingBuckets(tree: DigestTree, name: TreeName, peer: DigestPeer): Promise<{ buckets: number[]; calls: number }> {
  let parents = [0];
  let calls = 0;
  for (let level = 1; level <= tree.depth && parents.length > 0; level++) {
    const next: number[] = [];
    for (let i = 0; i < parents.length; i += MAX_GETLEAVES_PARENTS) {
      const chunk = parents.slice(i, i + MAX_GETLEAVES_PARENTS);
      const theirs = await peer.getLeaves(name, level, chunk);
      calls++;
      if (theirs.length !== chunk.length * DIGEST_FANOUT * 8) {
        throw new DigestSyncError(`GetLeaves ${name} level ${level}: ${theirs.length} bytes for ${chunk.length} parents`);
      }
      for (let p = 0; p < chunk.length; p++) {
        const parent = chunk[p]!;
        for (let k = 0; k < DIGEST_FANOUT; k++) {
          const child = parent * DIGEST_FANOUT + k;
          const other = hashFromBytes(theirs, (p * DIGEST_FANOUT + k) * 8);
          if (other === null || !sameHash(tree.node(level, child), other)) next.push(child);
        }
      }
    }
    parents = next;
  }
  return { buckets: parents, calls };
}
