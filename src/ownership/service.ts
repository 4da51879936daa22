// Ownership claims of one member: claims made here (HTTP, first touch), their renewal and expiry,
// the batched broadcast of claims and releases to every live peer, the answers to peers'
// announcements, and the release of a member's claims when it dies, leaves or restarts.
// docs/ownership.md has the rules; store.ts holds the data and the merge.
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { validateClaimRecord } from './canonical.js';
import { Propagation, type PropagationPeer } from './propagation.js';
import { ClaimStore, type OwnerStatus } from './store.js';
import type { ClaimConflict, ClaimRecord, MergeOutcome } from './types.js';

export interface ClaimOptions {
  /** TTL of a claim made without one (first touch, POST without ttl_ms); null = until released. */
  readonly defaultTtlMs: number | null;
  /** Longest TTL accepted. */
  readonly maxTtlMs: number;
  /** Most live claims one member may hold (its own, and what it records of each peer). */
  readonly maxClaimsPerMember: number;
  /** Most records (claims and releases, every owner) this member keeps. */
  readonly maxRecords: number;
  /** Claims and releases made within this window go out as one announcement per peer. */
  readonly announceWindowMs: number;
  /** Announcement calls in flight at once, over all peers (each peer has at most one). */
  readonly announceConcurrency: number;
  /** Records waiting for one peer; beyond it the oldest is dropped (counted), the digest exchange repairs. */
  readonly announceQueuePerPeer: number;
  /** How long a release is remembered (so it outruns the claim it releases), local time. */
  readonly releaseRetentionMs: number;
  /** Another owner's claim is dropped this long after its expiry even without its AnnounceExpiry. */
  readonly foreignExpiryGraceMs: number;
  readonly rpcTimeoutMs: number;
}

/** Most claims or releases in one announcement (the receiver refuses more). */
export const MAX_CLAIMS_PER_ANNOUNCEMENT = 1024;

export interface Self {
  readonly name: string;
  readonly lifeId: string;
  readonly incarnation: number;
  /** App ready and not leaving: only then does this member take new claims. */
  readonly serving: boolean;
}

export type Peer = PropagationPeer;

/** What a peer answered to an announcement: the claims it attributes to someone else. */
export interface AnnounceAck {
  readonly accepted: boolean;
  readonly winners: readonly ClaimRecord[];
}

export interface ClaimTransport {
  announce(peer: Peer, self: Self, records: readonly ClaimRecord[], timeoutMs: number): Promise<AnnounceAck>;
  expire(peer: Peer, self: Self, records: readonly ClaimRecord[], timeoutMs: number): Promise<AnnounceAck>;
}

export interface ClaimServiceDeps {
  readonly self: () => Self;
  /** Alive and suspect members other than this one, with their gRPC address; suspect ones are not called. */
  readonly peers: () => readonly Peer[];
  /** Whether records of that life of `owner` may be held (its membership record). */
  readonly memberStatus: (record: ClaimRecord) => OwnerStatus;
  readonly transport: ClaimTransport;
  readonly options: ClaimOptions;
  readonly logger?: Logger;
  /** Wall clock (Unix ms): stamps claims. Default Date.now. */
  readonly wallClock?: () => number;
  /** Monotonic clock (ms). Default performance.now. */
  readonly clock?: () => number;
}

/** A claim this member held and no longer holds, for the app (watch stream). */
export interface ClaimLoss {
  readonly id: string;
  /** 'lost': another member's earlier claim won; 'expired': its TTL ran out; 'released': released here. */
  readonly reason: 'lost' | 'expired' | 'released';
  /** The owner now, null when unclaimed. */
  readonly owner: string | null;
}

export type ClaimOutcome =
  | { readonly id: string; readonly status: 'claimed' | 'renewed'; readonly record: ClaimRecord }
  /** Another member holds it: its record. */
  | { readonly id: string; readonly status: 'owned_elsewhere'; readonly record: ClaimRecord }
  /** 'limit': this member holds its most claims; 'invalid': the id is not 1..255 UTF-8 bytes. */
  | { readonly id: string; readonly status: 'limit' | 'invalid' };

