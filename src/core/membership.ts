// SWIM's rules for news about other members (section 4.2 precedence, as memberlist applies it), with
// Lifeguard's dynamic suspicion: which incoming update or full-state record changes the Roster, which
// are old news, and the verdicts of our own probes and suspicion timers. News about ourselves goes to
// OwnRecord. It decides what the news means; Dissemination spreads whatever it passes to `broadcast`.
import type { CoreContext } from './context.js';
import type { News } from './dissemination.js';
import { PeerLives } from './identity.js';
import type { OwnRecord, SelfNewsAnswer } from './own-record.js';
import type { AliveUpdate, DeadUpdate, LeftUpdate, SuspectUpdate } from './records.js';
import { aliveRecordOf, aliveUpdateOf, refutesAtCeiling, sameAdvertisement, withState } from './records.js';
import type { Roster } from './roster.js';
import { emitMemberChange } from './roster.js';
import type { CoreTimer } from './timers.js';
import type { Address, Effect, MemberMeta, MemberRecord, Millis, Update } from './types.js';
import { isValidRecord, isValidUpdate } from './validate.js';

/** Where news came from, for event reasons. */
export type Source = 'gossip' | 'push-pull';

export class Membership {
  private readonly peerLives = new PeerLives();
  private joined = false;

  constructor(
    private readonly ctx: CoreContext,
    private readonly roster: Roster,
    private readonly own: OwnRecord,
    private readonly maxMembers: number,
    /** What the news is (Dissemination's News): an introduction waits behind news about known members. */
    private readonly broadcast: (update: Update, now: Millis, news?: News) => void,
    /** One packet straight to `to` leading with `update` (not queued for gossip). */
    private readonly tell: (to: Address, update: Update, out: Effect[]) => void,
  ) {}

  isJoined(): boolean {
    return this.joined;
  }

  markJoined(): void {
    this.joined = true;
  }

  /**
   * Starts the member as one that has already converged with `records` (a simulation's converged start):
   * each record not yet held is taken as it is, the same object every core holds, with no news queued,
   * since every member already knows it, and no member event (the caller tells its listeners the whole
   * view at once). Records must be alive and valid; the caller built them.
   */
  seedConverged(records: readonly MemberRecord[]): void {
    // Holding only itself (as it starts), a core takes the list whole: it names each member once.
    if (this.roster.size === 1) this.roster.addAll(records);
    else for (const record of records) if (!this.roster.has(record.name)) this.roster.add(record);
    this.joined = true;
  }

  // --- news ---------------------------------------------------------------------------------

  /**
   * Applies one update from a peer (sent from `from`, null when not known); malformed ones are counted
   * and ignored. About us it returns what the sender should get back: our current alive record, either
   * because the accusation was stale (older than our incarnation: it missed our refutation) or because
   * we refuted it just now. Straight back, because the sender may be the only one holding it and a
   * gossiped refutation reaches it only by chance when the table is full of other (possibly invented)
   * members.
   */
  apply(update: Update, source: Source, now: Millis, out: Effect[], from: Address | null = null): SelfNewsAnswer {
    if (!isValidUpdate(update) || (update.kind === 'alive' && !this.carriable(update))) {
      this.ctx.counters.updatesRejected++;
      return null;
    }
    const refutations = this.ctx.counters.refutations;
    switch (update.kind) {
      case 'alive':
        if (update.name === this.roster.selfName) return this.own.aliveAboutSelf(update, now, out, from);
        this.applyAlive(update, source, now, out, from);
        break;
      case 'suspect':
        if (this.own.isStaleAccusation(update)) return 'stale';
        this.applySuspect(update, source, now, out);
        break;
      case 'dead':
        if (this.own.isStaleAccusation(update)) return 'stale';
        this.applyDead(update, source, now, out);
        break;
      case 'left':
        if (this.own.isStaleAccusation(update)) return 'stale';
        this.applyLeft(update, now, out);
        break;
    }
    return update.name === this.roster.selfName && this.ctx.counters.refutations !== refutations ? 'refuted' : null;
  }

