// The library's options, results, events and counters (re-exported by ./index.ts).
import type { ClaimEvent, MemberEvent, MovesEvent, RouteOwner, StaleEvent } from './types.js';

export interface ConnectOptions {
  /** The sidecar's app API, e.g. http://127.0.0.1:7948. */
  readonly url: string;
  /** Bearer token, needed only off loopback when the sidecar sets one (docs/http.md). */
  readonly token?: string;
  /** The watch down this long: 'stale' fires (answers may be old). Default 5,000 ms. */
  readonly staleAfterMs?: number;
  /** Reconnect and reload backoff: full jitter between 0 and min(max, min * 2^attempt). Defaults 100 ms, 5,000 ms. */
  readonly minBackoffMs?: number;
  readonly maxBackoffMs?: number;
  /** A watch that delivers nothing (the sidecar sends a heartbeat every 15 s) this long is replaced. Default 45,000 ms. */
  readonly idleTimeoutMs?: number;
  /** connect() gives up when the first table and snapshot are not in by then. Default 30,000 ms. */
  readonly connectTimeoutMs?: number;
  /** Per HTTP request to the sidecar (table, members, claims, apply). Default 10,000 ms. */
  readonly requestTimeoutMs?: number;
  /**
   * Follow every claim change the sidecar sees (GET /v1/watch?claims=all), so route() names claimants
   * exactly as the sidecar does. Default true; false: only the claims of each table load, this library's
   * own claim() calls and this member's lost claims.
   */
  readonly followClaims?: boolean;
}

export interface ClaimResult {
  readonly id: string;
  readonly status: 'claimed' | 'renewed' | 'owned_elsewhere' | 'limit' | 'invalid';
  /** The claimant as route answers name it, when the sidecar knows it. */
  readonly owner: RouteOwner | null;
}

export interface ApplyOptions {
  /** Sent as Idempotency-Key: the owner delivers one request id at most once (docs/apply.md). */
  readonly requestId?: string;
  readonly contentType?: string;
}

export interface ApplyResult {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Buffer;
  /** X-Swimring-Owner: the member whose app answered. */
  readonly owner: string | null;
}

/** How the library kept its table current (ring.stats): which path each table version took. */
export interface RingStats {
  /** Table loads made (GET /v1/table/compact): the first, and each fallback below. */
  readonly tableLoads: number;
  /** Table versions made from a `moves` event, without a load. */
  readonly movesApplied: number;
  /**
   * Loads asked for, by reason: `connect` (each watch snapshot: the first and every reconnect),
   * `loading` (a change announced while a load was in flight), `retry` (after a failed load),
   * `member` / `claim` (an event naming a member whose addresses the library does not have), or why a
   * `moves` event was not applied (ApplyRefusal: `gap`, `no-patch`, `empty`, `unknown-member`,
   * `mismatch`). Asks made while a load is in flight make one more load, not one each.
   */
  readonly reloads: Readonly<Record<string, number>>;
}

export interface RingEvents {
  moves: [MovesEvent];
  member: [MemberEvent];
  claimLost: [string, ClaimEvent];
  stale: [StaleEvent];
  fresh: [{ readonly version: string }];
}
