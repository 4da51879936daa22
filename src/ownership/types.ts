// The ownership-claims contract: what a claim is, how stores of claims merge, and what the digest
// anti-entropy (src/antientropy) reads. docs/ownership.md explains the semantics.
//
// A store holds at most one record per (id, owner) pair: a live claim or a release ("tombstone").
// Records of one pair are ordered by `compareSameSlot`; merging keeps the greater one, so merging is
// commutative, associative and idempotent: any two stores that have seen the same records hold the
// same records, whatever the order they arrived in. The owner of an id is then a function of its
// records: among the live ones, the earliest claim (smallest hybrid clock stamp, then smallest owner
// name).

/** Bounds, shared by HTTP, gRPC and the canonical encoding. */
export const MAX_CLAIM_ID_BYTES = 255;
export const MAX_OWNER_NAME_BYTES = 253;
export const MAX_OWNER_LIFE_ID_BYTES = 255;

/** One member's claim on one id, or its release. */
export interface ClaimRecord {
  /** Actor id: 1..255 UTF-8 bytes, no lone surrogates. */
  readonly id: string;
  /** Member name of the claimant. */
  readonly owner: string;
  /** Life (process) of the claimant when it claimed; claims of another life of `owner` are stale. */
  readonly ownerLifeId: string;
  /** The claimant's incarnation when it last claimed or renewed (informational; not an ordering key across lives). */
  readonly ownerIncarnation: number;
  /**
   * Physical part (Unix ms) of the claimant's hybrid logical clock (hlc.ts) at the FIRST claim of this
   * id in this run of claims. Kept across renewals. "First claim wins" compares this stamp
   * (claimedAtMs, claimedAtLogical), then the owner name, so the winner of a race does not depend on
   * which announcement a receiver heard first, and a member's clock can only sway it within the skew
   * tolerance (members beyond it are refused as claimants).
   */
  readonly claimedAtMs: number;
  /** Logical part (0..65535) of that hybrid clock stamp. */
  readonly claimedAtLogical: number;
  /**
   * When the claim lapses unless renewed, on the claimant's hybrid clock (Unix ms); null = until
   * released. Only the claimant compares it with a clock; receivers use `ttlMs`.
   */
  readonly expiresAtMs: number | null;
  /**
   * The TTL of the latest claim or renewal (ms), null iff expiresAtMs is null. Receivers drop another
   * owner's claim `ttlMs` (plus a grace) after it reached them, on their own monotonic clock, so that
   * no two members' absolute clocks are ever compared.
   */
  readonly ttlMs: number | null;
  /**
   * Fencing token: grows with every new owner of the id (it is a hybrid clock stamp packed as
   * physical * 65536 + logical, taken when this owner claimed, or when it won a conflict against a
   * claim with a higher token). The app keeps the highest token it has seen per id and refuses writes
   * carrying a lower one.
   */
  readonly fence: bigint;
  /** true: the claimant gave the id up (expiry, DELETE, lost a conflict). Kept a while so the release spreads. */
  readonly released: boolean;
}

/** Stable key of a record's slot: one record per (id, owner). '\u0000' cannot occur in a member name. */
export function claimSlotKey(id: string, owner: string): string {
  return `${owner}\u0000${id}`;
}

/**
 * Order of two records of the SAME (id, owner) slot; > 0 when `a` supersedes `b`.
 * Later claim run first (a re-claim after a release starts a new run with a later claim stamp), then
 * a release beats the live claim of the same run, then a higher fence (a won conflict), then a later
 * expiry (renewal), then a higher
 * incarnation, then the life id, then the shorter TTL as a last deterministic tie-break.
 */
