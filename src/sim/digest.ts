// The periodic anti-entropy exchange as the agent runs it by default (src/antientropy): roots, then the
// tree walk down to the differing buckets, then the entries of those buckets swapped. The simulator
// settles one round at once, on arrival at the peer (it has no awaits), and counts the bytes the
// agent's metric counts: each request and reply as serialized by the control-plane service, gRPC
// framing excluded. `DigestRounds` is what the simulator runs; `digestRound` runs the same round on the
// agent's own trees and responder, and tests hold the two equal.
import { claimsToProto, rootsToProto, treeToProto } from '../antientropy/wire.js';
import { CLAIM_TREE_LEAVES, FETCH_CHUNK_BUCKETS, MAX_GETLEAVES_PARENTS, MEMBER_TREE_LEAVES } from '../antientropy/limits.js';
import { DigestResponder } from '../antientropy/responder.js';
import { LocalDigest } from '../antientropy/side.js';
import { memberBytes } from '../antientropy/member-entries.js';
import { localRoots } from '../antientropy/sync.js';
import { DIGEST_FANOUT, DigestTree, hashFromBytes, sameHash } from '../antientropy/tree.js';
import type { RootInfo } from '../antientropy/types.js';
import { grownInt32, grownLength, SharedMemberIndex } from '../core/member-index.js';
import type { MemberRecord } from '../core/types.js';
import { membersToProto } from '../grpc/convert.js';
import { controlPlaneDefinition } from '../grpc/proto.js';
import { headerVersionFields, type HeaderVersionFields } from '../codec/protocol-version.js';
import { SPOKEN_RANGE } from '../codec/spoken.js';
import { CLAIM_ENCODING_VERSION } from '../ownership/canonical.js';

/** 'negotiate': the full member list both ways (the agent's --anti-entropy negotiate). */
export type SimAntiEntropy = 'digest' | 'negotiate';

export interface DigestRoundResult {
  /** The peer's records of the differing buckets: what the caller merges. */
  readonly reply: MemberRecord[];
  /** Request and reply bytes, as the caller's swimring_antientropy_bytes_total counts them. */
  readonly bytes: number;
  /** ExchangeRoots + GetLeaves + FetchEntries calls: each a round trip. */
  readonly calls: number;
}

/**
 * The agent keeps a claims tree beside the members tree; the simulator has no claims, so its tree is
 * always empty and equal on both sides: it adds its root to every ExchangeRoots and nothing else.
 */
let emptyClaimsRoot: RootInfo | undefined;
function claimsRoot(): RootInfo {
  emptyClaimsRoot ??= { tree: 'claims', root: new DigestTree(CLAIM_TREE_LEAVES).root(), entries: 0, leaves: CLAIM_TREE_LEAVES };
  return emptyClaimsRoot;
}

/** One member's trees and the answering side, over its core's full state. */
export class SimDigest {
  readonly side: LocalDigest;
  readonly responder: DigestResponder;

  constructor(fullState: () => readonly MemberRecord[], merge: (records: readonly MemberRecord[]) => void) {
    this.side = new LocalDigest({ memberState: fullState });
    this.responder = new DigestResponder(this.side, { mergeMembers: merge, mergeClaims: () => undefined });
  }
}

/** A record's canonical entry bytes (what its tree leaf hashes), once per record: records are immutable. */
const canonical = new WeakMap<MemberRecord, string>();
function canonicalOf(r: MemberRecord): string {
  let key = canonical.get(r);
  if (key === undefined) {
    key = Buffer.from(memberBytes(r)).toString('latin1');
    canonical.set(r, key);
  }
  return key;
}

/** Whether two full states hold the same entries: then their trees, and so their roots, are equal. */
export function sameEntries(a: readonly MemberRecord[], b: readonly MemberRecord[]): boolean {
  if (a.length !== b.length) return false;
  const byName = new Map<string, MemberRecord>();
  for (const r of b) byName.set(r.name, r);
  for (const r of a) {
    const other = byName.get(r.name);
    if (other === undefined || (other !== r && canonicalOf(other) !== canonicalOf(r))) return false;
  }
  return true;
}

/**
 * The periodic rounds of one simulation, worked out without building trees. Two sides' trees differ
 * exactly in the buckets holding a name whose entry differs (or that one side lacks), so the round is
 * found from a name-by-name comparison of the two full states: the walk visits the ancestors of those
 * buckets, and the fetch swaps their entries in the order the trees would list them (bucket by bucket,
 * each in the order its names first appeared in the state). Bytes are the serialized sizes, each
 * record's share counted once (records are immutable and shared). `digestRound` over real trees is the
 * reference a test holds this to; building trees per round costs two trees of N entries each time,
 * which at 10,000 members is most of the run.
 */
export class DigestRounds {
  private readonly tree = new DigestTree(MEMBER_TREE_LEAVES);
  /** Per member number: its name's bucket, or -1 before it is first needed. */
  private bucketById = new Int32Array(0);
  /** Scratch, per member number: each side's record in the round under way (cleared after it). */
  private readonly mineById: (MemberRecord | undefined)[] = [];
  private readonly theirsById: (MemberRecord | undefined)[] = [];

