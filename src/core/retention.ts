// What this member keeps of members that are gone: a dead or left record stays in the table for
// deadRetentionMs (still gossiped to, so a live member wrongly held dead hears it and refutes), then,
// reaped, a tombstone of it stays tombstoneMs so a stale alive cannot bring it back. Tombstones also
// travel in full-state exchanges, so the two sides of a healed partition learn they hold each other dead.
import type { CoreContext } from './context.js';
import type { CoreTimer } from './timers.js';
import type { MemberRecord, Millis } from './types.js';

/** A reaped member: its last record (dead or left), remembered until expiresAt. */
interface Tombstone {
  readonly record: MemberRecord;
  readonly expiresAt: Millis;
}

export class Retention {
  private readonly reapTimers = new Map<string, CoreTimer>();
  private readonly tombstones = new Map<string, Tombstone>();

  constructor(
    private readonly ctx: CoreContext,
    private readonly maxMembers: number,
  ) {}

  /** Another member's record changed state: a live one has no reap time, a gone one gets one. */
  stateChanged(name: string, wasLive: boolean, nowLive: boolean, now: Millis): void {
    const { timers } = this.ctx;
    // Dead to left keeps the reap time the death set: a force-leave must not make the record linger longer.
    if (!wasLive && !nowLive && this.reapTimers.has(name)) return;
    timers.cancel(this.reapTimers.get(name));
    if (nowLive) this.reapTimers.delete(name);
    else this.reapTimers.set(name, timers.schedule('reap', now + this.ctx.config.deadRetentionMs, name));
  }

  /** Whether `timer` is the reap time currently set for its member. */
  isReapDue(timer: CoreTimer): boolean {
    return this.reapTimers.get(timer.name) === timer;
  }

  /** `record` left the table: keep it as a tombstone until tombstoneMs from now. */
  bury(record: MemberRecord, now: Millis): void {
    const name = record.name;
    this.reapTimers.delete(name);
    const expiresAt = now + this.ctx.config.tombstoneMs;
    this.tombstones.delete(name);
    if (this.tombstones.size >= this.maxMembers) {
      // Churn through many names: forget the oldest tombstone (Map order is reap order).
      const oldest = this.tombstones.keys().next().value;
      if (oldest !== undefined) this.tombstones.delete(oldest);
    }
    this.tombstones.set(name, { record, expiresAt });
    this.ctx.timers.schedule('tombstone', expiresAt, name);
  }

  /** The last record of a reaped member, while its tombstone lasts. */
  tombstone(name: string): MemberRecord | undefined {
    return this.tombstones.get(name)?.record;
  }

  /** Whether any member is buried (a tombstone kept). */
  anyBuried(): boolean {
    return this.tombstones.size !== 0;
  }

  /** The member is back in the table (a refutation or a restart passed the tombstone). */
  unbury(name: string): void {
    // Called for every member a core adds (thousands per core in a simulation), mostly with none buried.
    if (this.tombstones.size !== 0) this.tombstones.delete(name);
  }

  onTombstoneTimer(timer: CoreTimer): void {
    const tomb = this.tombstones.get(timer.name);
    if (tomb !== undefined && tomb.expiresAt === timer.at) this.tombstones.delete(timer.name);
  }

  *buried(): IterableIterator<MemberRecord> {
    for (const tomb of this.tombstones.values()) yield tomb.record;
  }
}
