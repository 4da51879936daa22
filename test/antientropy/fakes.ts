// In-process pieces for digest tests: a claim store with the contract's merge rule (greater record of a
// slot wins), a member list, and a DigestPeer that calls a responder directly.
import type { MemberRecord } from '../../src/core/types.js';
import { memberRecord } from '../support/member-record.js';
import { DigestResponder } from '../../src/antientropy/responder.js';
import { LocalDigest } from '../../src/antientropy/side.js';
import type { BucketEntries, DigestPeer, RootInfo, TreeName } from '../../src/antientropy/types.js';
import {
  claimSlotKey,
  compareSameSlot,
  type ClaimChange,
  type ClaimRecord,
  type ClaimStoreView,
  type MergeOutcome,
} from '../../src/ownership/types.js';

export class FakeClaimStore implements ClaimStoreView {
  readonly slots = new Map<string, ClaimRecord>();
  private readonly listeners = new Set<(c: ClaimChange) => void>();

  size(): number {
    return this.slots.size;
  }
  claimCount(): number {
    return new Set([...this.slots.values()].filter((r) => !r.released).map((r) => r.id)).size;
  }
  entries(): Iterable<ClaimRecord> {
    return this.slots.values();
  }
  get(id: string): ClaimRecord | undefined {
    return this.recordsFor(id).find((r) => !r.released);
  }
  recordsFor(id: string): readonly ClaimRecord[] {
    return [...this.slots.values()].filter((r) => r.id === id);
  }
  merge(records: readonly ClaimRecord[]): MergeOutcome {
    let applied = 0;
    let unchanged = 0;
    for (const r of records) {
      const key = claimSlotKey(r.id, r.owner);
      const previous = this.slots.get(key);
      if (previous !== undefined && compareSameSlot(r, previous) <= 0) {
        unchanged++;
        continue;
      }
      this.slots.set(key, r);
      applied++;
      for (const l of this.listeners) l({ kind: 'set', record: r, previous });
    }
    return { applied, unchanged, rejected: [], conflicts: [] };
  }
  remove(record: ClaimRecord): void {
    if (this.slots.delete(claimSlotKey(record.id, record.owner))) for (const l of this.listeners) l({ kind: 'delete', record });
  }
  onChange(listener: (change: ClaimChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/** A member list merged by "higher incarnation wins" (enough for digest tests; the core does the real merge). */
export class FakeMembers {
  readonly byName = new Map<string, MemberRecord>();
  state(): MemberRecord[] {
    return [...this.byName.values()];
  }
  merge(records: readonly MemberRecord[]): void {
    for (const r of records) {
      const cur = this.byName.get(r.name);
      if (cur === undefined || r.incarnation > cur.incarnation) this.byName.set(r.name, r);
    }
  }
}

export interface FakeMember {
  readonly members: FakeMembers;
  readonly claims: FakeClaimStore;
  readonly digest: LocalDigest;
  readonly responder: DigestResponder;
}

export function fakeMember(opts: { memberLeaves?: number; claimLeaves?: number } = {}): FakeMember {
  const members = new FakeMembers();
  const claims = new FakeClaimStore();
  const digest = new LocalDigest({ memberState: () => members.state(), claims, ...opts });
  const responder = new DigestResponder(digest, { mergeMembers: (r) => members.merge(r), mergeClaims: (r) => claims.merge(r) });
  return { members, claims, digest, responder };
}

/** Calls the responder directly; counts calls. */
export class DirectPeer implements DigestPeer {
  calls = 0;
  constructor(private readonly responder: DigestResponder) {}
  async exchangeRoots(_mine: readonly RootInfo[]): Promise<readonly RootInfo[]> {
    this.calls++;
    return this.responder.exchangeRoots();
  }
  async getLeaves(tree: TreeName, level: number, parents: readonly number[]): Promise<Uint8Array> {
    this.calls++;
    const r = this.responder.getLeaves(tree, level, parents);
    if (!(r instanceof Uint8Array)) throw new Error(`${r.field}: ${r.problem}`);
    return r;
  }
  async fetch(tree: TreeName, buckets: readonly number[], ours: BucketEntries): Promise<BucketEntries> {
    this.calls++;
    const r = this.responder.fetch(tree, buckets, ours);
    if ('field' in r) throw new Error(`${r.field}: ${r.problem}`);
    return r;
  }
}

export function claim(id: string, owner: string, claimedAtMs: number, released = false): ClaimRecord {
  return { id, owner, ownerLifeId: `${owner}-life`, ownerIncarnation: 1, claimedAtMs, claimedAtLogical: 0, expiresAtMs: null, ttlMs: null, fence: BigInt(claimedAtMs) << 16n, released };
}

export function member(name: string, incarnation: number): MemberRecord {
  return memberRecord(name, { incarnation });
}