export type ReleaseOutcome = 'released' | 'not_claimed' | { readonly ownedBy: ClaimRecord };

export interface ClaimCounters {
  announcementsSent: number;
  announcementsFailed: number;
  announcementsReceived: number;
  expiryAnnouncementsSent: number;
  expiryAnnouncementsReceived: number;
  conflicts: number;
  lost: number;
  expired: number;
  releasedOnDeparture: number;
  recordsRejected: number;
}

export class ClaimService {
  readonly store: ClaimStore;
  readonly counters: ClaimCounters = {
    announcementsSent: 0,
    announcementsFailed: 0,
    announcementsReceived: 0,
    expiryAnnouncementsSent: 0,
    expiryAnnouncementsReceived: 0,
    conflicts: 0,
    lost: 0,
    expired: 0,
    releasedOnDeparture: 0,
    recordsRejected: 0,
  };
  private readonly opts: ClaimOptions;
  private readonly wallClock: () => number;
  private readonly clock: () => number;
  /** Our own records waiting for the announcement window, by id (the newest wins). */
  private readonly pendingClaims = new Map<string, ClaimRecord>();
  private readonly pendingReleases = new Map<string, ClaimRecord>();
  private flushTimer: NodeJS.Timeout | null = null;
  private sweepTimer: NodeJS.Timeout | null = null;
  private readonly lossListeners = new Set<(loss: ClaimLoss) => void>();
  /** Set while this service writes its own records, so the store listener tells them from echoes. */
  private writingLocally = false;
  private readonly lossCheck = new Set<string>();
  /** Ids whose live claim of ours came back from a peer (see noticeChange). */
  private readonly echoes = new Set<string>();
  /** One bounded queue per peer: a peer that hangs delays only itself. */
  readonly propagation: Propagation;
  private closed = false;

  constructor(private readonly deps: ClaimServiceDeps) {
    this.opts = deps.options;
    this.wallClock = deps.wallClock ?? Date.now;
    this.clock = deps.clock ?? (() => performance.now());
    this.store = new ClaimStore({
      limits: { maxRecords: deps.options.maxRecords, maxClaimsPerOwner: deps.options.maxClaimsPerMember },
      ownerStatus: (record) => this.ownerStatus(record),
      clock: this.clock,
    });
    this.propagation = new Propagation(
      { concurrency: deps.options.announceConcurrency, maxPendingPerPeer: deps.options.announceQueuePerPeer, maxPerCall: MAX_CLAIMS_PER_ANNOUNCEMENT },
      (peer, records) => this.sendBatch(peer, records),
    );
    this.store.onChange((change) => {
      if (change.kind === 'set') this.noticeChange(change.record);
    });
  }

  /** Starts the expiry sweep (once a second, or as often as the retention asks). */
  start(): void {
    const every = Math.max(100, Math.min(1000, Math.floor(this.opts.releaseRetentionMs / 4)));
    this.sweepTimer = setInterval(() => this.sweep(), every);
    this.sweepTimer.unref();
  }

  close(): void {
    this.closed = true;
    if (this.flushTimer) clearTimeout(this.flushTimer);
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.flushTimer = null;
    this.sweepTimer = null;
    this.propagation.close();
  }

  onLoss(listener: (loss: ClaimLoss) => void): () => void {
    this.lossListeners.add(listener);
    return () => this.lossListeners.delete(listener);
  }

  // ---- claims made here ---------------------------------------------------------------------

