// A hybrid logical clock (Kulkarni et al., "Logical Physical Clocks", 2014) for claim stamps, and the
// skew guard around it. A stamp is (physical Unix ms, logical counter): it never runs behind the wall
// clock, never goes backwards, and after a member has seen a stamp its own next stamp is greater, so a
// claim made after seeing another member's release sorts after it whatever the two wall clocks say.
//
// The guard bounds what a clock may do to the claim order. A stamp more than `maxSkewMs` ahead of
// this member's wall clock is refused rather than followed (it would drag every later stamp ahead).
// Peers' wall clocks are sampled from every announcement they send and every ack they answer; a peer
// whose offset is beyond the tolerance is refused as a claimant, and when most peers are off from
// this member, it is this member's clock that is wrong: it stops claiming.

import type { ClaimRecord, ClaimRejectReason } from './types.js';

/** Largest logical counter; one more carries into the physical part. */
export const MAX_LOGICAL = 0xffff;

export interface HlcStamp {
  readonly physicalMs: number;
  readonly logical: number;
}

/** The fencing token of a stamp: physical * 65536 + logical. */
export function packStamp(stamp: HlcStamp): bigint {
  return (BigInt(stamp.physicalMs) << 16n) | BigInt(stamp.logical);
}

/** The stamp a fencing token was packed from. */
export function unpackStamp(fence: bigint): HlcStamp {
  return { physicalMs: Number(fence >> 16n), logical: Number(fence & 0xffffn) };
}

export class HybridClock {
  private physicalMs = 0;
  private logical = 0;

  constructor(private readonly wall: () => number) {}

  /** A stamp for a local event (a claim), greater than every stamp issued or observed before. */
  now(): HlcStamp {
    const wall = this.wall();
    if (wall > this.physicalMs) {
      this.physicalMs = wall;
      this.logical = 0;
    } else {
      this.bump();
    }
    return { physicalMs: this.physicalMs, logical: this.logical };
  }

  /** The physical part a stamp taken now would carry, without taking one (expiry checks). */
  peekMs(): number {
    return Math.max(this.wall(), this.physicalMs);
  }

  /** Moves the clock past a stamp seen from a peer (the caller has checked it is not too far ahead). */
  observe(stamp: HlcStamp): void {
    if (stamp.physicalMs > this.physicalMs || (stamp.physicalMs === this.physicalMs && stamp.logical > this.logical)) {
      this.physicalMs = stamp.physicalMs;
      this.logical = stamp.logical;
    }
  }

  private bump(): void {
    if (this.logical < MAX_LOGICAL) {
      this.logical++;
      return;
    }
    this.physicalMs++;
    this.logical = 0;
  }
}

export interface ClockGuardCounters {
  /** Claim records refused because their claimant's clock is off (a skewed peer, or a stamp too far ahead). */
  refusedClaims: number;
  /** Announcements whose sender's wall clock was off beyond the tolerance. */
  skewedAnnouncements: number;
}

export class ClockGuard {
  readonly hlc: HybridClock;
  readonly counters: ClockGuardCounters = { refusedClaims: 0, skewedAnnouncements: 0 };
  /** peer name -> its wall clock minus ours (ms), as last sampled. */
  private readonly offsets = new Map<string, number>();

  /** `peerCount`: members in the view other than this one (sampled or not). */
  constructor(
    private readonly wall: () => number,
    readonly maxSkewMs: number,
    private readonly peerCount: () => number,
  ) {
    this.hlc = new HybridClock(wall);
  }

  /** This member's wall clock (Unix ms), as the claims read it. */
  wallNow(): number {
    return this.wall();
  }

  /** Records a peer's wall clock reading, taken while ours read `localWallMs`. */
  sample(peer: string, peerWallMs: number, localWallMs = this.wall()): void {
    if (!Number.isSafeInteger(peerWallMs) || peerWallMs <= 0) return;
    this.offsets.set(peer, peerWallMs - localWallMs);
  }

  /** Forgets peers no longer in the view. */
  retain(peers: ReadonlySet<string>): void {
    for (const name of this.offsets.keys()) if (!peers.has(name)) this.offsets.delete(name);
  }

  /** The last sampled offset of `peer` (its clock minus ours), undefined when never sampled. */
  offsetOf(peer: string): number | undefined {
    return this.offsets.get(peer);
  }

  /** True when `peer`'s clock was off from ours beyond the tolerance at its last sample. */
  peerOff(peer: string): boolean {
    const offset = this.offsets.get(peer);
    return offset !== undefined && Math.abs(offset) > this.maxSkewMs;
  }

  /**
   * True when this member's own clock is the odd one: more than half of its peers are off from it (a
   * peer not sampled yet counts as agreeing). With two members neither can tell whose clock is wrong,
   * so both stop claiming.
   */
  selfOff(): boolean {
    const off = this.peersOff();
    return off > 0 && off * 2 > Math.max(this.peerCount(), this.offsets.size);
  }

  /** Peers whose clock is off from ours, as last sampled (metrics). */
  peersOff(): number {
    let off = 0;
    for (const offset of this.offsets.values()) if (Math.abs(offset) > this.maxSkewMs) off++;
    return off;
  }

  /**
   * Whether a live claim of `owner` stamped `stamp` may be taken, and if so moves the clock past it.
   * A sound member refuses claims of peers whose clock is off and stamps far ahead of its clock. A
   * member whose own clock is off (it makes no claims then) takes its peers' claims and follows their
   * stamps, so that its view agrees with theirs.
   */
  admitClaim(owner: string, stamp: HlcStamp): boolean {
    if (!this.selfOff() && (this.peerOff(owner) || stamp.physicalMs > this.wall() + this.maxSkewMs)) {
      this.counters.refusedClaims++;
      return false;
    }
    this.hlc.observe(stamp);
    return true;
  }

  /** Samples the clock an announcement of `owner` was sent at, counting it when that clock is off. */
  sampleAnnouncement(owner: string | undefined, senderWallMs: number | undefined): void {
    if (senderWallMs === undefined || owner === undefined) return;
    this.sample(owner, senderWallMs);
    if (this.peerOff(owner)) this.counters.skewedAnnouncements++;
  }

  /** Store hook for another member's record: its claim is refused when its clock is off; releases are always taken. */
  admitRecord(record: ClaimRecord): ClaimRejectReason | null {
    const stamp = { physicalMs: record.claimedAtMs, logical: record.claimedAtLogical };
    if (!record.released && !this.admitClaim(record.owner, stamp)) return 'clock-skew';
    if (record.released) this.observeNear(stamp);
    // A won race gives the winner a token above its claim stamp: our next claim of the id must top it.
    this.observeNear(unpackStamp(record.fence));
    return null;
  }

  /** Moves the clock past `stamp` unless it is further ahead of our wall clock than the tolerance. */
  observeNear(stamp: HlcStamp): void {
    if (stamp.physicalMs <= this.wall() + this.maxSkewMs) this.hlc.observe(stamp);
  }
}
