// The claim table of one member: every claim and release it knows, for every owner, merged by the
// rules in types.ts. Pure data: no clock (callers pass `now`), no I/O. The service (service.ts)
// decides what to announce; the digest exchange reads and repairs it through ClaimStoreView.
import { validateClaimRecord } from './canonical.js';
import {
  compareClaimPrecedence,
  compareSameSlot,
  type ClaimChange,
  type ClaimConflict,
  type ClaimRecord,
  type ClaimRejectReason,
  type ClaimStoreView,
  type MergeOutcome,
} from './types.js';

/** Whether records of the record's owner (that life of it) may be held: 'gone' = dead, left or superseded. */
export type OwnerStatus = 'live' | 'gone' | 'unknown';

export interface ClaimStoreLimits {
  /**
   * Most records held of owners other than `self`, releases included; more is refused ('limit'). The
   * service scales it with the member count (setMaxRecords).
   */
  readonly maxRecords: number;
  /** Most live claims one owner may hold. */
  readonly maxClaimsPerOwner: number;
  /**
   * Most releases kept per owner: beyond it the owner's oldest release is forgotten before its
   * retention ends (compaction). Default: unbounded.
   */
  readonly maxReleasesPerOwner?: number;
  /** This member's name: its own records are bounded per owner only, never by the total. */
  readonly self?: () => string;
}

/** Which bound refused a record (for the error the caller gives). */
export type ClaimLimitHit = 'per-owner' | 'total';

/** Counters of the store's bounds. */
export interface ClaimStoreCounters {
  /** Releases forgotten early because their owner held more than maxReleasesPerOwner. */
  compactedReleases: number;
}

export interface ClaimStoreOptions {
  readonly limits: ClaimStoreLimits;
  /** Asked for every incoming record; default: every owner is 'live'. */
  readonly ownerStatus?: (record: ClaimRecord) => OwnerStatus;
  /** Called as every merge ends (its records are all in): the service looks at what changed then. */
  readonly merged?: () => void;
  /** Asked for every incoming record that passed ownerStatus: a reason to refuse it, or null. */
  readonly admit?: (record: ClaimRecord) => ClaimRejectReason | null;
  /**
   * Monotonic clock (ms) stamping when records arrived (the sweep ages them by it). Default: time
   * stands still, so nothing ages (pure merge tests); the service passes its clock port's.
   */
  readonly clock?: () => number;
}

export class ClaimStore implements ClaimStoreView {
  /** id -> the records of every owner that claimed it (nearly always one). */
  private readonly byId = new Map<string, ClaimRecord[]>();
  /** id -> the live record that owns it: the route hot path reads only this. */
  private readonly winners = new Map<string, ClaimRecord>();
  /** owner -> its live records' ids (GetLocalActorIds, per-owner bound). */
  private readonly liveByOwner = new Map<string, Set<string>>();
  /** owner -> ids of all its records, releases included (release on death). */
  private readonly allByOwner = new Map<string, Set<string>>();
  /** Releases by slot, with the local time they arrived: they are forgotten after a retention. */
  private readonly releasedAt = new Map<ClaimRecord, number>();
  /**
   * Live claims with a TTL, with the local (monotonic) time they lapse: arrival + ttlMs. A claim is
   * measured from its receipt, never by comparing its owner's clock with ours.
   */
  private readonly lapsesAt = new Map<ClaimRecord, number>();
  private records = 0;
  /** owner -> its releases, oldest first (compaction drops from the front). */
  private readonly releasesByOwner = new Map<string, Set<ClaimRecord>>();
  private maxRecords: number;
  readonly counters: ClaimStoreCounters = { compactedReleases: 0 };
  /** The bound that refused the last 'limit' (for the caller's error message). */
  lastLimit: ClaimLimitHit | null = null;
  private readonly listeners = new Set<(change: ClaimChange) => void>();
  private readonly ownerStatus: (record: ClaimRecord) => OwnerStatus;
  private readonly admit: (record: ClaimRecord) => ClaimRejectReason | null;
  private readonly clock: () => number;

  constructor(private readonly opts: ClaimStoreOptions) {
    this.ownerStatus = opts.ownerStatus ?? (() => 'live');
    this.admit = opts.admit ?? (() => null);
    this.maxRecords = opts.limits.maxRecords;
    this.clock = opts.clock ?? (() => 0);
  }

  size(): number {
    return this.records;
  }

