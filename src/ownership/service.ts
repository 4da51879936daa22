// Ownership claims of one member: claims made here (HTTP, first touch), their renewal and expiry,
// the answers to peers' announcements, and the release of a member's claims when it dies, leaves or
// restarts. docs/ownership.md has the rules; store.ts holds the data and the merge, announcer.ts
// sends ours, hlc.ts stamps them and keeps clocks that are off out of the claim order.
import { Announcer, MAX_CLAIMS_PER_ANNOUNCEMENT } from './announcer.js';
import { validateClaimRecord } from './canonical.js';
import { ChangeWatch } from './change-watch.js';
import { ClockGuard, packStamp } from './hlc.js';
import type { Propagation } from './propagation.js';
import { newClaimCounters, scaledRecordLimit } from './service-types.js';
import type { ClaimCounters, ClaimLoss, ClaimOutcome, ClaimServiceDeps, Peer, ReleaseOutcome, Self, ClaimOptions } from './service-types.js';
import { ClaimStore, type OwnerStatus } from './store.js';
import type { ClockPort } from '../member/ports.js';
import type { ClaimRecord, MergeOutcome } from './types.js';

export { MAX_CLAIMS_PER_ANNOUNCEMENT };
export type * from './service-types.js';

export class ClaimService {
  readonly store: ClaimStore;
  readonly counters: ClaimCounters = newClaimCounters();
  /** The hybrid clock that stamps claims, and the offsets of peers' clocks. */
  readonly clockGuard: ClockGuard;
  private readonly opts: ClaimOptions;
  private readonly clock: () => number;
  /** Sends our records and relays others' (announcer.ts, relay.ts). */
  readonly announcer: Announcer;
  private readonly timers: ClockPort;
  private cancelSweep: (() => void) | null = null;
  private readonly lossListeners = new Set<(loss: ClaimLoss) => void>();
  /** Set while this service writes its own records, so the store listener tells them from echoes. */
  private writingLocally = false;
  /** Ids to look at again once a merge from outside is over (see noticeChange). */
  private readonly changes: ChangeWatch;
  private closed = false;
  private started = false;

  constructor(private readonly deps: ClaimServiceDeps) {
    this.opts = deps.options;
    this.timers = deps.timers;
    const timers = this.timers;
    const wallClock = deps.wallClock ?? (() => timers.wallNow());
    this.clock = deps.clock ?? (() => timers.now());
    this.changes = new ChangeWatch((ids) => this.checkLosses(ids));
    this.clockGuard = new ClockGuard(wallClock, deps.options.maxClockSkewMs, () => deps.peers().length);
    this.store = new ClaimStore({
      limits: {
        maxRecords: scaledRecordLimit(deps.options, deps.peers().length + 1),
        maxClaimsPerOwner: deps.options.maxClaimsPerMember,
        maxReleasesPerOwner: deps.options.maxReleasesPerMember,
        self: () => deps.self().name,
      },
      ownerStatus: (record) => this.ownerStatus(record),
      admit: (record) => (record.owner === deps.self().name ? null : this.clockGuard.admitRecord(record)),
      clock: this.clock,
      merged: () => this.changes.settle(),
    });
    this.announcer = new Announcer({
      self: deps.self,
      peers: deps.peers,
      transport: deps.transport,
      options: deps.options,
      counters: this.counters,
      clockGuard: this.clockGuard,
      wallClock,
      timers: this.timers,
      onWinners: (winners) => this.learnWinners(winners),
      logger: deps.logger,
    });
    this.store.onChange((change) => {
      if (change.kind === 'set') {
        this.noticeChange(change.record);
        this.armSweep();
      }
    });
  }

  /**
   * Starts the expiry sweep (once a second, or as often as the retention asks), armed only while the
   * store holds records: an idle member with no claims has nothing to expire and no reason to wake.
   */
  start(): void {
    this.started = true;
    this.armSweep();
  }

  private armSweep(): void {
    if (!this.started || this.closed || this.cancelSweep !== null || this.store.size() === 0) return;
    const every = Math.max(100, Math.min(1000, Math.floor(this.opts.releaseRetentionMs / 4)));
    this.cancelSweep = this.timers.at(this.timers.now() + every, () => {
      this.cancelSweep = null;
      if (this.closed) return;
      this.sweep();
      this.armSweep();
    });
  }

  close(): void {
    this.closed = true;
    this.cancelSweep?.();
    this.cancelSweep = null;
    this.announcer.close();
  }

