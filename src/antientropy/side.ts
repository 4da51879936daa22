// One member's side of the digest exchange: the member tree (rebuilt from the core's full state when
// asked, records compared by identity) and, when a claim store is wired in, the claims tree.
import type { MemberRecord } from '../core/types.js';
import type { ClaimStoreView } from '../ownership/types.js';
import { ClaimDigest } from './claim-entries.js';
import { CLAIM_TREE_LEAVES, MEMBER_TREE_LEAVES } from './limits.js';
import { MemberDigest } from './member-entries.js';
import { DigestTree } from './tree.js';
import { NO_ENTRIES, type BucketEntries, type DigestSide, type TreeName } from './types.js';

export interface LocalDigestOptions {
  /** The member records to cover: the core's full state, tombstones included. */
  readonly memberState: () => readonly MemberRecord[];
  readonly claims?: ClaimStoreView | undefined;
  readonly memberLeaves?: number;
  readonly claimLeaves?: number;
}

export class LocalDigest implements DigestSide {
  private readonly members: MemberDigest;
  private claims: ClaimDigest | undefined;

  constructor(private readonly opts: LocalDigestOptions) {
    this.members = new MemberDigest(new DigestTree(opts.memberLeaves ?? MEMBER_TREE_LEAVES));
    if (opts.claims) this.attachClaims(opts.claims);
  }

  /** Starts covering a claim store (the agent creates it after this object). */
  attachClaims(store: ClaimStoreView): void {
    this.claims?.close();
    this.claims = new ClaimDigest(new DigestTree(this.opts.claimLeaves ?? CLAIM_TREE_LEAVES), store);
  }

  refresh(): void {
    this.members.sync(this.opts.memberState());
  }

  tree(name: TreeName): DigestTree | undefined {
    return name === 'members' ? this.members.tree : this.claims?.tree;
  }

  entriesIn(name: TreeName, buckets: readonly number[]): BucketEntries {
    if (name === 'members') return { members: this.members.recordsIn(buckets), claims: [] };
    return this.claims ? { members: [], claims: this.claims.recordsIn(buckets) } : NO_ENTRIES;
  }

  close(): void {
    this.claims?.close();
  }
}
