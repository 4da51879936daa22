// What the HTTP edge (src/http) and the CLI need from a running agent. The runtime implements it;
// tests implement it with fixed data. Plain data in, plain data out: no core or socket types leak.
import type { MemberState } from '../core/types.js';
import type { ClaimsView } from '../ownership/api.js';
import type { ForceLeaveSummary } from './force-leave.js';
import type { MemberView, RouteAnswer, RouteOwner, ViewEvent } from './view-json.js';

export type { MemberAddresses, MemberView, RouteAnswer, RouteOwner, ShardMoveGroup, ShardRange } from './view-json.js';
/** What a view publishes (the watch stream adds claim-owner changes, ClaimOwnersEvent, from the claims view). */
export type WatchEvent = ViewEvent;

export interface TableView {
  readonly shards: number;
  readonly replicas: number;
  readonly version: string;
  readonly members: number;
  readonly shardsPerMember: Readonly<Record<string, number>>;
  /** Present only when asked for: shard index -> owner name (null when nobody owns shards). */
  readonly owners?: readonly (string | null)[];
}

/**
 * The whole ownership table, for clients that route in process (GET /v1/table/compact, docs/http.md):
 * every member once, and per shard the index of its owner and replicas.
 */
export interface CompactTableView {
  readonly version: string;
  readonly shards: number;
  /** Replicas per shard in this table: min(--replicas, table members - 1), 0 without members. */
  readonly replicas: number;
  /** The table's members in table order (the indexes below), then claimants not among them. */
  readonly members: readonly RouteOwner[];
  /** How many of `members` are the table's. */
  readonly tableMembers: number;
  /** Owner's member index per shard (unused when tableMembers is 0). */
  readonly ownerIndex: ArrayLike<number>;
  /** `replicas` member indexes per shard, shard-major, in ranking order. */
  readonly replicaIndex: ArrayLike<number>;
  /** Claimed ids this member knows, each with its claimant's index in `members` (docs/ownership.md). */
  readonly claims: readonly (readonly [id: string, member: number, fence: string])[];
}

export interface ShardMoveView {
  readonly shard: number;
  readonly role: 'owner' | 'replica';
  readonly from: string | null;
  readonly to: string | null;
}

export interface HealthView {
  readonly ok: boolean;
  /** Why not ok (empty when ok); human-readable, stable enough for logs. */
  readonly reasons: readonly string[];
}

/** The batch layouts (docs/http.md): "full" answers carry owner and replicas, "compact" their indexes. */
export type AnswerLayout = 'full' | 'compact';

/**
 * Route answers of one table as pre-encoded JSON, for the HTTP hot path: the same answers as
 * AgentView.route, without an object per key. Keep the one you got for a whole request: its shard
 * numbers and tails belong to its own table.
 */
export interface RouteEncoder {
  readonly version: string;
  /** The key's shard in this table. */
  shardOf(key: string): number;
  /** UTF-8 JSON after the answer's shard number: `,"owner":…,"replicas":[…],"version":"…"}`. Shared: do not modify. */
  tailOf(key: string, shard: number): Uint8Array;
  /**
   * The key's whole answer as text, the same JSON as a full batch answer. Single answers are sent as strings:
   * Node writes a string body together with the headers in one write, a Buffer body as a second chunk of a
   * writev (measured alternating, 32 connections: server CPU per request 30.0 us for a 400-byte string
   * answer, 35.3 us for the same bytes as a Buffer, 31.3 us for an 11-byte no-op answer).
   */
  answerText(key: string): string;
  // Compact batches (docs/http.md, POST /v1/route?format=compact) list the table's members once and name
  // them by their index in the table.
  /** Members of this table (member indexes run 0 .. memberCount - 1). */
  readonly memberCount: number;
  /** The member's JSON, as in full answers' "owner" (shared: do not modify). */
  memberJson(member: number): string;
  /** Most bytes a compact tail of this table can take. */
  readonly compactTailRoom: number;
  /**
   * Writes the UTF-8 JSON after a compact answer's shard number, `,"owner":I,"replicas":[I,…]}` with the
   * table's member indexes, into `out` at `at` (compactTailRoom bytes must be free); returns the end.
   */
  writeCompactTail(shard: number, out: Uint8Array, at: number): number;
  /**
   * Writes answers in `layout` for keys[from], keys[from + 1], … into `out` from `at` for as long as it can
   * (the wasm module's writer: RouteIndex); returns the index of the first key not written and leaves the end in
   * runEnd. Encoders without it have every answer written by the caller.
   */
  writeAnswerRun?(layout: AnswerLayout, keys: readonly string[], from: number, out: Uint8Array, at: number): number;
  /** Where the last writeAnswerRun stopped writing. */
  readonly runEnd?: number;
}

export interface AgentView {
  readonly name: string;
  route(key: string): RouteAnswer;
  /** Same answers as route(), in the order of `keys`. */
  routeMany(keys: readonly string[]): RouteAnswer[];
  /** The current table's encoder, when the view has one; the HTTP edge falls back to route()/routeMany() without it. */
  routeEncoder?(): RouteEncoder;
  members(): { readonly version: string; readonly members: readonly MemberView[] };
  table(withOwners: boolean): TableView;
  /** The whole table with member indexes (GET /v1/table/compact); the route answers 501 without it. */
  compactTable?(): CompactTableView;
  /** Returns an unsubscribe function. The listener is called synchronously for every event. */
  subscribe(listener: (event: WatchEvent) => void): () => void;
  /** Starts a graceful leave; resolves when it has been announced (not when the process exits). */
  leave(): Promise<void>;
  readiness(): HealthView;
  liveness(): HealthView;
  /** Ownership claims (src/ownership), when the agent keeps them. */
  readonly claims?: ClaimsView;
  /** Lifeguard local health score of this member (0 is healthy), when the view knows it. */
  healthScore?(): number;
  /** Ids with a live claim in this member's view, when it keeps claims. */
  claimCount?(): number;
  /** An operator's force-leave: a member this view holds dead is marked left at once (this view only). */
  forceLeave?(name: string): ForceLeaveResult;
  /** After a local force-leave that marked the member left: the same on every other live member. */
  forceLeaveEverywhere?(name: string, local: ForceLeaveResult & { readonly refused: null }): Promise<ForceLeaveSummary>;
  /** Live members' own health scores and table versions (null: no answer), this member's included. */
  peerHealth?(): Promise<Record<string, PeerHealth | null>>;
}

/** What a member says about itself when asked (gRPC Ping). */
export interface PeerHealth {
  readonly healthScore: number;
  readonly tableVersion: string;
}

/** null: done (or it was left already); else why it was refused. */
export type ForceLeaveResult = { readonly refused: null; readonly state: MemberState } | { readonly refused: 'self' | 'unknown' | 'alive' | 'suspect' };

/** GET /v1/info: this member at a glance (the status page and `swimring info`). */
export interface AgentInfo {
  readonly name: string;
  readonly version: string;
  readonly ready: HealthView;
  readonly live: HealthView;
  /** null when the view does not know it. */
  readonly healthScore: number | null;
  readonly members: Readonly<Record<MemberState, number>> & { readonly total: number };
  readonly table: { readonly shards: number; readonly replicas: number; readonly members: number; readonly shardsPerMember: Readonly<Record<string, number>> };
  /** null when the member keeps no claims. */
  readonly claims: number | null;
  /** Where this member listens: gossip, grpc, http, ops (those known). */
  readonly listeners: Readonly<Record<string, string>>;
}
