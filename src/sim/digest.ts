// The periodic anti-entropy exchange as the agent runs it by default (src/antientropy): roots, then the
// tree walk down to the differing buckets, then the entries of those buckets swapped. The simulator
// settles one round at once, on arrival at the peer (it has no awaits), with the real trees and the
// real responder, and counts the bytes the agent's metric counts: each request and reply as serialized
// by the control-plane service, gRPC framing excluded.
import { claimsToProto, rootsToProto, treeToProto } from '../antientropy/wire.js';
import { CLAIM_TREE_LEAVES, FETCH_CHUNK_BUCKETS, MAX_GETLEAVES_PARENTS, MEMBER_TREE_LEAVES } from '../antientropy/limits.js';
import { DigestResponder } from '../antientropy/responder.js';
import { LocalDigest } from '../antientropy/side.js';
import { memberBytes } from '../antientropy/member-entries.js';
import { localRoots } from '../antientropy/sync.js';
import { DIGEST_FANOUT, DigestTree, hashFromBytes, sameHash } from '../antientropy/tree.js';
import type { RootInfo } from '../antientropy/types.js';
import type { MemberRecord } from '../core/types.js';
import { membersToProto } from '../grpc/convert.js';
import { controlPlaneDefinition } from '../grpc/proto.js';
import { headerVersionFields, type HeaderVersionFields } from '../codec/protocol-version.js';
import { SPOKEN_RANGE } from '../codec/spoken.js';

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

/** Equal roots: the round is one ExchangeRoots (the root's 8 bytes have the same size whatever they hold). */
function inSyncRound(entries: number, sender: string): DigestRoundResult {
  const def = controlPlaneDefinition();
  const roots = rootsToProto([{ tree: 'members', root: { hi: 0, lo: 0 }, entries, leaves: MEMBER_TREE_LEAVES }, claimsRoot()]);
  const bytes =
    def.ExchangeRoots.requestSerialize({ header: requestHeader(sender), roots }).length + def.ExchangeRoots.responseSerialize({ roots }).length;
  return { reply: [], bytes, calls: 1 };
}

/**
 * One periodic round between two simulated members, over their full states. Trees are built for the
 * round only when the states differ: kept between rounds they would cost every node an entry per member
 * (N^2 in all), more than the cores themselves hold.
 */
export function simulatedRound(
  callerState: readonly MemberRecord[],
  sender: string,
  peerState: readonly MemberRecord[],
  mergeIntoPeer: (records: readonly MemberRecord[]) => void,
): DigestRoundResult {
  if (sameEntries(callerState, peerState)) return inSyncRound(callerState.length, sender);
  return digestRound(new SimDigest(() => callerState, () => undefined), sender, new SimDigest(() => peerState, mergeIntoPeer));
}

/** The header a member sends (its version range included), so the bytes are the agent's. */
function requestHeader(sender: string): HeaderVersionFields & { label: string; sender: string } {
  return { ...headerVersionFields(SPOKEN_RANGE), label: '', sender };
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