  /** The bound on other owners' records now (it follows the member count). */
  recordLimit(): number {
    return this.maxRecords;
  }

  setMaxRecords(maxRecords: number): void {
    this.maxRecords = maxRecords;
  }

  /** Releases held of `owner`. */
  releaseCount(owner: string): number {
    return this.releasesByOwner.get(owner)?.size ?? 0;
  }

  claimCount(): number {
    return this.winners.size;
  }

  *entries(): Iterable<ClaimRecord> {
    for (const list of this.byId.values()) yield* list;
  }

  get(id: string): ClaimRecord | undefined {
    return this.winners.get(id);
  }

  recordsFor(id: string): readonly ClaimRecord[] {
    return this.byId.get(id) ?? [];
  }

  /** Live claims of `owner` (ids), for paging. */
  liveIdsOf(owner: string): ReadonlySet<string> {
    return this.liveByOwner.get(owner) ?? EMPTY;
  }

  onChange(listener: (change: ClaimChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  merge(records: readonly ClaimRecord[]): MergeOutcome {
    const now = this.clock();
    let applied = 0;
    let unchanged = 0;
    const rejected: { record: ClaimRecord; reason: ClaimRejectReason; detail?: string }[] = [];
    const conflicts = new Map<string, ClaimConflict>();
    for (const record of records) {
      if (validateClaimRecord(record) !== null) {
        rejected.push({ record, reason: 'invalid' });
        continue;
      }
      if (this.ownerStatus(record) === 'gone') {
        rejected.push({ record, reason: 'owner-gone' });
        continue;
      }
      const refusal = this.admit(record);
      if (refusal !== null) {
        rejected.push({ record, reason: refusal });
        continue;
      }
      const result = this.put(record, now);
      if (result === 'limit') rejected.push({ record, reason: 'limit', detail: this.limitDetail(record) });
      else if (result === 'unchanged') unchanged++;
      else applied++;
      if (result !== 'limit' && !record.released) {
        const winner = this.winners.get(record.id);
        if (winner !== undefined && winner.owner !== record.owner && !conflicts.has(record.id)) {
          conflicts.set(record.id, { id: record.id, winner, loser: record });
        }
      }
      if (typeof result === 'object' && result.displaced !== undefined && !conflicts.has(record.id)) {
        conflicts.set(record.id, { id: record.id, winner: record, loser: result.displaced });
      }
    }
    this.opts.merged?.();
    return { applied, unchanged, rejected, conflicts: [...conflicts.values()] };
  }

  /**
   * Removes every record of `owner` except those of life `keepLifeId` (all of them when omitted): the
   * owner died, left, or restarted. Returns the ids whose owner changed as a result.
   */
  dropOwner(owner: string, keepLifeId?: string): string[] {
    const changed: string[] = [];
    for (const id of [...(this.allByOwner.get(owner) ?? [])]) {
      const before = this.winners.get(id);
      const list = this.byId.get(id) ?? [];
      const r = list.find((x) => x.owner === owner);
      if (r === undefined || r.ownerLifeId === keepLifeId) continue;
      this.remove(r);
      if (this.winners.get(id) !== before) changed.push(id);
    }
    return changed;
  }

  /**
   * Forgets releases older than `retentionMs` and other owners' live claims that lapsed `graceMs` ago
   * (their AnnounceExpiry was lost), both on this member's monotonic clock, from when the record
   * arrived. Returns the records removed.
   */
  sweep(retentionMs: number, graceMs: number, self: string): ClaimRecord[] {
    const now = this.clock();
    const removed: ClaimRecord[] = [];
    for (const [record, at] of this.releasedAt) {
      if (now - at >= retentionMs) removed.push(record);
    }
    for (const [record, at] of this.lapsesAt) {
      if (record.owner !== self && now - at >= graceMs) removed.push(record);
    }
    for (const r of removed) this.remove(r);
    return removed;
  }

  /** Applies one valid record to its slot. */
  private put(record: ClaimRecord, now: number): 'unchanged' | 'limit' | { displaced: ClaimRecord | undefined } {
    const list = this.byId.get(record.id);
    const index = list === undefined ? -1 : list.findIndex((r) => r.owner === record.owner);
    const previous = index < 0 ? undefined : list![index];
    if (previous !== undefined && compareSameSlot(record, previous) <= 0) return 'unchanged';
    if (previous === undefined && record.owner !== this.opts.limits.self?.() && this.records >= this.maxRecords) {
      this.lastLimit = 'total';
      return 'limit';
    }
    if (!record.released && (previous === undefined || previous.released)) {
      const live = this.liveByOwner.get(record.owner)?.size ?? 0;
      if (live >= this.opts.limits.maxClaimsPerOwner) {
        this.lastLimit = 'per-owner';
        return 'limit';
      }
    }
    const winnerBefore = this.winners.get(record.id);
    if (previous !== undefined) {
      this.unindex(previous);
      list![index] = record;
    } else {
      if (list === undefined) this.byId.set(record.id, [record]);
      else list.push(record);
      this.records++;
      let ids = this.allByOwner.get(record.owner);
      if (ids === undefined) this.allByOwner.set(record.owner, (ids = new Set()));
      ids.add(record.id);
    }
    this.index(record, now);
    this.recomputeWinner(record.id);
    this.emit({ kind: 'set', record, previous });
    const winnerAfter = this.winners.get(record.id);
    const displaced =
      winnerBefore !== undefined && winnerAfter !== undefined && winnerAfter.owner !== winnerBefore.owner ? winnerBefore : undefined;
    if (record.released) this.compactReleases(record.owner);
    return { displaced };
  }

  private remove(record: ClaimRecord): void {
    const list = this.byId.get(record.id);
    if (list === undefined) return;
    const index = list.indexOf(record);
    if (index < 0) return;
    list.splice(index, 1);
    if (list.length === 0) this.byId.delete(record.id);
    this.records--;
    const ids = this.allByOwner.get(record.owner);
    ids?.delete(record.id);
    if (ids?.size === 0) this.allByOwner.delete(record.owner);
    this.unindex(record);
    this.recomputeWinner(record.id);
    this.emit({ kind: 'delete', record });
  }

  private limitDetail(record: ClaimRecord): string {
    if (this.lastLimit === 'per-owner') {
      return `${record.owner} holds ${this.opts.limits.maxClaimsPerOwner} live claims, the most one member may hold (--claim-max-per-member)`;
    }
    return `this member keeps at most ${this.maxRecords} claim records of other members (--claim-max-per-member and --claim-max-releases-per-member times the live members, at most --claim-max-records) and holds that many`;
  }

  /**
   * A release only has to outrun the claim it ends; an owner that releases faster than the retention
   * forgets them keeps its oldest beyond the budget no longer. Should the claim come back from a lagging
   * peer, its owner (the authority on its own claims) releases it again.
   */
  private compactReleases(owner: string): void {
    const budget = this.opts.limits.maxReleasesPerOwner;
    const releases = this.releasesByOwner.get(owner);
    if (budget === undefined || releases === undefined) return;
    while (releases.size > budget) {
      const oldest = releases.values().next().value as ClaimRecord;
      this.remove(oldest);
      this.counters.compactedReleases++;
    }
  }

  private index(record: ClaimRecord, now: number): void {
    if (record.released) {
      this.releasedAt.set(record, now);
      let releases = this.releasesByOwner.get(record.owner);
      if (releases === undefined) this.releasesByOwner.set(record.owner, (releases = new Set()));
      releases.add(record);
      return;
    }
    let ids = this.liveByOwner.get(record.owner);
    if (ids === undefined) this.liveByOwner.set(record.owner, (ids = new Set()));
    ids.add(record.id);
    if (record.ttlMs !== null) this.lapsesAt.set(record, now + record.ttlMs);
  }

  private unindex(record: ClaimRecord): void {
    if (record.released) {
      this.releasedAt.delete(record);
      const releases = this.releasesByOwner.get(record.owner);
      releases?.delete(record);
      if (releases?.size === 0) this.releasesByOwner.delete(record.owner);
      return;
    }
    this.lapsesAt.delete(record);
    const ids = this.liveByOwner.get(record.owner);
    if (ids === undefined) return;
    ids.delete(record.id);
    if (ids.size === 0) this.liveByOwner.delete(record.owner);
  }

  private recomputeWinner(id: string): void {
    let best: ClaimRecord | undefined;
    for (const r of this.byId.get(id) ?? []) {
      if (!r.released && (best === undefined || compareClaimPrecedence(r, best) < 0)) best = r;
    }
    if (best === undefined) this.winners.delete(id);
    else this.winners.set(id, best);
  }

  private emit(change: ClaimChange): void {
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch {
        // A listener's failure must not leave the store half-updated for the others.
      }
    }
  }
}

const EMPTY: ReadonlySet<string> = new Set();
