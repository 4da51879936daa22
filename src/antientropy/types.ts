// The digest exchange's vocabulary, apart from gRPC: what each side offers and what a sync returns.
import type { MemberRecord } from '../core/types.js';
import type { ClaimRecord } from '../ownership/types.js';
import type { DigestTree, Hash64 } from './tree.js';

export type TreeName = 'members' | 'claims';
export const TREE_NAMES: readonly TreeName[] = ['members', 'claims'];

export interface RootInfo {
  readonly tree: TreeName;
  readonly root: Hash64;
  readonly entries: number;
  readonly leaves: number;
}

/** Entries of some buckets of one tree: member records or claim records. */
export interface BucketEntries {
  readonly members: readonly MemberRecord[];
  readonly claims: readonly ClaimRecord[];
}

export const NO_ENTRIES: BucketEntries = Object.freeze({ members: [], claims: [] });

/** One member's side of the exchange: its trees, their entries, and how to merge a peer's. */
export interface DigestSide {
  /** Brings the trees up to date with the state they cover (cheap when nothing changed). */
  refresh(): void;
  tree(name: TreeName): DigestTree | undefined;
  entriesIn(name: TreeName, buckets: readonly number[]): BucketEntries;
}

/** A remote member, as the walk sees it (gRPC in the runtime, a direct call in tests). */
export interface DigestPeer {
  exchangeRoots(mine: readonly RootInfo[]): Promise<readonly RootInfo[]>;
  /** The children hashes (8 bytes each) of `parents` (at level - 1), in order. */
  getLeaves(tree: TreeName, level: number, parents: readonly number[]): Promise<Uint8Array>;
  /** Sends ours for `buckets`, receives theirs (as of before they merged ours). */
  fetch(tree: TreeName, buckets: readonly number[], ours: BucketEntries): Promise<BucketEntries>;
}