export function compareSameSlot(a: ClaimRecord, b: ClaimRecord): number {
  const run = compareStamps(a, b);
  if (run !== 0) return run;
  if (a.released !== b.released) return a.released ? 1 : -1;
  if (a.fence !== b.fence) return a.fence < b.fence ? -1 : 1;
  const ea = a.expiresAtMs ?? Number.POSITIVE_INFINITY;
  const eb = b.expiresAtMs ?? Number.POSITIVE_INFINITY;
  if (ea !== eb) return ea < eb ? -1 : 1;
  if (a.ownerIncarnation !== b.ownerIncarnation) return a.ownerIncarnation < b.ownerIncarnation ? -1 : 1;
  if (a.ownerLifeId !== b.ownerLifeId) return a.ownerLifeId < b.ownerLifeId ? -1 : 1;
  // A version 1 copy of a record (canonical.ts) carries the longest TTL its expiry allows: the original,
  // with its own shorter TTL, supersedes it, so every member ends up with the same bytes to hash.
  const ta = a.ttlMs ?? Number.POSITIVE_INFINITY;
  const tb = b.ttlMs ?? Number.POSITIVE_INFINITY;
  if (ta !== tb) return ta < tb ? 1 : -1;
  return 0;
}

/** Precedence between live claims of DIFFERENT owners; < 0 when `a` wins ("first claim wins"). */
export function compareClaimPrecedence(a: ClaimRecord, b: ClaimRecord): number {
  const stamps = compareStamps(a, b);
  if (stamps !== 0) return stamps;
  if (a.owner !== b.owner) return a.owner < b.owner ? -1 : 1;
  return 0;
}

/** Order of the claim stamps (claimedAtMs, claimedAtLogical) of two records. */
function compareStamps(a: ClaimRecord, b: ClaimRecord): number {
  if (a.claimedAtMs !== b.claimedAtMs) return a.claimedAtMs < b.claimedAtMs ? -1 : 1;
  if (a.claimedAtLogical !== b.claimedAtLogical) return a.claimedAtLogical < b.claimedAtLogical ? -1 : 1;
  return 0;
}

/** A live claim that lost to another owner's claim on the same id. */
export interface ClaimConflict {
  readonly id: string;
  readonly winner: ClaimRecord;
  readonly loser: ClaimRecord;
}

export type ClaimRejectReason =
  | 'invalid' // failed validateClaimRecord
  | 'owner-gone' // owner (or that life of it) is dead, left or superseded in this member's view
  | 'limit' // the store is full (total or per-owner bound)
  | 'clock-skew'; // the claimant's clock is off beyond the skew tolerance (claims only; releases are taken)

export interface MergeOutcome {
  /** Records that changed the store (new slot, or superseded the slot's record). */
  readonly applied: number;
  /** Records equal to or older than what the store holds. */
  readonly unchanged: number;
  /** `detail` says which bound a 'limit' hit, for the error the caller gives. */
  readonly rejected: readonly { readonly record: ClaimRecord; readonly reason: ClaimRejectReason; readonly detail?: string }[];
  /** Ids whose owner the merge decided against a live claim it carried or held; each listed once. */
  readonly conflicts: readonly ClaimConflict[];
}

/** One change to the store, in the order applied. E keeps its digest current from these. */
export type ClaimChange =
  /** A slot got a record (`previous` = what it replaced, undefined for a new slot). */
  | { readonly kind: 'set'; readonly record: ClaimRecord; readonly previous: ClaimRecord | undefined }
  /** A slot was removed (owner gone, tombstone retention over, local expiry). */
  | { readonly kind: 'delete'; readonly record: ClaimRecord };

/** What the runtime, the digest exchange and Ping read from the claim store. */
export interface ClaimStoreView {
  /** Records held, releases included (what the digest covers). */
  size(): number;
  /** Ids with a live owner, cluster-wide as this member knows them (PingReply.claims). */
  claimCount(): number;
  /** Every record, releases included, in no particular order. */
  entries(): Iterable<ClaimRecord>;
  /** The record that owns `id` (earliest live claim), or undefined when unclaimed. */
  get(id: string): ClaimRecord | undefined;
  /** Every record held for `id` (the slots of all owners). */
  recordsFor(id: string): readonly ClaimRecord[];
  /** Applies the merge rules to records from a peer (announcement or digest repair). */
  merge(records: readonly ClaimRecord[]): MergeOutcome;
  /** Called synchronously after each change; returns the unsubscribe function. */
  onChange(listener: (change: ClaimChange) => void): () => void;
}
