// Ids of sealed requests seen within their time window, so a recorded request cannot be sent again
// while its timestamp is still acceptable. Shared by keyring operations and gRPC key proofs: each
// stamps a time and a unique id inside its seal, and the receiver refuses one off its clock by more
// than the window or one whose id it has already admitted.

export interface ReplayGuardOptions {
  /** How far a request's time may be from the receiver's clock, either way. */
  readonly maxSkewMs: number;
  /** Live ids kept at most; past it, further requests are refused until ids expire (fail closed). */
  readonly maxEntries: number;
  /** What is guarded, for messages ("sealed request", "key proof"). */
  readonly what: string;
  readonly now?: () => number;
}

export class ReplayGuard {
  /** id -> when it may be forgotten. Map order is arrival order. */
  private readonly seen = new Map<string, number>();
  private readonly now: () => number;

  constructor(private readonly opts: ReplayGuardOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** null when `at` is within the window and `id` was not admitted yet; otherwise why not. Records nothing. */
  check(id: string, at: number): string | null {
    const now = this.now();
    const { maxSkewMs, what } = this.opts;
    if (Math.abs(now - at) > maxSkewMs) {
      return `${what} is ${Math.round((now - at) / 1000)} s off this member's clock (at most ${maxSkewMs / 1000} s): a replay or a skewed clock`;
    }
    this.expire(now);
    if (this.seen.has(id)) return `${what} already used here (a replay)`;
    return null;
  }

  /** As check, and on success records `id` until no copy of it could pass the time check. */
  admit(id: string, at: number): string | null {
    const refusal = this.check(id, at);
    if (refusal !== null) return refusal;
    if (this.seen.size >= this.opts.maxEntries) return `too many ${this.opts.what}s within the replay window; retry later`;
    // Acceptable until `at` + skew; kept at least as long as now + skew covers a clock that steps back.
    this.seen.set(id, Math.max(at, this.now()) + this.opts.maxSkewMs);
    return null;
  }

  /** Ids held (bounded by maxEntries). */
  get size(): number {
    return this.seen.size;
  }

  private expire(now: number): void {
    for (const [old, until] of this.seen) {
      if (until > now) break;
      this.seen.delete(old);
    }
  }
}
