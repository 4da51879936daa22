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
// A view that only grows (members joining: a cluster forming, a scale-up) is held longer, for a longer
// quiet window and a longer bound, than one that lost an owner. Until a table includes a joiner, the
// owners already in it keep answering for its keys, as they did before it came; a joiner's own
// readiness waits for its view to settle anyway. An owner that left or died, though, holds keys no one
// answers for until the next table, so a removal keeps the short bounds. On a machine running many
// members a cold start's builds otherwise come every few seconds per member, each one for a view that is
// stale by the time it is built. A build for a growing view also waits for the one before it to end, and
// its bounds count from then.
//
// Readiness needs a table: the first one is held by the same bound at most, and `busy` stays true while
// a request is held, so the member never counts a held view as built (readiness.ts). The table of one
// owner (a member alone, or bootstrapping) is a fill and follows the short bounds.
import type { ClockPort, TableBuilderPort } from '../member/ports.js';
import type { PlacementTable } from '../placement/index.js';
import { ownerSet } from './table-builder.js';

export interface TableDebounceTuning {
  /** The view counts as quiet once no new owner set was asked for during this long, ms. */
  readonly quietMs: number;
  /** A held request goes to the builder at the latest this long after it was first held, ms. */
  readonly maxDelayMs: number;
  /** The same two for an owner set of several that only adds owners to the last one handed on (a first set is not held longer). */
  readonly growthQuietMs: number;
  readonly growthMaxDelayMs: number;
}

/**
 * A cluster's news spreads in a few gossip rounds (200 ms on the LAN profile): a burst's requests come
 * closer together than the quiet window. The maximum delay is short against the settle window readiness
 * waits for and against a probe round, and long against a large table's build. A growing view's quiet
 * window is half the LAN settle window, so a joiner's table is normally built before its view has
 * settled; its bound is below readiness's cap on that wait (five settle windows).
 */
export const DEFAULT_TABLE_DEBOUNCE: TableDebounceTuning = Object.freeze({ quietMs: 300, maxDelayMs: 2000, growthQuietMs: 1000, growthMaxDelayMs: 6000 });

export class DebouncedTables implements TableBuilderPort {
  /** The owner set asked for last (sorted, joined): a repeat is no news. */
  private lastKey = '';
  /** The owner set last handed to the builder (sorted): what a growing view is measured against. */
  private lastForwarded: readonly string[] = [];
  /** When the last new owner set was asked for; -Infinity before the first. */
  private lastRequestAt = Number.NEGATIVE_INFINITY;
  private held: { readonly owners: readonly string[]; readonly since: number; readonly growth: boolean } | null = null;
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
    const growth = sorted.length > 1 && this.lastForwarded.length > 0 && includesAll(sorted, this.lastForwarded);
    const quiet = now - this.lastRequestAt >= this.tuning.quietMs;
    this.lastRequestAt = now;
    if (this.held === null && quiet && !growth) {
      this.forward(sorted);
      return;
    }
    this.held = { owners: sorted, since: this.held?.since ?? now, growth };
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
    const t = this.tuning;
    if (held.growth) return Math.min(this.lastRequestAt + t.growthQuietMs, held.since + t.growthMaxDelayMs);
    return Math.min(this.lastRequestAt + t.quietMs, held.since + t.maxDelayMs);
  }

  private arm(): void {
    const at = this.dueAt();
    // One timer per burst: a later request moves the due time later (a removal may move it earlier: the
    // timer is then set again), and firing early re-arms.
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
    const now = this.clock.now();
    if (now < this.dueAt()) {
      this.arm();
      return;
    }
    // A growing view's bounds count from when the build before has ended: on a loaded machine a build
    // can outlast the bounds, and the next one would start the moment it ends.
    if (held.growth && this.builder.busy) {
      this.held = { ...held, since: now };
      this.lastRequestAt = now;
      this.arm();
      return;
    }
    this.held = null;
    this.debounced++;
    this.forward(held.owners);
  }

  private forward(owners: readonly string[]): void {
    this.forwarded++;
    this.lastForwarded = owners;
    this.builder.request(owners);
  }

  private disarm(): void {
    this.cancelTimer?.();
    this.cancelTimer = null;
    this.timerAt = Number.POSITIVE_INFINITY;
  }
}

/** Whether sorted `set` holds every name of sorted `subset`. */
function includesAll(set: readonly string[], subset: readonly string[]): boolean {
  if (subset.length > set.length) return false;
  let i = 0;
  for (const name of subset) {
    while (i < set.length && (set[i] as string) < name) i++;
    if (i === set.length || set[i] !== name) return false;
    i++;
  }
  return true;
}
