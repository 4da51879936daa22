// Telling a restart from an impostor. A restarted member comes back under its name with a new lifeId and
// a higher incarnation (its boot time), and wins at once. Two live processes with one name instead keep
// superseding each other; both trackers below spot that, so it is reported once rather than flapping.
import { MAX_TRACKED_OTHER_LIVES, NAME_CONFLICT_SUPERSESSIONS, NAME_CONFLICT_WINDOW_MS } from './limits.js';
import type { Millis } from './types.js';

/** Our own name heard with another lifeId: refute it (a stale life), or report it (a second process). */
export class OtherLives {
  private readonly lives = new Map<string, { supersededAt: Millis[]; reported: boolean }>();

  /**
   * Another life `lifeId` just claimed our name with an incarnation at or above ours.
   * 'refute': raise our incarnation above it. 'conflict': it keeps coming back; report it now, once.
   * 'ignore': already reported; stop racing it.
   */
  supersededBy(lifeId: string, now: Millis): 'refute' | 'conflict' | 'ignore' {
    let life = this.lives.get(lifeId);
    if (life === undefined) {
      if (this.lives.size >= MAX_TRACKED_OTHER_LIVES) {
        const oldest = this.lives.keys().next().value;
        if (oldest !== undefined) this.lives.delete(oldest);
      }
      life = { supersededAt: [], reported: false };
      this.lives.set(lifeId, life);
    }
    if (life.reported) return 'ignore';
    life.supersededAt = life.supersededAt.filter((t) => now - t < NAME_CONFLICT_WINDOW_MS);
    life.supersededAt.push(now);
    if (life.supersededAt.length < NAME_CONFLICT_SUPERSESSIONS) return 'refute';
    life.reported = true;
    return 'conflict';
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
