// When ownership tables are built: a table request that follows a quiet view goes to the builder at once;
// requests that arrive while the view keeps changing (a cluster forming, a mass join, a wave of deaths)
// are held until the view has been quiet for a short window, and never longer than a maximum delay after
// the first held one, so a member serves a table of the current view within a bound even under endless
// churn.
//
// Why: while a cluster forms, every member's view changes once per packet that brings news of a joiner.
// The builder coalesces requests that arrive during a build, but it starts the next build the moment
// one ends, so on a machine running many members each one builds back to back for as long as the view
// churns. Those builds (large tables, in a worker but on the same cores) take the CPU the members need to
// answer probes in time; late answers raise suspicions, and deaths change the view again: the cluster
// forms more slowly the more it builds. Only the last view of a burst is worth a table.
//
// Readiness needs a table: the first one is held by the same bound at most, and `busy` stays true while
// a request is held, so the member never counts a held view as built (readiness.ts).
import type { ClockPort, TableBuilderPort } from '../member/ports.js';
import type { PlacementTable } from '../placement/index.js';
import { ownerSet } from './table-builder.js';

export interface TableDebounceTuning {
  /** The view counts as quiet once no new owner set was asked for during this long, ms. */
  readonly quietMs: number;
  /** A held request goes to the builder at the latest this long after it was first held, ms. */
  readonly maxDelayMs: number;
}

/**
 * A cluster's news spreads in a few gossip rounds (200 ms on the LAN profile): a burst's requests come
 * closer together than the quiet window. The maximum delay is short against the settle window readiness
 * waits for and against a probe round, and long against a large table's build.
 */
export const DEFAULT_TABLE_DEBOUNCE: TableDebounceTuning = Object.freeze({ quietMs: 300, maxDelayMs: 2000 });

export class DebouncedTables implements TableBuilderPort {
  /** The owner set asked for last (sorted, joined): a repeat is no news. */
  private lastKey = '';
  /** When the last new owner set was asked for; -Infinity before the first. */
  private lastRequestAt = Number.NEGATIVE_INFINITY;
  private held: { readonly owners: readonly string[]; readonly since: number } | null = null;
  private cancelTimer: (() => void) | null = null;
  private timerAt = Number.POSITIVE_INFINITY;
  private closed = false;
  /** Requests handed to the builder, and of those, held first (for metrics and tests). */
  forwarded = 0;
  debounced = 0;

  constructor(
    private readonly builder: TableBuilderPort,
    private readonly clock: ClockPort,
    private readonly tuning: TableDebounceTuning = DEFAULT_TABLE_DEBOUNCE,
  ) {}

  emptyTable(): PlacementTable {
    return this.builder.emptyTable();
  }

  request(owners: readonly string[]): void {
    if (this.closed) return;
    const { sorted, key } = ownerSet(owners);
    if (key === this.lastKey) return;
    this.lastKey = key;
    const now = this.clock.now();
    const quiet = now - this.lastRequestAt >= this.tuning.quietMs;
    this.lastRequestAt = now;
    if (this.held === null && quiet) {
      this.forward(sorted);
      return;
    }
    this.held = { owners: sorted, since: this.held?.since ?? now };
    this.arm();
  }

  /** A build runs, or a request is held for one. */
  get busy(): boolean {
    return this.held !== null || this.builder.busy;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.held = null;
    this.disarm();
    await this.builder.close();
  }

  /** When the held request is due: the view quiet for the window, or the maximum delay reached. */
  private dueAt(): number {
    const held = this.held;
    if (held === null) return Number.POSITIVE_INFINITY;
    return Math.min(this.lastRequestAt + this.tuning.quietMs, held.since + this.tuning.maxDelayMs);
  }

  private arm(): void {
    const at = this.dueAt();
    // One timer per burst: a later request only moves the due time later, and firing early re-arms.
    if (this.cancelTimer !== null && this.timerAt <= at) return;
    this.disarm();
    this.timerAt = at;
    this.cancelTimer = this.clock.at(at, () => this.fire());
  }

  private fire(): void {
    this.cancelTimer = null;
    this.timerAt = Number.POSITIVE_INFINITY;
    const held = this.held;
    if (this.closed || held === null) return;
    if (this.clock.now() < this.dueAt()) {
      this.arm();
      return;
    }
    this.held = null;
    this.debounced++;
    this.forward(held.owners);
  }

  private forward(owners: readonly string[]): void {
    this.forwarded++;
    this.builder.request(owners);
  }

  private disarm(): void {
    this.cancelTimer?.();
    this.cancelTimer = null;
    this.timerAt = Number.POSITIVE_INFINITY;
  }
}
