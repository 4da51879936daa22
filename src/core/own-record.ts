// Changes to our own record: refuting accusations (raising our incarnation above them), defending our
// name against alives we did not send (paced by OwnName; the name is never given up), leaving, and new
// metadata. Peers' news about us reaches here through Membership.apply.
import type { CoreContext } from './context.js';
import { OwnName } from './identity.js';
import type { AliveUpdate, DeadUpdate, LeftUpdate, SuspectUpdate } from './records.js';
import { aliveRecordOf, aliveUpdateOf, nextIncarnation, sameAdvertisement, withState } from './records.js';
import type { Roster } from './roster.js';
import { emitMemberChange } from './roster.js';
import type { CoreTimer } from './timers.js';
import type { Address, Effect, MemberMeta, MemberRecord, Millis, Update } from './types.js';

type Accusation = 'suspect' | 'dead' | 'left' | 'stale-life';
/** What news about us asks of its sender's packet: our current alive straight back ('stale': it missed a refutation). */
export type SelfNewsAnswer = 'stale' | 'refuted' | null;

export class OwnRecord {
  private readonly ownName: OwnName;
  private leaving = false;

  constructor(
    private readonly ctx: CoreContext,
    private readonly roster: Roster,
    private readonly broadcast: (update: Update, now: Millis) => void,
    /** One packet straight to `to` leading with `update` (not queued for gossip). */
    private readonly tell: (to: Address, update: Update, out: Effect[]) => void,
  ) {
    this.ownName = new OwnName(ctx.timers, () => ctx.config.probeIntervalMs);
  }

  isLeaving(): boolean {
    return this.leaving;
  }

  /** An accusation about us older than our incarnation: its sender missed our refutation. */
  isStaleAccusation(u: SuspectUpdate | DeadUpdate | LeftUpdate): boolean {
    return u.name === this.roster.selfName && !this.leaving && u.incarnation < this.roster.self.incarnation;
  }

  /**
   * An alive about our name that we did not send: another life (a restart on a clock-behind host, a
   * second process, a forger), or our own life at an incarnation or with addresses we never announced.
   * Refuted every time (OwnName paces it); the name is never given up.
   */
  aliveAboutSelf(u: AliveUpdate, now: Millis, out: Effect[], from: Address | null): SelfNewsAnswer {
    const self = this.roster.self;
    if (this.leaving) return null;
    if (u.lifeId === self.lifeId) {
      const forged = u.incarnation > self.incarnation || (u.incarnation === self.incarnation && !sameAdvertisement(self, aliveRecordOf(u)));
      return forged ? this.defendName(u.incarnation, now, out, from) : null;
    }
    // Another life's claim we already passed: its sender may still hold it.
    if (u.incarnation < self.incarnation) return 'stale';
    if (this.ownName.superseded(now)) {
      this.ctx.counters.nameConflicts++;
      out.push({
        type: 'event',
        event: { type: 'name-conflict', name: self.name, localLifeId: self.lifeId, otherLifeId: u.lifeId, otherAddr: u.gossipAddr },
      });
    }
    return this.defendName(u.incarnation, now, out, from);
  }

  private defendName(claimed: number, now: Millis, out: Effect[], from: Address | null): SelfNewsAnswer {
    if (!this.ownName.refuteNow(claimed, now, from)) return null;
    this.refute(claimed, 'stale-life', now, out);
    return 'refuted';
  }

  /**
   * The paced refutation of claims on our name heard during the cooldown. Whoever sent us a claim in
   * that time gets the refutation directly too, as it would have at once without the pacing.
   */
  onSelfRefuteTimer(timer: CoreTimer, now: Millis, out: Effect[]): void {
    const deferred = this.ownName.onTimer(timer, now);
    if (deferred === null || this.leaving || deferred.claimed < this.roster.self.incarnation) return;
    this.refute(deferred.claimed, 'stale-life', now, out);
    const self = this.roster.self;
    for (const teller of deferred.tellers) if (teller !== self.gossipAddr) this.tell(teller, aliveUpdateOf(self), out);
  }

  /**
   * Raise our incarnation above an accusation and tell everyone we are alive. An accusation at the
   * ceiling is answered at the ceiling, which peers accept from our own life (refutesAtCeiling).
   */
  refute(accusedIncarnation: number, accusation: Accusation, now: Millis, out: Effect[]): void {
    const before = this.roster.self;
    const incarnation = nextIncarnation(Math.max(before.incarnation, accusedIncarnation));
    const record = withState(before, 'alive', incarnation);
    this.roster.setRecord(before, record, now);
    this.broadcast(aliveUpdateOf(record), now);
    // Being accused hints that we are the slow one (Lifeguard); a stale life is not a health problem.
    if (accusation !== 'stale-life') this.ctx.awareness.applyDelta(1);
    this.ctx.counters.refutations++;
    out.push({ type: 'event', event: { type: 'refuted', incarnation, accusation } });
  }

  /** Marks ourselves left with incarnation + 1 (at most the ceiling) and broadcasts it. Returns the new record. */
  leave(now: Millis, out: Effect[]): MemberRecord {
    this.leaving = true;
    const before = this.roster.self;
    const record = withState(before, 'left', nextIncarnation(before.incarnation));
    this.roster.setRecord(before, record, now);
    emitMemberChange(out, before.state, record, 'left');
    this.broadcast({ kind: 'left', name: record.name, incarnation: record.incarnation }, now);
    return record;
  }

  updateMeta(meta: MemberMeta, now: Millis, out: Effect[]): void {
    const before = this.roster.self;
    const record: MemberRecord = { ...before, incarnation: nextIncarnation(before.incarnation), meta };
    this.roster.setRecord(before, record, now);
    emitMemberChange(out, before.state, record, 'meta');
    this.broadcast(aliveUpdateOf(record), now);
  }
}
