// The agent's rule for when a view change gets its table (src/runtime/table-debounce.ts), without the
// timers: a request after a quiet view is built at once; requests while the view keeps changing are held
// until it has been quiet for a window, and never longer than a maximum delay after the first held one.
import type { TableDebounceTuning } from '../runtime/table-debounce.js';

export class TableRequestHold {
  /** When the last new owner set was asked for; -Infinity before the first. */
  private lastRequestAt = Number.NEGATIVE_INFINITY;
  /** When the held request was first held; null: none held. */
  private heldSince: number | null = null;

  constructor(private readonly tuning: TableDebounceTuning) {}

  /** A new owner set is asked for at `now`: true to build it now, false if it is held (until dueAt). */
  request(now: number): boolean {
    const quiet = now - this.lastRequestAt >= this.tuning.quietMs;
    this.lastRequestAt = now;
    if (this.heldSince === null && quiet) return true;
    this.heldSince ??= now;
    return false;
  }

  /** When the held request goes to the builder (Infinity when none is held). */
  dueAt(): number {
    if (this.heldSince === null) return Number.POSITIVE_INFINITY;
    return Math.min(this.lastRequestAt + this.tuning.quietMs, this.heldSince + this.tuning.maxDelayMs);
  }

  /** Whether the held request is due at `now`; if so it is no longer held. */
  take(now: number): boolean {
    if (this.heldSince === null || now < this.dueAt()) return false;
    this.heldSince = null;
    return true;
  }
}
