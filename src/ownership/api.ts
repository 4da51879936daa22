// What the HTTP edge needs from the claims of a running agent (AgentView.claims). Plain data only.
import type { RouteAnswer, RouteOwner } from '../runtime/view.js';

export interface ClaimView {
  readonly id: string;
  /** The claimant as a route answer names it; null when it is not in this member's view. */
  readonly owner: RouteOwner | null;
  readonly ownerName: string;
  /** The claimant's wall clock (Unix ms) at the first claim: the tie-break of races. */
  readonly claimedAtMs: number;
  /** The claimant's wall clock when the claim lapses unless renewed; null = until released. */
  readonly expiresAtMs: number | null;
  /** Fencing token (decimal): grows with each new owner; the app refuses writes carrying a lower one. */
  readonly fence: string;
}

export type ClaimItemStatus = 'claimed' | 'renewed' | 'owned_elsewhere' | 'limit' | 'invalid' | 'clock_skew';

export interface ClaimItemView {
  readonly id: string;
  readonly status: ClaimItemStatus;
  /** Who holds the id after the call; absent for 'limit' and 'invalid'. */
  readonly claim?: ClaimView;
  /** With 'limit': which bound was reached. */
  readonly message?: string;
}

export type ClaimRequestResult =
  | { readonly ok: true; readonly version: string; readonly results: readonly ClaimItemView[] }
  | { readonly ok: false; readonly code: 'not_serving' | 'clock_skew'; readonly message: string };

export type ReleaseResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly code: 'not_claimed'; readonly message: string }
  | { readonly ok: false; readonly code: 'claimed_elsewhere'; readonly message: string; readonly claim: ClaimView };

export interface LocalPage {
  readonly ids: readonly string[];
  /** "" on the last page. */
  readonly nextPageToken: string;
  readonly version: string;
}

/**
 * An id whose route answers changed: `owner` is the claimant they name now and `fence` the claim's fencing
 * token they carry; both null when they follow the ring.
 */
export interface ClaimOwnerChange {
  readonly id: string;
  readonly owner: string | null;
  readonly fence: string | null;
}

export interface ClaimsView {
  /** Most ids one POST /v1/claims may carry. */
  readonly maxIdsPerRequest: number;
  /** Longest TTL accepted, ms. */
  readonly maxTtlMs: number;
  /** Claims (or renews) ids for this member; ttlMs undefined = default, null = no expiry. */
  claim(ids: readonly string[], ttlMs: number | null | undefined): ClaimRequestResult;
  release(id: string): ReleaseResult;
  lookup(id: string): ClaimView | undefined;
  /** null when the page token is not valid. */
  localPage(limit: number, pageToken: string): LocalPage | null;
  /** True when any id is claimed in this member's view (then batch routes look claims up). */
  hasClaims(): boolean;
  /** The answer for a claimed key, undefined when the key is not claimed (route hot path). */
  claimedRoute(key: string): RouteAnswer | undefined;
  /** First touch: claims `key` for this member when nobody holds it (and it is serving), then routes it. */
  routeClaiming(key: string): RouteAnswer;
  /**
   * Calls `listener` with every id whose claim records changed, and whom route answers name for it now,
   * gathered per turn of the event loop (GET /v1/watch?claims=all). Returns the unsubscribe function.
   */
  subscribeOwners?(listener: (changes: readonly ClaimOwnerChange[]) => void): () => void;
}
