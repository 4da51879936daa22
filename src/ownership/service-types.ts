// The contract of ClaimService (service.ts): its options, what it needs from the agent (self, peers,
// member status, transport, clocks), and what it answers.
import type { Logger } from 'pino';
import type { ClockPort } from '../member/ports.js';
import type { PropagationPeer } from './propagation.js';
import type { OwnerStatus } from './store.js';
import type { ClaimRecord } from './types.js';

export interface ClaimOptions {
  /** TTL of a claim made without one (first touch, POST without ttl_ms); null = until released. */
  readonly defaultTtlMs: number | null;
  /** Longest TTL accepted. */
  readonly maxTtlMs: number;
  /** Most live claims one member may hold (its own, and what it records of each peer). */
  readonly maxClaimsPerMember: number;
  /** Releases of one member kept at most; beyond, its oldest are forgotten early (compaction). */
  readonly maxReleasesPerMember: number;
  /**
   * Ceiling on the records (claims and releases) kept of other members; below it the bound is the
   * live member count times (maxClaimsPerMember + maxReleasesPerMember). This member's own are exempt.
   */
  readonly maxRecords: number;
  /** Claims and releases made within this window go out as one announcement per peer. */
  readonly announceWindowMs: number;
  /** Announcement calls in flight at once, over all peers (each peer has at most one). */
  readonly announceConcurrency: number;
  /** Records waiting for one peer; beyond it the oldest is dropped (counted), the digest exchange repairs. */
  readonly announceQueuePerPeer: number;
  /** How long a release is remembered (so it outruns the claim it releases), local time. */
  readonly releaseRetentionMs: number;
  /** Another owner's claim is dropped this long after its TTL ran out (from its receipt) even without its AnnounceExpiry. */
  readonly foreignExpiryGraceMs: number;
  /**
   * Most a member's clock may be off from the others': a claimant beyond it is refused, and a member
   * that finds itself beyond it stops claiming.
   */
  readonly maxClockSkewMs: number;
  readonly rpcTimeoutMs: number;
  /**
   * Peers per relay group (docs/ownership.md "Relays"): beyond one group of peers that relay, records
   * go to one relay per group instead of to every peer. 0 = this member neither relays nor uses relays.
   */
  readonly relayGroupSize: number;
  /** How long a relay gathers records for one peer before forwarding them in one call. */
  readonly relayWindowMs: number;
}

export interface Self {
  readonly name: string;
  readonly lifeId: string;
  readonly incarnation: number;
  /** App ready and not leaving: only then does this member take new claims. */
  readonly serving: boolean;
}

export type Peer = PropagationPeer;

/** What a peer answered to an announcement: the claims it attributes to someone else, and its clock. */
export interface AnnounceAck {
  readonly accepted: boolean;
  readonly winners: readonly ClaimRecord[];
  /** The peer's wall clock (Unix ms) when it answered; undefined from a peer that does not send it. */
  readonly receiverWallMs?: number;
  /** True when the peer reads relayed records and forwards to relay_to (OwnershipAck.relays). */
  readonly relays?: boolean;
}

/** What a call carries besides the sender's own records (docs/ownership.md "Relays"). */
export interface RelayPart {
  /** Peers (names) the callee forwards the sender's records to. */
  readonly relayTo?: readonly string[];
  /** Other owners' claims and releases, forwarded by the sender (AnnounceOwnership only). */
  readonly relayed?: readonly ClaimRecord[];
}

export interface ClaimTransport {
  /** `sentAtMs`: our wall clock as the announcement leaves, so the peer can tell how far off it is. */
  announce(peer: Peer, self: Self, records: readonly ClaimRecord[], timeoutMs: number, sentAtMs: number, relay?: RelayPart): Promise<AnnounceAck>;
  expire(peer: Peer, self: Self, records: readonly ClaimRecord[], timeoutMs: number, sentAtMs: number, relay?: RelayPart): Promise<AnnounceAck>;
}

export type AnnounceKind = 'announce' | 'expire';

/**
 * The claims' calls to peers as a port whose answers come back through a callback: the simulator
 * delivers them as events on its heap, so what an answer sets off runs at its virtual time, never
 * later on the microtask queue. `answer` gets the ack, or the error the call failed with.
 */
export interface ClaimCallPort {
  call(
    kind: AnnounceKind,
    peer: Peer,
    self: Self,
    records: readonly ClaimRecord[],
    timeoutMs: number,
    sentAtMs: number,
    answer: (outcome: AnnounceAck | Error) => void,
    relay?: RelayPart,
  ): void;
}