  /**
   * An accusation (suspect, dead, left) about another member at an incarnation below the alive record we
   * hold: the sender missed every copy of that member's refutation. Returns our alive record, to go
   * straight back to the sender, or null. Without it the sender learns the refutation only if it probes
   * the accused (or is probed by it) before its suspicion runs out, and one more accuser takes that
   * suspicion to its minimum; the members it gossips the stale accusation to all hold the refutation.
   */
  newerAliveThan(update: Update): Update | null {
    // Alive news is never an accusation: most gossip is, so it skips the check.
    if (typeof update !== 'object' || update === null || update.kind === 'alive') return null;
    if (!isValidUpdate(update) || update.name === this.roster.selfName) return null;
    const held = this.roster.get(update.name);
    if (held === undefined || held.state !== 'alive' || held.incarnation <= update.incarnation) return null;
    return aliveUpdateOf(held);
  }

  /** Addresses the control plane can carry (SwimCoreOptions.acceptsAddress). */
  private carriable(r: { readonly gossipAddr: Address; readonly grpcAddr: Address; readonly meta: MemberMeta }): boolean {
    const accepts = this.ctx.acceptsAddress;
    return accepts(r.gossipAddr) && accepts(r.grpcAddr) && (r.meta.appAddr === '' || accepts(r.meta.appAddr));
  }

  /** Our own probe of `name` (at `incarnation`) went unanswered. */
  suspectAfterFailedProbe(name: string, incarnation: number, now: Millis, out: Effect[]): void {
    const state = this.roster.stateOf(name);
    if (state !== 'alive' && state !== 'suspect') return;
    this.ctx.counters.suspicionsRaised++;
    this.applySuspect({ kind: 'suspect', name, incarnation, from: this.roster.selfName }, 'probe-failed', now, out);
  }

  /** memberlist mergeState: a remote 'dead' only makes us suspect (we check for ourselves); left stays left. */
  merge(remote: readonly MemberRecord[], now: Millis, out: Effect[]): void {
    const selfName = this.roster.selfName;
    const count = Math.min(Array.isArray(remote) ? remote.length : 0, this.maxMembers + 1);
    for (let i = 0; i < count; i++) {
      const r = remote[i] as MemberRecord;
      if (typeof r !== 'object' || r === null) {
        this.ctx.counters.updatesRejected++;
        continue;
      }
      // Most of a periodic exchange is news we already have (often the very same record object).
      const local = this.roster.get(r.name);
      if (local !== undefined && (local === r || (local.incarnation === r.incarnation && local.state === r.state && local.lifeId === r.lifeId))) {
        if (r.name !== selfName) this.joined = true;
        continue;
      }
      if (!isValidRecord(r) || !this.carriable(r)) {
        this.ctx.counters.updatesRejected++;
        continue;
      }
      if (r.name === selfName) {
        this.apply(selfRecordAsUpdate(r), 'push-pull', now, out);
        continue;
      }
      this.joined = true;
      switch (r.state) {
        case 'alive':
          // `local` is what applyAlive would look up again: a full state is mostly members new to us.
          this.applyAliveOver(local, aliveUpdateOf(r), 'push-pull', now, out, null);
          break;
        case 'suspect':
        case 'dead':
          // Learn a member we never heard of that is merely suspected (with its addresses) before judging it
          // ourselves; one reported dead stays unknown, or tombstones passed along would resurrect the dead.
          if (r.state === 'suspect' && !this.roster.has(r.name)) this.applyAlive(aliveUpdateOf(r), 'push-pull', now, out);
          this.applySuspect({ kind: 'suspect', name: r.name, incarnation: r.incarnation, from: selfName }, 'push-pull', now, out);
          break;
        case 'left':
          this.applyLeft({ kind: 'left', name: r.name, incarnation: r.incarnation }, now, out);
          break;
      }
    }
  }

  /**
   * An operator's force-leave: a member this member holds dead is marked left at its incarnation, in this
   * view only. Nothing is gossiped: peers keep dead over left (the precedence below), and a left notice
   * would make peers that still hold the member alive drop it. Refused (the reason returned) for
   * ourselves, for unknown members and for live (alive, suspect) ones; null when done or already left.
   */
  forceLeave(name: string, now: Millis, out: Effect[]): 'self' | 'unknown' | 'alive' | 'suspect' | null {
    if (name === this.roster.selfName) return 'self';
    const before = this.roster.get(name);
    if (before === undefined) return 'unknown';
    if (before.state === 'alive' || before.state === 'suspect') return before.state;
    if (before.state === 'left') return null;
    const record = withState(before, 'left', before.incarnation);
    this.roster.setRecord(before, record, now);
    emitMemberChange(out, before.state, record, 'force-leave');
    return null;
  }