  /**
   * @param index member numbers for the names the states hold (the simulation's shared index, where every
   * name a core holds already has one, never handed to another name): the two states are compared slot
   * by slot instead of through two maps built per round.
   */
  constructor(private readonly index: SharedMemberIndex = new SharedMemberIndex()) {}

  /** One round of the caller (named `sender`) with a peer; the peer merges what the caller pushes. */
  round(
    callerState: readonly MemberRecord[],
    sender: string,
    peerState: readonly MemberRecord[],
    mergeIntoPeer: (records: readonly MemberRecord[]) => void,
  ): DigestRoundResult {
    const mine = this.collect(callerState, this.mineById);
    const theirs = this.collect(peerState, this.theirsById);
    try {
      return this.settle(mine, theirs, sender, mergeIntoPeer);
    } finally {
      for (const id of mine) this.mineById[id] = undefined;
      for (const id of theirs) this.theirsById[id] = undefined;
    }
  }

  private settle(mine: readonly number[], theirs: readonly number[], sender: string, mergeIntoPeer: (records: readonly MemberRecord[]) => void): DigestRoundResult {
    const { mineById, theirsById } = this;
    const differing = new Uint8Array(this.tree.leaves);
    let differs = false;
    for (const id of mine) {
      const r = mineById[id] as MemberRecord;
      const other = theirsById[id];
      if (other !== undefined && (other === r || canonicalOf(other) === canonicalOf(r))) continue;
      differing[this.bucketOf(id, r.name)] = 1;
      differs = true;
    }
    if (theirs.length > mine.length || differs) {
      for (const id of theirs) {
        if (mineById[id] !== undefined) continue;
        differing[this.bucketOf(id, (theirsById[id] as MemberRecord).name)] = 1;
        differs = true;
      }
    }
    const def = controlPlaneDefinition();
    const header = requestHeader(sender);
    const roots = (entries: number): ReturnType<typeof rootsToProto> =>
      rootsToProto([{ tree: 'members', root: { hi: 0, lo: 0 }, entries, leaves: this.tree.leaves }, claimsRoot()]);
    // A root's 8 bytes have the same size whatever they hold.
    let bytes =
      def.ExchangeRoots.requestSerialize({ header, roots: roots(mine.length) }).length + def.ExchangeRoots.responseSerialize({ roots: roots(theirs.length) }).length;
    let calls = 1;
    if (!differs) return { reply: [], bytes, calls };

    const leaves: number[] = [];
    for (let b = 0; b < differing.length; b++) if (differing[b] === 1) leaves.push(b);
    // The walk: at each level the parents are the differing nodes above it, asked for in chunks.
    for (let level = 1; level <= this.tree.depth; level++) {
      const shift = 4 * (this.tree.depth - level + 1);
      const parents = [...new Set(leaves.map((b) => b >> shift))];
      for (let i = 0; i < parents.length; i += MAX_GETLEAVES_PARENTS) {
        const chunk = parents.slice(i, i + MAX_GETLEAVES_PARENTS);
        bytes += def.GetLeaves.requestSerialize({ header, tree: treeToProto('members'), level, parents: chunk }).length;
        bytes += def.GetLeaves.responseSerialize({ hashes: Buffer.alloc(chunk.length * DIGEST_FANOUT * 8) }).length;
        calls++;
      }
    }
    const pushes = this.byBucket(mine, mineById, differing);
    const gets = this.byBucket(theirs, theirsById, differing);
    const reply: MemberRecord[] = [];
    for (let i = 0; i < leaves.length; i += FETCH_CHUNK_BUCKETS) {
      const buckets = leaves.slice(i, i + FETCH_CHUNK_BUCKETS);
      const push = buckets.flatMap((b) => pushes.get(b) ?? []);
      const got = buckets.flatMap((b) => gets.get(b) ?? []);
      if (push.length > 0) mergeIntoPeer(push);
      const members = { header, tree: treeToProto('members'), buckets, members: [], claims: [] };
      bytes += def.FetchEntries.requestSerialize(members).length + recordsWireBytes(push);
      bytes += def.FetchEntries.responseSerialize({ members: [], claims: [] }).length + recordsWireBytes(got);
      calls++;
      for (const r of got) reply.push(r);
    }
    return { reply, bytes, calls };
  }

  /**
   * A full state by member number, as a tree holds it: a name's last record, at the place the name first
   * came. Returns the numbers in that order; `slots` holds the records (the caller clears them).
   */
  private collect(state: readonly MemberRecord[], slots: (MemberRecord | undefined)[]): number[] {
    const ids: number[] = [];
    for (const r of state) {
      const id = this.index.acquire(r.name);
      while (slots.length <= id) slots.push(undefined);
      if (slots[id] === undefined) ids.push(id);
      slots[id] = r;
    }
    return ids;
  }

