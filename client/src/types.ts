// The sidecar's answers as the library hands them out: the same shapes as GET /v1/route/:key, the
// watch stream and GET /v1/members (docs/http.md), defined once for the sidecar and this package in
// src/runtime/view-json.ts (compiled into this package), plus the library's own events.
import type { RouteOwner, ShardMoveGroup, WatchEvent } from '../../src/runtime/view-json.js';

export type {
  ClaimOwnersEvent,
  MemberAddresses,
  MemberState,
  MemberView,
  RouteAnswer,
  RouteOwner,
  ShardMoveGroup,
  ShardRange,
  WatchEvent,
} from '../../src/runtime/view-json.js';

/** Who route answers name for a claimed id, and the claim's fencing token they carry. */
export interface Claimant {
  readonly owner: RouteOwner;
  readonly fence: string;
}

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
