// The JSON a member answers with: GET /v1/members, GET /v1/route/:key and the watch stream (docs/http.md).
// One definition for the sidecar (./view.ts re-exports it) and for swimring-client (client/src/types.ts),
// which compiles this file into its own package: so it imports nothing but the core's member states.
import type { MemberState } from '../core/types.js';

export type { MemberState };

export interface MemberAddresses {
  /** UDP SWIM address, "host:port". */
  readonly gossip: string;
  /** gRPC control-plane address, "host:port". */
  readonly grpc: string;
  /** The co-located app's address, "" when not advertised. */
  readonly app: string;
}

export interface MemberView {
  readonly name: string;
  readonly state: MemberState;
  readonly incarnation: number;
  /** The member owns shards: its app is ready and it is not leaving. */
  readonly serving: boolean;
  readonly addresses: MemberAddresses;
  readonly tags: Readonly<Record<string, string>>;
  /** True for the member that answered. */
  readonly self: boolean;
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
  /** null only when no member owns shards (for example every app is unready). */
  readonly owner: RouteOwner | null;
  /** Shared between answers of one shard: do not modify. */
  readonly replicas: readonly RouteOwner[];
  readonly version: string;
  /** Present when the key is claimed: `owner` is the member that claimed it (docs/ownership.md), not the ring's owner. */
  readonly claimed?: true;
  /** With `claimed` only: the claim's fencing token, a decimal string (docs/ownership.md). */
  readonly fence?: string;
}

/** Shards first..last, both included (first <= last). */
export type ShardRange = readonly [first: number, last: number];

/**
 * Shards that moved the same way (role, from, to) in one table change, as ascending, disjoint,
 * non-adjacent ranges: a member owns stretches of neighbouring shards (one per ring point), so one
 * member's death is a few thousand ranges where a list of shards would be a few hundred thousand numbers.
 */
export interface ShardMoveGroup {
  readonly role: 'owner' | 'replica';
  /** null when the shard had no owner before (or gained a replica slot). */
  readonly from: string | null;
  /** null when the shard has no owner now (or lost a replica slot). */
  readonly to: string | null;
  /** Shards in the group: the sum of last - first + 1 over `ranges`. */
  readonly count: number;
  readonly ranges: readonly ShardRange[];
}

/** Shards whose replica-set entrants sit at the same slots of the new replica list. */
export interface EntrantSlots {
  /** Ascending indexes into the shard's new replica list (0 = first replica) held by the shard's entrants. */
  readonly slots: readonly number[];
  readonly count: number;
  readonly ranges: readonly ShardRange[];
}

/**
 * With a `moves` event, what a client holding `previousVersion`'s table needs besides the groups to
 * make `version`'s table itself (swimring-client does): present only when the groups and this describe
 * the change exactly (same shard count, the members that stay keep their order in every shard's replica
 * list, at most one entrant per shard pairs with no member it replaces).
 */
export interface MovesPatch {
  /** Members that entered the table, as route answers name them. */
  readonly added: readonly RouteOwner[];
  /** Members that left the table. */
  readonly removed: readonly string[];
  /** Replicas per shard in the new table (the old one's is what the client holds). */
  readonly replicas: number;
  /**
   * The placement options the table version digests with the member names (docs/placement.md §5), so a
   * client can compute the new version from the members it derived and check it against `version`.
   */
  readonly placement: { readonly replicas: number; readonly vnodes: number; readonly boundedLoad: number | null };
  /**
   * Shards whose entrants (the `to` of its replica groups, ordered as the `from` they pair with were
   * in the old list, one with a null `from` last) do not take the last slots of the new replica list;
   * the members that stay fill the other slots in their old order.
   */
  readonly slots: readonly EntrantSlots[];
}

/** What a member's view publishes as its membership, table and claims change. */
export type ViewEvent =
  /** First event on every (re)connect: where the table stands now. */
  | { readonly type: 'snapshot'; readonly version: string; readonly members: readonly MemberView[] }
  | {
      readonly type: 'member';
      readonly version: string;
      readonly name: string;
      readonly from: MemberState | null;
      readonly to: MemberState;
      readonly incarnation: number;
      readonly reason: string;
      /** Whether the member owns shards (app ready, not leaving); a change shows as reason 'meta'. */
      readonly serving?: boolean;
      /** The member's addresses and tags now, as GET /v1/members lists them. */
      readonly addresses?: MemberAddresses;
      readonly tags?: Readonly<Record<string, string>>;
    }
  | {
      readonly type: 'moves';
      readonly version: string;
      readonly previousVersion: string;
      /** Owner and replica moves counted one per shard and role. */
      readonly ownerMoves: number;
      readonly replicaMoves: number;
      readonly moves: readonly ShardMoveGroup[];
      readonly patch?: MovesPatch;
    }
  /**
   * A claim this member held is gone (docs/ownership.md): 'lost' to an earlier claim of another member
   * (a race or a healed partition), 'expired' (its TTL ran out), 'released' (DELETE /v1/claims/:id).
   * The app should deactivate the actor; `owner` is who owns the id now (null: nobody).
   */
  | {
      readonly type: 'claim';
      readonly version: string;
      readonly id: string;
      readonly change: 'lost' | 'expired' | 'released';
      readonly owner: string | null;
      /** Fencing token (decimal) the app should now hold for the id: the new owner's, else the ended claim's. */
      readonly fence: string;
    };

/** With ?claims=all: ids whose claimant route answers name changed; owner and fence null = they follow the ring. */
export interface ClaimOwnersEvent {
  readonly type: 'claims';
  readonly version: string;
  readonly changes: readonly { readonly id: string; readonly owner: string | null; readonly fence: string | null }[];
}

/** Every event of the watch stream (GET /v1/watch). */
export type WatchEvent = ViewEvent | ClaimOwnersEvent;