/** A promise transport (gRPC) as a call port. */
export function callPortOf(transport: ClaimTransport | ClaimCallPort): ClaimCallPort {
  if ('call' in transport) return transport;
  return {
    call(kind, peer, self, records, timeoutMs, sentAtMs, answer, relay) {
      transport[kind](peer, self, records, timeoutMs, sentAtMs, relay).then(answer, (err: unknown) => answer(err instanceof Error ? err : new Error(String(err))));
    },
  };
}

export interface ClaimServiceDeps {
  readonly self: () => Self;
  /** Alive and suspect members other than this one, with their gRPC address; suspect ones are not called. */
  readonly peers: () => readonly Peer[];
  /** Whether records of that life of `owner` may be held (its membership record). */
  readonly memberStatus: (record: ClaimRecord) => OwnerStatus;
  /** A promise transport (gRPC) or a call port answering through a callback (the simulator). */
  readonly transport: ClaimTransport | ClaimCallPort;
  readonly options: ClaimOptions;
  readonly logger?: Logger;
  /** Wall clock (Unix ms) that stamps claims, instead of timers.wallNow (a test's offset clock). */
  readonly wallClock?: () => number;
  /** Monotonic clock (ms) instead of timers.now. */
  readonly clock?: () => number;
  /**
   * Time and the timers claims use (the expiry sweep, the announcement window). A member passes its
   * own (src/member/claims.ts: timers run from its tick); a test of the service alone may pass any.
   */
  readonly timers: ClockPort;
}

/** A claim this member held and no longer holds, for the app (watch stream). */
export interface ClaimLoss {
  readonly id: string;
  /** 'lost': another member's earlier claim won; 'expired': its TTL ran out; 'released': released here. */
  readonly reason: 'lost' | 'expired' | 'released';
  /** The owner now, null when unclaimed. */
  readonly owner: string | null;
  /**
   * The fencing token the app should now hold for the id: the new owner's, or, when nobody owns it,
   * the token of the claim that ended (writes carrying it or a lower one are stale either way).
   */
  readonly fence: bigint;
}

export type ClaimOutcome =
  | { readonly id: string; readonly status: 'claimed' | 'renewed'; readonly record: ClaimRecord }
  /** Another member holds it: its record. */
  | { readonly id: string; readonly status: 'owned_elsewhere'; readonly record: ClaimRecord }
  /**
   * 'limit': this member holds its most claims; 'invalid': the id is not 1..255 UTF-8 bytes;
   * 'clock_skew': this member's clock is off from most peers' beyond the tolerance.
   */
  | { readonly id: string; readonly status: 'invalid' | 'clock_skew' }
  /** This member holds its most live claims: `message` says which bound. */
  | { readonly id: string; readonly status: 'limit'; readonly message: string };

export type ReleaseOutcome = 'released' | 'not_claimed' | { readonly ownedBy: ClaimRecord };

export interface ClaimCounters {
  announcementsSent: number;
  announcementsFailed: number;
  announcementsReceived: number;
  expiryAnnouncementsSent: number;
  expiryAnnouncementsReceived: number;
  conflicts: number;
  /** Conflicts this member won against a claim with a fencing token at or above its own: it took a higher one. */
  refenced: number;
  lost: number;
  expired: number;
  releasedOnDeparture: number;
  recordsRejected: number;
  /** Batches of our records sent to a relay for its group. */
  relayBatches: number;
  /** Relays passed over (slow or failed): their batch went to the group's next member, or directly. */
  relayFallbacks: number;
  /** Records forwarded here for other owners (one per record per peer). */
  recordsRelayed: number;
}

export function newClaimCounters(): ClaimCounters {
  return {
    announcementsSent: 0,
    announcementsFailed: 0,
    announcementsReceived: 0,
    expiryAnnouncementsSent: 0,
    expiryAnnouncementsReceived: 0,
    conflicts: 0,
    refenced: 0,
    lost: 0,
    expired: 0,
    releasedOnDeparture: 0,
    recordsRejected: 0,
    relayBatches: 0,
    relayFallbacks: 0,
    recordsRelayed: 0,
  };
}

/**
 * The records a member keeps of the others: each live member may hold its claims and releases up to
 * the per-member bounds, so the bound grows with the member count, up to maxRecords.
 */
export function scaledRecordLimit(options: ClaimOptions, liveMembers: number): number {
  const perMember = options.maxClaimsPerMember + options.maxReleasesPerMember;
  return Math.min(options.maxRecords, Math.max(1, liveMembers) * perMember);
}