  /** A side's records in the differing buckets as its tree lists them: per bucket, in state order. */
  private byBucket(ids: readonly number[], slots: readonly (MemberRecord | undefined)[], differing: Uint8Array): Map<number, MemberRecord[]> {
    const out = new Map<number, MemberRecord[]>();
    for (const id of ids) {
      const r = slots[id] as MemberRecord;
      const b = this.bucketOf(id, r.name);
      if (differing[b] !== 1) continue;
      const list = out.get(b);
      if (list === undefined) out.set(b, [r]);
      else list.push(r);
    }
    return out;
  }

  private bucketOf(id: number, name: string): number {
    if (id >= this.bucketById.length) this.bucketById = grownInt32(this.bucketById, grownLength(this.bucketById.length, id, this.index.span), -1);
    let bucket = this.bucketById[id] as number;
    if (bucket < 0) {
      bucket = this.tree.bucketOf(name);
      this.bucketById[id] = bucket;
    }
    return bucket;
  }
}

/** What one record adds to a FetchEntries message (tag, length, body), once per record. */
const wireShare = new WeakMap<MemberRecord, number>();
function recordsWireBytes(records: readonly MemberRecord[]): number {
  const def = controlPlaneDefinition();
  let total = 0;
  for (const r of records) {
    let share = wireShare.get(r);
    if (share === undefined) {
      const none = def.FetchEntries.responseSerialize({ members: [], claims: [] }).length;
      share = def.FetchEntries.responseSerialize({ members: membersToProto([r]), claims: [] }).length - none;
      wireShare.set(r, share);
    }
    total += share;
  }
  return total;
}

/** The header a member sends (its version range and claim record version included), so the bytes are the agent's. */
function requestHeader(sender: string): HeaderVersionFields & { label: string; sender: string; claimRecordVersion: number } {
  return { ...headerVersionFields(SPOKEN_RANGE), label: '', sender, claimRecordVersion: CLAIM_ENCODING_VERSION };
}

/** One digest round of `caller` (named `sender`) with `peer`; the peer merges what the caller pushes. */
export function digestRound(caller: SimDigest, sender: string, peer: SimDigest): DigestRoundResult {
  const def = controlPlaneDefinition();
  const header = requestHeader(sender);
  let bytes = 0;
  let calls = 0;
  caller.side.refresh();
  const mine = [...localRoots(caller.side, ['members']), claimsRoot()];
  const theirs = [...peer.responder.exchangeRoots(), claimsRoot()];
  bytes += def.ExchangeRoots.requestSerialize({ header, roots: rootsToProto(mine) }).length;
  bytes += def.ExchangeRoots.responseSerialize({ roots: rootsToProto(theirs) }).length;
  calls++;
  const ours = mine[0]!;
  const other = theirs[0]!;
  const tree = caller.side.tree('members');
  if (tree === undefined || (sameHash(ours.root, other.root) && ours.leaves === other.leaves)) return { reply: [], bytes, calls };

  // The walk: one GetLeaves per level (in chunks of parents), keeping the children that differ.
  let parents = [0];
  for (let level = 1; level <= tree.depth && parents.length > 0; level++) {
    const next: number[] = [];
    for (let i = 0; i < parents.length; i += MAX_GETLEAVES_PARENTS) {
      const chunk = parents.slice(i, i + MAX_GETLEAVES_PARENTS);
      const hashes = peer.responder.getLeaves('members', level, chunk);
      if (!(hashes instanceof Uint8Array)) throw new Error(`simulated GetLeaves refused: ${hashes.field} ${hashes.problem}`);
      bytes += def.GetLeaves.requestSerialize({ header, tree: treeToProto('members'), level, parents: chunk }).length;
      bytes += def.GetLeaves.responseSerialize({ hashes: Buffer.from(hashes) }).length;
      calls++;
      for (let p = 0; p < chunk.length; p++) {
        for (let k = 0; k < DIGEST_FANOUT; k++) {
          const child = chunk[p]! * DIGEST_FANOUT + k;
          const theirHash = hashFromBytes(hashes, (p * DIGEST_FANOUT + k) * 8);
          if (theirHash === null || !sameHash(tree.node(level, child), theirHash)) next.push(child);
        }
      }
    }
    parents = next;
  }

  const reply: MemberRecord[] = [];
  for (let i = 0; i < parents.length; i += FETCH_CHUNK_BUCKETS) {
    const buckets = parents.slice(i, i + FETCH_CHUNK_BUCKETS);
    const push = caller.side.entriesIn('members', buckets);
    const got = peer.responder.fetch('members', buckets, push);
    if ('field' in got) throw new Error(`simulated FetchEntries refused: ${got.field} ${got.problem}`);
    bytes += def.FetchEntries.requestSerialize({
      header,
      tree: treeToProto('members'),
      buckets,
      members: membersToProto(push.members),
      claims: claimsToProto(push.claims),
    }).length;
    bytes += def.FetchEntries.responseSerialize({ members: membersToProto(got.members), claims: claimsToProto(got.claims) }).length;
    calls++;
    for (const m of got.members) reply.push(m);
  }
  return { reply, bytes, calls };
}