  /** The per-peer announcement queues (metrics, tests). */
  get propagation(): Propagation {
    return this.announcer.propagation;
  }

  /** Sends what is pending to every live peer now. */
  flush(): void {
    this.announcer.flush();
  }

  /** Resolves once every announcement a peer may be called with has been answered or has failed (tests, shutdown). */
  async drained(): Promise<void> {
    await this.announcer.drained();
  }

  /**
   * Scales the store to the cluster: each live member may hold its claims and releases up to the
   * per-member bounds, so the records kept of others grow with the member count (up to maxRecords).
   */
  fitMembers(liveMembers: number): void {
    this.store.setMaxRecords(scaledRecordLimit(this.opts, liveMembers));
  }

  /** True when this member's clock is off from most peers' beyond the tolerance: it takes no claims then. */
  clockOff(): boolean {
    return this.clockGuard.selfOff();
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
    const ttl = ttlMs === undefined ? this.opts.defaultTtlMs : ttlMs;
    const out: ClaimOutcome[] = [];
    if (this.clockOff()) return ids.map((id) => ({ id, status: 'clock_skew' }));
    for (const id of ids) {
      const winner = this.store.get(id);
      if (winner !== undefined && winner.owner !== self.name) {
        out.push({ id, status: 'owned_elsewhere', record: winner });
        continue;
      }
      const mine = this.ownRecord(id, self);
      const renewing = mine !== undefined && !mine.released;
      // A new run of claims gets a fresh stamp: it sorts after every stamp this member has issued or
      // seen, the release that ended the previous run (ours or another owner's) included.
      const stamp = renewing ? { physicalMs: mine.claimedAtMs, logical: mine.claimedAtLogical } : this.clockGuard.hlc.now();
      const record: ClaimRecord = {
        id,
        owner: self.name,
        ownerLifeId: self.lifeId,
        ownerIncarnation: self.incarnation,
        claimedAtMs: stamp.physicalMs,
        claimedAtLogical: stamp.logical,
        expiresAtMs: ttl === null ? null : this.clockGuard.hlc.peekMs() + ttl,
        ttlMs: ttl,
        fence: renewing ? mine.fence : packStamp(stamp),
        released: false,
      };
      if (validateClaimRecord(record) !== null) {
        out.push({ id, status: 'invalid' });
        continue;
      }
      const result = this.writeOwn(record);
      const refused = result.rejected[0];
      if (refused !== undefined) {
        out.push({ id, status: 'limit', message: refused.detail ?? 'claim limit reached' });
        continue;
      }
      const now = this.store.get(id);
      if (now !== undefined && now.owner !== self.name) {
        out.push({ id, status: 'owned_elsewhere', record: now });
        continue;
      }
      this.announcer.add(record);
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
      if (winner.expiresAtMs === null || ttl === null || winner.expiresAtMs - this.clockGuard.hlc.peekMs() > ttl / 2) return winner;
    }
    if (!self.serving || this.clockOff()) return winner;
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

  /**
   * AnnounceOwnership: merges the claims; answers the ones that lost, with their winners.
   * All records are the announcer's (grpc.ts checks); `senderWallMs`: its wall clock as it sent
   * (undefined from a peer that does not send it).
   */
  receiveClaims(records: readonly ClaimRecord[], senderWallMs?: number): { outcome: MergeOutcome; winners: ClaimRecord[] } {
    this.counters.announcementsReceived++;
    this.clockGuard.sampleAnnouncement(records[0]?.owner, senderWallMs);
    const outcome = this.store.merge(records);
    this.counters.recordsRejected += outcome.rejected.length;
    this.counters.conflicts += outcome.conflicts.length;
    const announced = new Set(records.map((r) => `${r.owner}\u0000${r.id}`));
    // A member whose clock is off asserts none of its claims: it gives them up below (checkLosses).
    const self = this.clockOff() ? this.deps.self().name : null;
    const winners = outcome.conflicts
      .filter((c) => announced.has(`${c.loser.owner}\u0000${c.id}`) && c.winner.owner !== self)
      .map((c) => c.winner);
    return { outcome, winners };
  }

  /** Relaying (relay.ts): other owners' records a relay forwarded, merged like the digest exchange's; `own` forwarded to `relayTo`. */
  receiveRelay(sender: string, relayTo: readonly string[], own: readonly ClaimRecord[], relayed: readonly ClaimRecord[]): void {
    if (relayed.length > 0) this.counters.recordsRejected += this.store.merge(relayed).rejected.length;
    this.announcer.relay(sender, relayTo, own);
  }

  /** AnnounceExpiry: merges the releases. */
  receiveReleases(records: readonly ClaimRecord[], senderWallMs?: number): MergeOutcome {
    this.counters.expiryAnnouncementsReceived++;
    this.clockGuard.sampleAnnouncement(records[0]?.owner, senderWallMs);
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
    this.announcer.sendNow(peer === undefined ? this.deps.peers() : [peer], own);
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
    this.announcer.add(release);
    if (reason === 'lost') this.counters.lost++;
    if (reason === 'expired') this.counters.expired++;
    if (!tellApp) return;
    const now = this.store.get(mine.id);
    const loss: ClaimLoss = { id: mine.id, reason, owner: now?.owner ?? null, fence: now?.fence ?? mine.fence };
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
    // Our own live claim arriving from outside is newer than what we hold, so we had dropped it. The
    // store settles the watch as the merge ends.
    this.changes.noticed(record.id, !record.released && record.owner === this.deps.self().name);
  }

  private checkLosses(ids: readonly string[]): void {
    if (this.closed) return;
    const self = this.deps.self();
    for (const id of ids) {
      const mine = this.ownRecord(id, self);
      if (mine === undefined || mine.released) continue;
      if (this.changes.takeEcho(id)) {
        this.deps.logger?.info({ id }, 'a peer echoed a claim this member no longer holds: releasing it again');
        this.releaseOwn(mine, 'released', false);
        continue;
      }
      const winner = this.store.get(id);
      if (winner !== undefined && winner.owner !== self.name) {
        this.deps.logger?.warn({ id, winner: winner.owner, winnerClaimedAtMs: winner.claimedAtMs, ourClaimedAtMs: mine.claimedAtMs }, 'claim lost to an earlier claim');
        this.releaseOwn(mine, 'lost');
      } else if (this.clockOff() && this.store.recordsFor(id).some((r) => !r.released && r.owner !== self.name)) {
        // Our stamp may be early only because our clock is behind: the peers, who refused our claim,
        // count the other one. Giving ours up keeps one live owner.
        this.deps.logger?.warn({ id }, 'claim given up: this member\'s clock is off and another member claimed the id');
        this.releaseOwn(mine, 'lost');
      } else {
        this.refenceIfOvertaken(mine);
      }
    }
  }

  /**
   * We won a race, but the loser's claim may carry a higher fencing token than ours (it claimed later,
   * so its stamp is higher), and its app may have written with it meanwhile. Our token must end above
   * every token another owner has used for the id, or the app would refuse the winner's writes.
   */
  private refenceIfOvertaken(mine: ClaimRecord): void {
    let highest = -1n;
    for (const r of this.store.recordsFor(mine.id)) if (r.owner !== mine.owner && r.fence > highest) highest = r.fence;
    if (highest < mine.fence) return;
    const fresh = packStamp(this.clockGuard.hlc.now());
    const record: ClaimRecord = { ...mine, fence: fresh > highest ? fresh : highest + 1n };
    this.counters.refenced++;
    this.writeOwn(record);
    this.announcer.add(record);
  }

  /** Expires this member's lapsed claims and forgets old releases and lapsed foreign claims. */
  sweep(): void {
    if (this.closed) return;
    const self = this.deps.self();
    const now = this.clockGuard.hlc.peekMs();
    const lapsed: ClaimRecord[] = [];
    for (const id of this.store.liveIdsOf(self.name)) {
      const mine = this.ownRecord(id, self);
      if (mine !== undefined && !mine.released && mine.expiresAtMs !== null && mine.expiresAtMs <= now) lapsed.push(mine);
    }
    for (const mine of lapsed) this.releaseOwn(mine, 'expired');
    this.store.sweep(this.opts.releaseRetentionMs, this.opts.foreignExpiryGraceMs, self.name);
  }

  /** A peer said our claims lost: record its winners (the merge then releases ours). */
  private learnWinners(winners: readonly ClaimRecord[]): void {
    const outcome = this.store.merge(winners);
    this.counters.conflicts += outcome.conflicts.length;
    if (outcome.conflicts.length > 0) this.deps.logger?.debug({ conflicts: outcome.conflicts.length }, 'claim conflicts resolved');
  }
}