  // --- timers -------------------------------------------------------------------------------

  onSuspicionTimer(timer: CoreTimer, now: Millis, out: Effect[]): void {
    const name = timer.name;
    if (!this.roster.suspicions.isCurrent(timer)) return;
    const before = this.roster.get(name);
    if (before === undefined || before.state !== 'suspect') return;
    const record = withState(before, 'dead', before.incarnation);
    this.roster.setRecord(before, record, now);
    this.broadcast({ kind: 'dead', name, incarnation: before.incarnation, from: this.roster.selfName }, now);
    emitMemberChange(out, before.state, record, 'suspicion-timeout');
  }

  /** Dead/left retention is over: forget the member, but keep a tombstone against stale alives. */
  onReapTimer(timer: CoreTimer, now: Millis, out: Effect[]): void {
    const name = timer.name;
    if (!this.roster.retention.isReapDue(timer)) return;
    const record = this.roster.get(name);
    if (record === undefined) return;
    this.roster.reap(record, now);
    this.peerLives.forget(name);
    out.push({ type: 'event', event: { type: 'reaped', name } });
  }

  // --- the rules ----------------------------------------------------------------------------

  private applyAlive(u: AliveUpdate, source: Source, now: Millis, out: Effect[], from: Address | null = null): void {
    if (u.name === this.roster.selfName) {
      this.own.aliveAboutSelf(u, now, out, null);
      return;
    }
    this.applyAliveOver(this.roster.get(u.name), u, source, now, out, from);
  }

  /** applyAlive about another member, given what we hold about it (`before`, looked up by the caller). */
  private applyAliveOver(before: MemberRecord | undefined, u: AliveUpdate, source: Source, now: Millis, out: Effect[], from: Address | null): void {
    if (before === undefined) {
      this.addMember(u, now, out, from);
      return;
    }
    // Alive never wins a tie (an equal incarnation is old news or a conflicting claim), except the
    // member's own refutation at the ceiling.
    if (u.incarnation <= before.incarnation && !refutesAtCeiling(u, before, from)) return;
    const lifeChanged = u.lifeId !== before.lifeId;
    if (lifeChanged && this.peerLives.changed(u.name, before.lifeId, u.lifeId)) {
      this.ctx.counters.nameConflicts++;
      out.push({
        type: 'event',
        event: { type: 'name-conflict', name: u.name, localLifeId: before.lifeId, otherLifeId: u.lifeId, otherAddr: u.gossipAddr },
      });
    }
    const record = aliveRecordOf(u);
    this.roster.setRecord(before, record, now);
    // A new life is a member (re)joining: its news goes out as soon as a new member's would.
    this.broadcast(u, now, lifeChanged ? 'arrival' : 'change');
    // Another life, or another address, now holds a name we held live: if the member we knew still runs
    // there (the news is forged), it refutes and answers us directly (tellAccused).
    if (lifeChanged || before.gossipAddr !== u.gossipAddr) this.tellAccused(before, u, out);
    let reason: string | null = null;
    if (lifeChanged) reason = 'restarted';
    else if (before.state === 'suspect') reason = 'refuted';
    else if (before.state !== 'alive') reason = source;
    else if (!sameAdvertisement(before, record)) reason = 'meta';
    if (reason !== null) emitMemberChange(out, before.state, record, reason);
  }

  private addMember(u: AliveUpdate, now: Millis, out: Effect[], from: Address | null): void {
    const tomb = this.roster.retention.tombstone(u.name);
    // Recently reaped: only a later incarnation (a refutation or a restart) brings it back.
    if (tomb !== undefined && u.incarnation <= tomb.incarnation && !refutesAtCeiling(u, tomb, from)) return;
    if (this.roster.size >= this.maxMembers) {
      this.ctx.counters.membersDropped++;
      return;
    }
    const record = aliveRecordOf(u);
    this.roster.add(record);
    this.joined = true;
    this.broadcast(u, now, 'introduction');
    emitMemberChange(out, null, record, 'joined');
  }

