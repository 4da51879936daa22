// The sidecar's answers as the library hands them out: the same shapes as GET /v1/route/:key, the
// watch stream and GET /v1/members (docs/http.md).

export interface MemberAddresses {
  /** "host:port" of each listener; app is "" when the member does not advertise one. */
  readonly gossip: string;
  readonly grpc: string;
  readonly app: string;
}

export interface RouteOwner {
  readonly name: string;
  readonly addresses: MemberAddresses;
  /** The member owns shards: its app is ready and it is not leaving. */
  readonly serving: boolean;
}

export interface RouteAnswer {
  readonly key: string;
  readonly shard: number;
  /** null only when no member owns shards. */
  readonly owner: RouteOwner | null;
  /** Shared between answers of one shard: do not modify. */
  readonly replicas: readonly RouteOwner[];
  readonly version: string;
  /** Present when the key is claimed: owner is the claimant. */
  readonly claimed?: true;
  /** The claim's fencing token (a decimal string), with `claimed` (docs/ownership.md). */
  readonly fence?: string;
}

/** Who route answers name for a claimed id, and the claim's fencing token they carry. */
export interface Claimant {
  readonly owner: RouteOwner;
  readonly fence: string;
}

export type MemberState = 'alive' | 'suspect' | 'dead' | 'left';

export interface MemberView {
  readonly name: string;
  readonly state: MemberState;
  readonly incarnation: number;
  readonly serving: boolean;
  readonly addresses: MemberAddresses;
  readonly tags: Readonly<Record<string, string>>;
  /** True for the member of the sidecar this library talks to. */
  readonly self: boolean;
}

/** Shards first..last, both included. */
export type ShardRange = readonly [first: number, last: number];

/** Shards that moved the same way, as the watch's `moves` event groups them. */
export interface ShardMoveGroup {
  readonly role: 'owner' | 'replica';
  readonly from: string | null;
  readonly to: string | null;
  readonly count: number;
  readonly ranges: readonly ShardRange[];
}

/** The watch stream's events (docs/http.md, GET /v1/watch). */
export type WatchEvent =
  | { readonly type: 'snapshot'; readonly version: string; readonly members: readonly MemberView[] }
  | {
      readonly type: 'member';
      readonly version: string;
      readonly name: string;
      readonly from: MemberState | null;
      readonly to: MemberState;
      readonly incarnation: number;
      readonly reason: string;
      readonly serving?: boolean;
    }
  | {
      readonly type: 'moves';
      readonly version: string;
      readonly previousVersion: string;
      readonly ownerMoves: number;
      readonly replicaMoves: number;
      readonly moves: readonly ShardMoveGroup[];
    }
  | { readonly type: 'claim'; readonly version: string; readonly id: string; readonly change: 'lost' | 'expired' | 'released'; readonly owner: string | null; readonly fence?: string }
  /** With ?claims=all: ids whose claimant route answers name changed; owner and fence null = they follow the ring. */
  | { readonly type: 'claims'; readonly version: string; readonly changes: readonly { readonly id: string; readonly owner: string | null; readonly fence: string | null }[] };

export type MemberEvent = Extract<WatchEvent, { type: 'member' }>;
export type ClaimEvent = Extract<WatchEvent, { type: 'claim' }>;

/** What this member gained and lost between two tables the library installed, one after the other. */
export interface MovesEvent {
  readonly version: string;
  readonly previousVersion: string;
  /** Groups with `to` = this member: shards (or replica slots) it now holds, `from` who had them. */
  readonly gained: readonly ShardMoveGroup[];
  /** Groups with `from` = this member: shards it no longer holds, `to` who has them now. */
  readonly lost: readonly ShardMoveGroup[];
}

export interface StaleEvent {
  /** When the watch went down (Date.now() ms). */
  readonly since: number;
  /** Why it is down, for logs. */
  readonly reason: string;
}

/** GET /v1/table/compact (docs/http.md). */
export interface CompactTableJson {
  readonly format: string;
  readonly version: string;
  readonly shards: number;
  readonly replicas: number;
  readonly tableMembers: number;
  readonly members: readonly RouteOwner[];
  readonly indexBytes: 1 | 2 | 4;
  readonly owners: string;
  readonly replicaIndexes: string;
  /** [id, index into members, fence] per claimed id. */
  readonly claims: readonly (readonly [string, number, string])[];
}
