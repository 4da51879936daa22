// What the simulated members' claims did, for the report: claims made and refused, races lost,
// how long a claim took to be known by every member, members whose clock was found off, and the
// safety figure: two members serving one table version that each hold themselves the owner of an id.
import { round } from './stats.js';

/** One claim made (an id newly claimed by a member), until every member live then has heard of it. */
interface Spreading {
  readonly madeAt: number;
  /** Members still to hear of it. */
  readonly waiting: Set<string>;
}

export interface ClaimsReport {
  /** Claim attempts the workload made (a claim of a random id on a random live member, as POST /v1/claims). */
  attempts: number;
  /** Attempts that claimed the id (it was free as far as that member knew). */
  claims_made: number;
  renewed: number;
  owned_elsewhere: number;
  /** Attempts on a member not serving (joining, leaving): not made. */
  not_serving: number;
  /** Attempts refused because the member found its own clock off from most peers'. */
  refused_own_clock_skew: number;
  /** Claim records members refused because their claimant's clock was off (or the stamp too far ahead). */
  refused_records_clock_skew: number;
  /** Members that, at the end, find their own clock off from most peers' (they take no claims). */
  members_clock_off: number;
  /** Races resolved where two members' claims of one id met (counted by the member that saw them meet). */
  conflicts: number;
  /** Claims their claimant gave up because an earlier claim won. */
  claims_lost: number;
  /** Claims released because their owner died or left (counted by every member that dropped them). */
  released_on_departure: number;
  /** Claim made -> known by every member live when it was made, over claims that got there. */
  propagation_p50_ms: number | null;
  propagation_p99_ms: number | null;
  propagation_max_ms: number | null;
  /** Claims some member live when it was made never heard of (it crashed, a cut, or the claim lost first). */
  propagation_unfinished: number;
  /** Samples of every member's claims taken. */
  samples: number;
  /**
   * (sample, id, table version) triples where two or more members serving that version each held
   * themselves the owner, with both claims older than the race window. Races inside one announcement
   * window are left out (fencing tokens cover those); a partition before it is detected is not.
   */
  double_owner_samples: number;
  /** The largest number of members holding themselves the owner of one id at one version, at a sample. */
  max_owners_one_version: number;
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(p * sorted.length)));
  return sorted[rank - 1] ?? null;
}

export class ClaimsFigures {
  attempts = 0;
  made = 0;
  renewed = 0;
  ownedElsewhere = 0;
  notServing = 0;
  refusedOwnSkew = 0;
  samples = 0;
  doubleOwnerSamples = 0;
  maxOwnersOneVersion = 0;
  private readonly spreading = new Map<string, Spreading>();
  private readonly latencies: number[] = [];

  /** A member claimed `id` (fencing token `fence`) at `now`; `others`: the members that should hear of it. */
  claimMade(owner: string, id: string, fence: bigint, others: readonly string[], now: number): void {
    this.made++;
    if (others.length === 0) return;
    this.spreading.set(spreadKey(owner, id, fence), { madeAt: now, waiting: new Set(others) });
  }

  /** `member` stored a live claim of `owner`. */
  claimHeard(member: string, owner: string, id: string, fence: bigint, now: number): void {
    if (this.spreading.size === 0) return;
    const key = spreadKey(owner, id, fence);
    const s = this.spreading.get(key);
    if (s === undefined || !s.waiting.delete(member)) return;
    if (s.waiting.size > 0) return;
    this.spreading.delete(key);
    this.latencies.push(now - s.madeAt);
  }

  /** A member crashed or left: claims that wait only for it would never finish; it no longer counts. */
  memberGone(name: string, now: number): void {
    for (const [key, s] of this.spreading) {
      if (!s.waiting.delete(name) || s.waiting.size > 0) continue;
      // Everyone still there heard of it.
      this.spreading.delete(key);
      this.latencies.push(now - s.madeAt);
    }
  }

  /** One sample: per id and table version, how many members held themselves the owner. */
  sampled(ownersByIdAndVersion: ReadonlyMap<string, number>): void {
    this.samples++;
    for (const owners of ownersByIdAndVersion.values()) {
      if (owners > this.maxOwnersOneVersion) this.maxOwnersOneVersion = owners;
      if (owners > 1) this.doubleOwnerSamples++;
    }
  }

  report(counts: {
    refusedRecords: number;
    membersClockOff: number;
    conflicts: number;
    lost: number;
    releasedOnDeparture: number;
  }): ClaimsReport {
    const sorted = [...this.latencies].sort((a, b) => a - b);
    return {
      attempts: this.attempts,
      claims_made: this.made,
      renewed: this.renewed,
      owned_elsewhere: this.ownedElsewhere,
      not_serving: this.notServing,
      refused_own_clock_skew: this.refusedOwnSkew,
      refused_records_clock_skew: counts.refusedRecords,
      members_clock_off: counts.membersClockOff,
      conflicts: counts.conflicts,
      claims_lost: counts.lost,
      released_on_departure: counts.releasedOnDeparture,
      propagation_p50_ms: round(percentile(sorted, 0.5), 1),
      propagation_p99_ms: round(percentile(sorted, 0.99), 1),
      propagation_max_ms: round(percentile(sorted, 1), 1),
      propagation_unfinished: this.spreading.size,
      samples: this.samples,
      double_owner_samples: this.doubleOwnerSamples,
      max_owners_one_version: this.maxOwnersOneVersion,
    };
  }
}

function spreadKey(owner: string, id: string, fence: bigint): string {
  return `${owner}\u0000${id}\u0000${fence}`;
}