  /**
   * Claims `ids` for this member, or renews the ones it holds. An id another member holds is not
   * taken ('owned_elsewhere'). `ttlMs` undefined = the default TTL, null = no expiry.
   * The caller checks that this member is serving.
   */
  claim(ids: readonly string[], ttlMs?: number | null): ClaimOutcome[] {
    const self = this.deps.self();
    const wallNow = this.wallClock();
    const ttl = ttlMs === undefined ? this.opts.defaultTtlMs : ttlMs;
    const expiresAtMs = ttl === null ? null : wallNow + ttl;
    const out: ClaimOutcome[] = [];
    for (const id of ids) {
      const winner = this.store.get(id);
      if (winner !== undefined && winner.owner !== self.name) {
        out.push({ id, status: 'owned_elsewhere', record: winner });
        continue;
      }
      const mine = this.ownRecord(id, self);
      const renewing = mine !== undefined && !mine.released;
      const record: ClaimRecord = {
        id,
        owner: self.name,
        ownerLifeId: self.lifeId,
        ownerIncarnation: self.incarnation,
        // A new run of claims must sort after the release that ended the previous one.
        claimedAtMs: renewing ? mine.claimedAtMs : Math.max(wallNow, mine === undefined ? 0 : mine.claimedAtMs + 1),
        expiresAtMs,
        released: false,
      };
      if (validateClaimRecord(record) !== null) {
        out.push({ id, status: 'invalid' });
        continue;
      }
      const result = this.writeOwn(record);
      if (result.rejected.length > 0) {
        out.push({ id, status: 'limit' });
        continue;
      }
      const now = this.store.get(id);
      if (now !== undefined && now.owner !== self.name) {
        out.push({ id, status: 'owned_elsewhere', record: now });
        continue;
      }
      this.queueAnnouncement(this.pendingClaims, record);
      out.push({ id, status: renewing ? 'renewed' : 'claimed', record });
    }
    return out;
  }

  /**
   * First touch (route with claim): the owner of `id` after claiming it here if nobody holds it.
   * A claim this member holds is renewed when less than half its TTL is left, so touching does not
   * announce on every request.
   */
  touch(id: string): ClaimRecord | undefined {
    const self = this.deps.self();
    const winner = this.store.get(id);
    if (winner !== undefined && winner.owner !== self.name) return winner;
    if (winner !== undefined) {
      const ttl = this.opts.defaultTtlMs;
      if (winner.expiresAtMs === null || ttl === null || winner.expiresAtMs - this.wallClock() > ttl / 2) return winner;
    }
    if (!self.serving) return winner;
    const [outcome] = this.claim([id]);
    return outcome !== undefined && 'record' in outcome ? outcome.record : this.store.get(id);
  }

  /** Releases a claim this member holds (DELETE /v1/claims/:id). */
  release(id: string): ReleaseOutcome {
    const self = this.deps.self();
    const winner = this.store.get(id);
    const mine = this.ownRecord(id, self);
    if (mine === undefined || mine.released) return winner === undefined ? 'not_claimed' : { ownedBy: winner };
    this.releaseOwn(mine, 'released');
    return 'released';
  }

  /** Ids this member owns, sorted, after `after` (exclusive), at most `limit`. */
  localIds(limit: number, after: string): { ids: string[]; more: boolean } {
    const self = this.deps.self();
    const all: string[] = [];
    for (const id of this.store.liveIdsOf(self.name)) {
      if (id > after && this.store.get(id)?.owner === self.name) all.push(id);
    }
    all.sort();
    return { ids: all.slice(0, limit), more: all.length > limit };
  }

  // ---- announcements from peers -------------------------------------------------------------

  /** AnnounceOwnership: merges the claims; answers the ones that lost, with their winners. */
  receiveClaims(records: readonly ClaimRecord[]): { outcome: MergeOutcome; winners: ClaimRecord[] } {
    this.counters.announcementsReceived++;
    const outcome = this.store.merge(records);
    this.counters.recordsRejected += outcome.rejected.length;
    this.counters.conflicts += outcome.conflicts.length;
    const announced = new Set(records.map((r) => `${r.owner}\u0000${r.id}`));
    const winners = outcome.conflicts.filter((c) => announced.has(`${c.loser.owner}\u0000${c.id}`)).map((c) => c.winner);
    return { outcome, winners };
  }

  /** AnnounceExpiry: merges the releases. */
  receiveReleases(records: readonly ClaimRecord[]): MergeOutcome {
    this.counters.expiryAnnouncementsReceived++;
    const outcome = this.store.merge(records);
    this.counters.recordsRejected += outcome.rejected.length;
    return outcome;
  }