  /**
   * News from someone else just demoted `before`, a member we held live (a suspicion, a leave, its name
   * under another life or address): one packet with that news goes to the address we held it at. A
   * member that still runs there refutes and answers us directly (`apply` returns 'refuted'), so a
   * forged record lasts one round trip here. Gossip alone would reach it only by chance once invented
   * members fill the table, and nobody gossips to or probes a member held left, so a forged leave
   * would otherwise last until the record is forgotten. One packet per change: a flood of forgeries
   * costs the sender as much as it costs us.
   */
  private tellAccused(before: MemberRecord, news: Update, out: Effect[]): void {
    if (before.state === 'alive' || before.state === 'suspect') this.tell(before.gossipAddr, news, out);
  }

  private applySuspect(u: SuspectUpdate, reason: string, now: Millis, out: Effect[]): void {
    const before = this.roster.get(u.name);
    if (before === undefined || u.incarnation < before.incarnation) return;
    if (u.name === this.roster.selfName) {
      if (!this.own.isLeaving()) this.own.refute(u.incarnation, 'suspect', now, out);
      return;
    }
    const suspicions = this.roster.suspicions;
    if (before.state === 'suspect') {
      if (u.incarnation === before.incarnation) {
        // Lifeguard: an independent accuser shortens the timer; re-gossip so others hear it too.
        if (suspicions.confirm(u)) this.broadcast(u, now);
        return;
      }
      // A newer suspicion (the member refuted and was suspected again): start over.
      this.roster.setRecord(before, withState(before, 'suspect', u.incarnation), now);
      suspicions.start(u, this.roster.liveCount(), now);
      this.broadcast(u, now);
      if (reason !== 'probe-failed') this.tellAccused(before, u, out);
      return;
    }
    if (before.state !== 'alive') return;
    const record = withState(before, 'suspect', u.incarnation);
    this.roster.setRecord(before, record, now);
    suspicions.start(u, this.roster.liveCount(), now);
    this.broadcast(u, now);
    // Our own failed probe needs no word: the buddy system leads our next packet to it with the suspicion.
    if (reason !== 'probe-failed') this.tellAccused(before, u, out);
    emitMemberChange(out, before.state, record, reason);
  }

  private applyDead(u: DeadUpdate, source: Source, now: Millis, out: Effect[]): void {
    const before = this.roster.get(u.name);
    if (before === undefined || u.incarnation < before.incarnation || before.state === 'dead' || before.state === 'left') return;
    if (u.name === this.roster.selfName) {
      this.own.refute(u.incarnation, 'dead', now, out);
      return;
    }
    // Only our own suspicion timeout declares a member dead here: a verdict heard from anyone else is
    // weighed as a suspicion by that accuser, which the accused refutes if it is alive and reachable.
    // The accuser's verdict may be stale (an isolated member's suspicions expire while it cannot hear
    // the refutations, and it gossips them when its link returns; the two sides of a healed split each
    // hold the other dead), or forged, and nothing in it tells which. If the accused is really gone,
    // it cannot refute and our own timer (shortened by each independent accuser) confirms it.
    if (before.state === 'alive' || before.state === 'suspect') {
      this.applySuspect({ kind: 'suspect', name: u.name, incarnation: u.incarnation, from: u.from }, source, now, out);
    }
  }

  private applyLeft(u: LeftUpdate, now: Millis, out: Effect[]): void {
    const before = this.roster.get(u.name);
    if (before === undefined || u.incarnation < before.incarnation || before.state === 'dead' || before.state === 'left') return;
    if (u.name === this.roster.selfName) {
      // Our own left while not leaving: stale news from an earlier life or a forgery; deny it.
      this.own.refute(u.incarnation, 'left', now, out);
      return;
    }
    const record = withState(before, 'left', u.incarnation);
    this.roster.setRecord(before, record, now);
    this.broadcast(u, now);
    this.tellAccused(before, u, out);
    emitMemberChange(out, before.state, record, 'left');
  }
}

/** A peer's record about ourselves, as the update it amounts to (an accusation unless alive). */
function selfRecordAsUpdate(r: MemberRecord): Update {
  switch (r.state) {
    case 'alive':
      return aliveUpdateOf(r);
    case 'suspect':
      return { kind: 'suspect', name: r.name, incarnation: r.incarnation, from: '' };
    case 'dead':
      return { kind: 'dead', name: r.name, incarnation: r.incarnation, from: '' };
    case 'left':
      return { kind: 'left', name: r.name, incarnation: r.incarnation };
  }
}
