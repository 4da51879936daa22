// WatchEvent (src/runtime/view.ts) to and from its protobuf form (proto WatchEvent), so the gRPC stream
// carries exactly what the SSE watch carries.
import type { MemberState } from '../core/types.js';
import type { MemberView, ShardMoveGroup, ShardRange, WatchEvent } from '../runtime/view.js';
import type { MemberState as ProtoState, MemberState__Output as ProtoStateOut } from './generated/swimring/v1/MemberState.js';
import type { WatchEvent as ProtoEvent, WatchEvent__Output as ProtoEventOut } from './generated/swimring/v1/WatchEvent.js';
import type { WatchedMember, WatchedMember__Output } from './generated/swimring/v1/WatchedMember.js';

const TO_PROTO = { alive: 'MEMBER_STATE_ALIVE', suspect: 'MEMBER_STATE_SUSPECT', dead: 'MEMBER_STATE_DEAD', left: 'MEMBER_STATE_LEFT' } as const;

function stateToProto(s: MemberState): ProtoState {
  return TO_PROTO[s];
}

function stateFromProto(s: ProtoStateOut): MemberState | null {
  switch (s) {
    case 'MEMBER_STATE_ALIVE':
      return 'alive';
    case 'MEMBER_STATE_SUSPECT':
      return 'suspect';
    case 'MEMBER_STATE_DEAD':
      return 'dead';
    case 'MEMBER_STATE_LEFT':
      return 'left';
    default:
      return null;
  }
}

function memberToProto(m: MemberView): WatchedMember {
  return {
    name: m.name,
    state: stateToProto(m.state),
    incarnation: String(m.incarnation),
    serving: m.serving,
    gossipAddr: m.addresses.gossip,
    grpcAddr: m.addresses.grpc,
    appAddr: m.addresses.app,
    tags: { ...m.tags },
    self: m.self,
  };
}

function memberFromProto(m: WatchedMember__Output): MemberView {
  return {
    name: m.name,
    state: stateFromProto(m.state) ?? 'alive',
    incarnation: Number(m.incarnation),
    serving: m.serving,
    addresses: { gossip: m.gossipAddr, grpc: m.grpcAddr, app: m.appAddr },
    tags: m.tags,
    self: m.self,
  };
}

export function watchEventToProto(e: WatchEvent): ProtoEvent {
  switch (e.type) {
    case 'snapshot':
      return { version: e.version, snapshot: { members: e.members.map(memberToProto) } };
    case 'member':
      return {
        version: e.version,
        member: {
          name: e.name,
          from: e.from === null ? 'MEMBER_STATE_UNSPECIFIED' : stateToProto(e.from),
          to: stateToProto(e.to),
          incarnation: String(e.incarnation),
          reason: e.reason,
          serving: e.serving ?? false,
        },
      };
    case 'moves':
      return {
        version: e.version,
        moves: {
          previousVersion: e.previousVersion,
          ownerMoves: e.ownerMoves,
          replicaMoves: e.replicaMoves,
          moves: e.moves.map((g) => ({ role: g.role, from: g.from ?? '', to: g.to ?? '', count: g.count, ranges: g.ranges.flat() })),
        },
      };
    case 'claim':
      return { version: e.version, claim: { id: e.id, change: e.change, owner: e.owner ?? '', fence: e.fence } };
  }
}

/** Flat pairs back to ranges; a trailing odd number (a malformed message) is dropped. */
function pairsOf(flat: readonly number[]): ShardRange[] {
  const out: ShardRange[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([flat[i]!, flat[i + 1]!]);
  return out;
}

/** The inverse, for clients; null for an event kind this build does not know (a newer server). */
export function watchEventFromProto(p: ProtoEventOut): WatchEvent | null {
  if (p.snapshot) return { type: 'snapshot', version: p.version, members: p.snapshot.members.map(memberFromProto) };
  if (p.member) {
    const to = stateFromProto(p.member.to);
    if (to === null) return null;
    return {
      type: 'member',
      version: p.version,
      name: p.member.name,
      from: stateFromProto(p.member.from),
      to,
      incarnation: Number(p.member.incarnation),
      reason: p.member.reason,
      serving: p.member.serving,
    };
  }
  if (p.moves) {
    const moves: ShardMoveGroup[] = p.moves.moves.map((g) => ({
      role: g.role === 'replica' ? 'replica' : 'owner',
      from: g.from === '' ? null : g.from,
      to: g.to === '' ? null : g.to,
      count: g.count,
      ranges: pairsOf(g.ranges),
    }));
    return {
      type: 'moves',
      version: p.version,
      previousVersion: p.moves.previousVersion,
      ownerMoves: p.moves.ownerMoves,
      replicaMoves: p.moves.replicaMoves,
      moves,
    };
  }
  if (p.claim) {
    const change = p.claim.change;
    if (change !== 'lost' && change !== 'expired' && change !== 'released') return null;
    return { type: 'claim', version: p.version, id: p.claim.id, change, owner: p.claim.owner === '' ? null : p.claim.owner, fence: p.claim.fence };
  }
  return null;
}