  // ---- membership -----------------------------------------------------------------------------

  /** A member died or left (keepLifeId undefined), or restarted as life keepLifeId: its other claims go. */
  memberDeparted(name: string, keepLifeId?: string): void {
    if (name === this.deps.self().name) return;
    const changed = this.store.dropOwner(name, keepLifeId);
    this.counters.releasedOnDeparture += changed.length;
    if (changed.length > 0) this.deps.logger?.info({ member: name, ids: changed.length }, 'claims of a departed member released');
  }

  /**
   * Sends every live claim of this member to `peer` (a member that just joined or came back, which
   * knows none of them), or to every peer when omitted (this member was declared dead and refuted:
   * the others dropped its claims).
   */
  announceAll(peer?: Peer): void {
    const self = this.deps.self();
    const own: ClaimRecord[] = [];
    for (const id of this.store.liveIdsOf(self.name)) {
      const mine = this.ownRecord(id, self);
      if (mine !== undefined && !mine.released) own.push(mine);
    }
    if (own.length === 0) return;
    this.propagation.enqueue(peer === undefined ? this.deps.peers() : [peer], own);
  }

  // ---- internals --------------------------------------------------------------------------------

  private ownerStatus(record: ClaimRecord): OwnerStatus {
    const self = this.deps.self();
    if (record.owner === self.name) return record.ownerLifeId === self.lifeId ? 'live' : 'gone';
    return this.deps.memberStatus(record);
  }

  private ownRecord(id: string, self: Self): ClaimRecord | undefined {
    return this.store.recordsFor(id).find((r) => r.owner === self.name);
  }

  private writeOwn(record: ClaimRecord): MergeOutcome {
    this.writingLocally = true;
    try {
      return this.store.merge([record]);
    } finally {
      this.writingLocally = false;
    }
  }

  private releaseOwn(mine: ClaimRecord, reason: ClaimLoss['reason'], tellApp = true): void {
    const self = this.deps.self();
    const release: ClaimRecord = { ...mine, ownerIncarnation: self.incarnation, released: true };
    this.writeOwn(release);
    this.pendingClaims.delete(mine.id);
    this.queueAnnouncement(this.pendingReleases, release);
    if (reason === 'lost') this.counters.lost++;
    if (reason === 'expired') this.counters.expired++;
    if (!tellApp) return;
    const loss: ClaimLoss = { id: mine.id, reason, owner: this.store.get(mine.id)?.owner ?? null };
    for (const listener of this.lossListeners) {
      try {
        listener(loss);
      } catch {
        // One broken listener must not stop the others.
      }
    }
  }

  /**
   * Every record that lands in the store passes here. Two cases need this member to act: one of its
   * live claims no longer owns its id (it lost a race), or a peer echoed a live claim of ours that
   * this member does not hold (released long ago, its release forgotten): the owner is the authority
   * on its own claims, so it releases it again.
   */
  private noticeChange(record: ClaimRecord): void {
    if (this.writingLocally) return;
    // Our own live claim arriving from outside is newer than what we hold, so we had dropped it.
    if (!record.released && record.owner === this.deps.self().name) this.echoes.add(record.id);
    this.lossCheck.add(record.id);
    if (this.lossCheck.size === 1) queueMicrotask(() => this.checkLosses());
  }

  private checkLosses(): void {
    const ids = [...this.lossCheck];
    this.lossCheck.clear();
    if (this.closed) return;
    const self = this.deps.self();
    for (const id of ids) {
      const mine = this.ownRecord(id, self);
      if (mine === undefined || mine.released) continue;
      if (this.echoes.delete(id)) {
        this.deps.logger?.info({ id }, 'a peer echoed a claim this member no longer holds: releasing it again');
        this.releaseOwn(mine, 'released', false);
        continue;
      }
      const winner = this.store.get(id);
      if (winner !== undefined && winner.owner !== self.name) {
        this.deps.logger?.warn({ id, winner: winner.owner, winnerClaimedAtMs: winner.claimedAtMs, ourClaimedAtMs: mine.claimedAtMs }, 'claim lost to an earlier claim');
        this.releaseOwn(mine, 'lost');
      }
    }
  }

