// Lifeguard dynamic suspicion (memberlist suspicion.go). A suspicion starts with a long timeout (max) so a
// lone, possibly unhealthy accuser cannot kill a member quickly; each independent confirmation shrinks it
// on a log scale toward min, reached once k distinct members agree.

/** Suspicion floor: suspicionMult * max(1, log10(max(n, 1))) * probeInterval, in whole ms. */
export function suspicionMinTimeout(suspicionMult: number, clusterSize: number, probeIntervalMs: number): number {
  const nodeScale = Math.max(1, Math.log10(Math.max(1, clusterSize)));
  return Math.floor(suspicionMult * nodeScale * probeIntervalMs);
}

/**
 * Expected confirmations: suspicionMult - 2 (nominal timeout lands two probe periods early), or 0 when the
 * cluster is too small to supply them (n - 2 excludes this member and the suspect).
 */
export function expectedConfirmations(suspicionMult: number, clusterSize: number): number {
  const k = suspicionMult - 2;
  if (k < 0 || clusterSize - 2 < k) return 0;
  return k;
}

/**
 * Total suspicion timeout after `confirmations` independent confirmations, of `expected` (k):
 * max(min, max - (log(c + 1) / log(k + 1)) * (max - min)), floored to whole ms. With k = 0 it is min.
 */
export function suspicionTimeout(confirmations: number, expected: number, minMs: number, maxMs: number): number {
  if (expected < 1) return minMs;
  const fraction = Math.log(confirmations + 1) / Math.log(expected + 1);
  const raw = Math.floor(maxMs - fraction * (maxMs - minMs));
  return raw < minMs ? minMs : raw;
}

/** One suspected member's timer state; the core owns the actual deadline in its timer heap. */
export class Suspicion {
  private readonly accusers = new Set<string>();
  private confirmationCount = 0;

  constructor(
    readonly incarnation: number,
    readonly startedAt: number,
    firstAccuser: string,
    private readonly expected: number,
    private readonly minMs: number,
    private readonly maxMs: number,
  ) {
    // The first accuser started the suspicion; it does not count as its own confirmation.
    this.accusers.add(firstAccuser);
  }

  get confirmations(): number {
    return this.confirmationCount;
  }

  /** When this suspicion expires given the confirmations so far. */
  deadline(): number {
    return this.startedAt + suspicionTimeout(this.confirmationCount, this.expected, this.minMs, this.maxMs);
  }

  /**
   * Records an accusation from `accuser`. True when it was a new, independent one that moved the deadline
   * (then the news is worth re-gossiping); false for repeats or once k confirmations are in.
   */
  confirm(accuser: string): boolean {
    if (this.confirmationCount >= this.expected) return false;
    if (this.accusers.has(accuser)) return false;
    this.accusers.add(accuser);
    this.confirmationCount++;
    return true;
  }
}
