// Telling a restart from an impostor. A restarted member comes back under its name with a new lifeId and
// a higher incarnation (its boot time), and wins at once. Two live processes with one name instead keep
// superseding each other; both trackers below spot that and report it, and neither gives the name up.
import { NAME_CONFLICT_SUPERSESSIONS, NAME_CONFLICT_WINDOW_MS } from './limits.js';
import type { CoreTimer, Timers } from './timers.js';
import type { Address, Millis } from './types.js';

/** Senders of claims heard during one cooldown that get the deferred refutation directly; more are left to gossip. */
const MAX_DEFERRED_TELLERS = 16;

/**
 * Defends our name against alives we did not send: another life claiming it (a restart on a clock-behind
 * host, a second process, or a forgery), or our own life id with an incarnation or addresses we never
 * announced. The name is never given up: every such claim is refuted, but at most one refutation per
 * cooldown; claims within it are coalesced into one refutation at its end, above the highest claim, so
 * a flood (or two processes racing) costs one broadcast per cooldown. A conflict (claims by other lives
 * superseding us NAME_CONFLICT_SUPERSESSIONS times within the window, whatever their life ids) is
 * reported at most once per window.
 */
export class OwnName {
  private supersededAt: Millis[] = [];
  private lastReportAt = -Infinity;
  private lastRefuteAt = -Infinity;
  private deferred: { readonly timer: CoreTimer; incarnation: number; readonly tellers: Set<Address> } | null = null;

  constructor(
    private readonly timers: Timers,
    private readonly cooldownMs: () => number,
  ) {}

  /** Another life just claimed our name at or above our incarnation; true: report a name conflict now. */
  superseded(now: Millis): boolean {
    this.supersededAt = this.supersededAt.filter((t) => now - t < NAME_CONFLICT_WINDOW_MS);
    this.supersededAt.push(now);
    if (this.supersededAt.length > NAME_CONFLICT_SUPERSESSIONS) this.supersededAt.shift();
    if (this.supersededAt.length < NAME_CONFLICT_SUPERSESSIONS || now - this.lastReportAt < NAME_CONFLICT_WINDOW_MS) return false;
    this.lastReportAt = now;
    return true;
  }

  /**
   * A claim at `claimed` (sent from `from`, when known) to refute: true to refute now; false when
   * deferred to the cooldown's end, when `from` is among those told the refutation directly.
   */
  refuteNow(claimed: number, now: Millis, from: Address | null = null): boolean {
    if (this.deferred === null && now - this.lastRefuteAt >= this.cooldownMs()) {
      this.lastRefuteAt = now;
      return true;
    }
    if (this.deferred === null) this.deferred = { timer: this.timers.schedule('self-refute', this.lastRefuteAt + this.cooldownMs()), incarnation: claimed, tellers: new Set() };
    else this.deferred.incarnation = Math.max(this.deferred.incarnation, claimed);
    if (from !== null && this.deferred.tellers.size < MAX_DEFERRED_TELLERS) this.deferred.tellers.add(from);
    return false;
  }

  /** The deferred refutation is due: the highest claim and who sent claims, or null when `timer` is not ours. */
  onTimer(timer: CoreTimer, now: Millis): { readonly claimed: number; readonly tellers: ReadonlySet<Address> } | null {
    if (this.deferred === null || this.deferred.timer !== timer) return null;
    const { incarnation: claimed, tellers } = this.deferred;
    this.deferred = null;
    this.lastRefuteAt = now;
    return { claimed, tellers };
  }
}

/** Peers' lives per name: A -> B is a restart, A -> B -> A means two processes share the name. */
export class PeerLives {
  private readonly previous = new Map<string, { lifeId: string; reported: boolean }>();

  /** `name` changed life from `fromLife` to `toLife`; true when this reveals a conflict not yet reported. */
  changed(name: string, fromLife: string, toLife: string): boolean {
    const history = this.previous.get(name);
    if (history === undefined) {
      this.previous.set(name, { lifeId: fromLife, reported: false });
      return false;
    }
    const alternated = history.lifeId === toLife && !history.reported;
    if (alternated) history.reported = true;
    history.lifeId = fromLife;
    return alternated;
  }

  forget(name: string): void {
    this.previous.delete(name);
  }
}