  /** Expires this member's lapsed claims and forgets old releases and lapsed foreign claims. */
  sweep(): void {
    if (this.closed) return;
    const self = this.deps.self();
    const wallNow = this.wallClock();
    const lapsed: ClaimRecord[] = [];
    for (const id of this.store.liveIdsOf(self.name)) {
      const mine = this.ownRecord(id, self);
      if (mine !== undefined && !mine.released && mine.expiresAtMs !== null && mine.expiresAtMs <= wallNow) lapsed.push(mine);
    }
    for (const mine of lapsed) this.releaseOwn(mine, 'expired');
    this.store.sweep(wallNow, this.opts.releaseRetentionMs, this.opts.foreignExpiryGraceMs, self.name);
  }

  private queueAnnouncement(pending: Map<string, ClaimRecord>, record: ClaimRecord): void {
    pending.set(record.id, record);
    if (this.pendingClaims.size + this.pendingReleases.size >= MAX_CLAIMS_PER_ANNOUNCEMENT) {
      this.flush();
      return;
    }
    if (this.flushTimer === null && !this.closed) {
      this.flushTimer = setTimeout(() => this.flush(), this.opts.announceWindowMs);
      this.flushTimer.unref();
    }
  }

  /** Sends what is pending to every live peer now. */
  flush(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    if (this.closed) return;
    const claims = [...this.pendingClaims.values()];
    const releases = [...this.pendingReleases.values()];
    this.pendingClaims.clear();
    this.pendingReleases.clear();
    const peers = this.deps.peers();
    this.propagation.setPeers(peers);
    this.propagation.enqueue(peers, [...claims, ...releases]);
  }

  /** Resolves once every announcement a peer may be called with has been answered or has failed (tests, shutdown). */
  async drained(): Promise<void> {
    while (this.propagation.busy()) await new Promise((r) => setTimeout(r, 5));
  }

  /** One call slot for `peer`: its claims, then its releases. */
  private async sendBatch(peer: Peer, records: readonly ClaimRecord[]): Promise<void> {
    const self = this.deps.self();
    const claims = records.filter((r) => !r.released);
    const releases = records.filter((r) => r.released);
    if (claims.length > 0) await this.sendClaims(peer, self, claims);
    if (releases.length > 0) await this.sendReleases(peer, self, releases);
  }

  private async sendClaims(peer: Peer, self: Self, records: readonly ClaimRecord[]): Promise<void> {
    this.counters.announcementsSent++;
    try {
      const ack = await this.deps.transport.announce(peer, self, records, this.opts.rpcTimeoutMs);
      if (ack.winners.length > 0) this.learnWinners(ack.winners);
    } catch (err) {
      // The digest exchange repairs what a failed announcement left out.
      this.counters.announcementsFailed++;
      this.deps.logger?.debug({ peer: peer.name, err: err instanceof Error ? err.message : String(err) }, 'claim announcement failed');
    }
  }

  private async sendReleases(peer: Peer, self: Self, records: readonly ClaimRecord[]): Promise<void> {
    this.counters.expiryAnnouncementsSent++;
    try {
      await this.deps.transport.expire(peer, self, records, this.opts.rpcTimeoutMs);
    } catch (err) {
      this.counters.announcementsFailed++;
      this.deps.logger?.debug({ peer: peer.name, err: err instanceof Error ? err.message : String(err) }, 'expiry announcement failed');
    }
  }

  /** A peer said our claims lost: record its winners (the merge then releases ours). */
  private learnWinners(winners: readonly ClaimRecord[]): void {
    const outcome = this.store.merge(winners);
    this.counters.conflicts += outcome.conflicts.length;
    this.reportConflicts(outcome.conflicts);
  }

  private reportConflicts(conflicts: readonly ClaimConflict[]): void {
    if (conflicts.length === 0) return;
    this.deps.logger?.debug({ conflicts: conflicts.length }, 'claim conflicts resolved');
  }
}
