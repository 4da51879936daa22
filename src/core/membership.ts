// The member table and SWIM's rules for changing it (section 4.2 precedence, as memberlist applies it),
// with Lifeguard's dynamic suspicion, refutation, dead/left retention and tombstones. It decides what
// the news means; Dissemination spreads whatever it passes to `broadcast`.
import type { CoreContext } from './context.js';
import type { GossipPeers } from './dissemination.js';
import { OwnName, PeerLives } from './identity.js';
import type { MemberIndex } from './member-index.js';
import { MemberTable } from './member-table.js';
import { ProbeOrder } from './probe-order.js';
import type { AliveUpdate } from './records.js';
import { aliveRecordOf, aliveUpdateOf, nextIncarnation, refutesAtCeiling, sameAdvertisement, withState } from './records.js';
import { expectedConfirmations, Suspicion, suspicionMinTimeout } from './suspicion.js';
import type { CoreTimer } from './timers.js';
import type { Address, Effect, MemberMeta, MemberRecord, MemberState, MembershipEvent, Millis, Update } from './types.js';
import { isValidRecord, isValidUpdate } from './validate.js';

type SuspectUpdate = Extract<Update, { kind: 'suspect' }>;
type DeadUpdate = Extract<Update, { kind: 'dead' }>;
type LeftUpdate = Extract<Update, { kind: 'left' }>;
/** Where news came from, for event reasons. */
export type Source = 'gossip' | 'push-pull';
type Accusation = 'suspect' | 'dead' | 'left' | 'stale-life';
/** What news about us asks of its sender's packet: our current alive straight back ('stale': it missed a refutation). */
export type SelfNewsAnswer = 'stale' | 'refuted' | null;

/** A suspected member's Lifeguard timer. */
interface Suspected {
  readonly suspicion: Suspicion;
  timer: CoreTimer;
  /** A packet from the suspect itself already restarted this suspicion (it does so once). */
  readonly heardFrom: boolean;
}

/** A reaped member: its last record (dead or left), remembered until expiresAt. */
interface Tombstone {
  readonly record: MemberRecord;
  readonly expiresAt: Millis;
}

function isLive(state: MemberState): boolean {
  return state === 'alive' || state === 'suspect';
}

export class Membership implements GossipPeers {
  // Only (shared, immutable) records, in arrays by member number: a table slot is the whole cost of an
  // alive member, which matters when a simulation holds 10,000 tables of 10,000. Per-state extras live
  // in side tables keyed by name.
  private readonly table: MemberTable;
  private selfRecord: MemberRecord;
  private readonly selfName: string;
  private readonly suspected = new Map<string, Suspected>();
  private readonly reapTimers = new Map<string, CoreTimer>();
  private readonly tombstones = new Map<string, Tombstone>();
  private readonly ownName: OwnName;
  private readonly peerLives = new PeerLives();
  private readonly order: ProbeOrder;
  /** alive + suspect including self: the n in every formula. */
  private live = 1;
  private joined = false;
  private leaving = false;
  private readonly othersNames = (): Iterable<string> => this.namesExceptSelf();

  constructor(
    self: MemberRecord,
    private readonly ctx: CoreContext,
    private readonly maxMembers: number,
    private readonly broadcast: (update: Update, now: Millis, introduction?: boolean) => void,
    /** One packet straight to `to` leading with `update` (not queued for gossip). */
    private readonly tell: (to: Address, update: Update, out: Effect[]) => void,
    index?: MemberIndex,
  ) {
    this.table = new MemberTable(index);
    this.selfRecord = self;
    this.selfName = self.name;
    this.table.set(self.name, self);
    this.order = new ProbeOrder(ctx.random);
    this.ownName = new OwnName(ctx.timers, () => ctx.config.probeIntervalMs);
  }

  // --- queries ------------------------------------------------------------------------------

  get self(): MemberRecord {
    return this.selfRecord;
  }

  get(name: string): MemberRecord | undefined {
    return this.table.get(name);
  }

  stateOf(name: string): MemberState | undefined {
    return this.table.get(name)?.state;
  }

  records(): MemberRecord[] {
    return this.table.toArray();
  }

  /**
   * What a full-state exchange carries: every record, plus reaped members as they were last seen. The
   * tombstones let the other side of a healed partition learn we hold it dead, so it refutes.
   */
  fullState(): MemberRecord[] {
    const state = this.records();
    for (const tomb of this.tombstones.values()) state.push(tomb.record);
    return state;
  }

  liveCount(): number {
    return this.live;
  }

  hasOthers(): boolean {
    return this.table.size > 1;
  }

  isJoined(): boolean {
    return this.joined;
  }

  markJoined(): void {
    this.joined = true;
  }

  isLeaving(): boolean {
    return this.leaving;
  }

  suspicionConfirmations(name: string): number | undefined {
    return this.suspected.get(name)?.suspicion.confirmations;
  }

  suspicionDeadline(name: string): Millis | undefined {
    return this.suspected.get(name)?.timer.at;
  }

  // --- choosing members ---------------------------------------------------------------------

  /** The next member to probe (alive or suspect), round-robin. */
  nextProbeTarget(): MemberRecord | undefined {
    const name = this.order.next(this.othersNames, (n) => {
      const state = this.stateOf(n);
      return state === 'alive' || state === 'suspect';
    });
    return name === undefined ? undefined : this.table.get(name);
  }

  /** Up to `count` random alive members other than `except`. */
  pickAlive(count: number, except = ''): MemberRecord[] {
    return this.order.pick(count, (n) => n === except || this.stateOf(n) !== 'alive').map((n) => this.table.get(n) as MemberRecord);
  }

  gossipTargets(count: number): MemberRecord[] {
    // Dead members are still in the table only during retention: gossiping to them lets them refute.
    return this.order
      .pick(count, (n) => {
        const state = this.stateOf(n);
        return state === undefined || state === 'left';
      })
      .map((n) => this.table.get(n) as MemberRecord);
  }

  /** The 'left' news about a member we hold as left gracefully, else null. */
  leftNewsAbout(name: string): Update | null {
    const record = this.table.get(name);
    return record !== undefined && record.state === 'left' ? { kind: 'left', name, incarnation: record.incarnation } : null;
  }

  accusationAgainst(target: MemberRecord): Update | null {
    const record = this.table.get(target.name);
    if (record === undefined) return null;
    if (record.state === 'suspect') return { kind: 'suspect', name: record.name, incarnation: record.incarnation, from: this.selfName };
    if (record.state === 'dead') return { kind: 'dead', name: record.name, incarnation: record.incarnation, from: this.selfName };
    return null;
  }

  /**
   * A packet came from `addr`. If it is a member we suspect, that is proof it runs and reaches us now,
   * and the suspicion may be stale (raised while a cut separated us, then confirmed by members who only
   * heard it from us): the first such packet restarts the suspicion from now, so the member has a
   * whole timeout to refute. Once per suspicion: a member that can send but never refutes (deaf) is
   * still declared dead. Returns the suspect, if any. O(suspects), a short list.
   */
  heardFromSuspect(addr: string, now: Millis): MemberRecord | undefined {
    for (const [name, entry] of this.suspected) {
      const record = this.table.get(name);
      if (record === undefined || record.state !== 'suspect' || record.gossipAddr !== addr) continue;
      if (!entry.heardFrom) this.startSuspicion({ kind: 'suspect', name, incarnation: record.incarnation, from: this.selfName }, now, true);
      return record;
    }
    return undefined;
  }

  /**
   * A member we hold dead (or reaped as dead) to try a full-state exchange with now and then: after a
   * partition heals nothing else crosses, since probes and push-pull only go to the living. O(n), once per
   * push-pull period.
   */
  reconnectCandidate(): MemberRecord | undefined {
    const candidates: MemberRecord[] = [];
    for (const record of this.table.values()) if (record.state === 'dead') candidates.push(record);
    for (const tomb of this.tombstones.values()) if (tomb.record.state === 'dead') candidates.push(tomb.record);
    return candidates.length === 0 ? undefined : candidates[this.ctx.random.int(candidates.length)];
  }

  /** Our current alive record as an update, to answer a stale accusation. */
  selfAlive(): Update {
    return aliveUpdateOf(this.selfRecord);
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
        if (update.name === this.selfName) return this.aliveAboutSelf(update, now, out, from);
        this.applyAlive(update, source, now, out, from);
        break;
      case 'suspect':
        if (this.isStaleAccusation(update)) return 'stale';
        this.applySuspect(update, source, now, out);
        break;
      case 'dead':
        if (this.isStaleAccusation(update)) return 'stale';
        this.applyDead(update, source, now, out);
        break;
      case 'left':
        if (this.isStaleAccusation(update)) return 'stale';
        this.applyLeft(update, now, out);
        break;
    }
    return update.name === this.selfName && this.ctx.counters.refutations !== refutations ? 'refuted' : null;
  }

  /** Addresses the control plane can carry (SwimCoreOptions.acceptsAddress). */
  private carriable(r: { readonly gossipAddr: Address; readonly grpcAddr: Address; readonly meta: MemberMeta }): boolean {
    const accepts = this.ctx.acceptsAddress;
    return accepts(r.gossipAddr) && accepts(r.grpcAddr) && (r.meta.appAddr === '' || accepts(r.meta.appAddr));
  }

  private isStaleAccusation(u: SuspectUpdate | DeadUpdate | LeftUpdate): boolean {
    return u.name === this.selfName && !this.leaving && u.incarnation < this.selfRecord.incarnation;
  }

  /** Our own probe of `name` (at `incarnation`) went unanswered. */
  suspectAfterFailedProbe(name: string, incarnation: number, now: Millis, out: Effect[]): void {
    const state = this.stateOf(name);
    if (state !== 'alive' && state !== 'suspect') return;
    this.ctx.counters.suspicionsRaised++;
    this.applySuspect({ kind: 'suspect', name, incarnation, from: this.selfName }, 'probe-failed', now, out);
  }

  /** memberlist mergeState: a remote 'dead' only makes us suspect (we check for ourselves); left stays left. */
  merge(remote: readonly MemberRecord[], now: Millis, out: Effect[]): void {
    const count = Math.min(Array.isArray(remote) ? remote.length : 0, this.maxMembers + 1);
    for (let i = 0; i < count; i++) {
      const r = remote[i] as MemberRecord;
      if (typeof r !== 'object' || r === null) {
        this.ctx.counters.updatesRejected++;
        continue;
      }
      // Most of a periodic exchange is news we already have (often the very same record object).
      const local = this.table.get(r.name);
      if (local !== undefined && (local === r || (local.incarnation === r.incarnation && local.state === r.state && local.lifeId === r.lifeId))) {
        if (r.name !== this.selfName) this.joined = true;
        continue;
      }
      if (!isValidRecord(r) || !this.carriable(r)) {
        this.ctx.counters.updatesRejected++;
        continue;
      }
      if (r.name === this.selfName) {
        this.apply(selfRecordAsUpdate(r), 'push-pull', now, out);
        continue;
      }
      this.joined = true;
      switch (r.state) {
        case 'alive':
          this.applyAlive(aliveUpdateOf(r), 'push-pull', now, out);
          break;
        case 'suspect':
        case 'dead':
          // Learn a member we never heard of that is merely suspected (with its addresses) before judging it
          // ourselves; one reported dead stays unknown, or tombstones passed along would resurrect the dead.
          if (r.state === 'suspect' && !this.table.has(r.name)) this.applyAlive(aliveUpdateOf(r), 'push-pull', now, out);
          this.applySuspect({ kind: 'suspect', name: r.name, incarnation: r.incarnation, from: this.selfName }, 'push-pull', now, out);
          break;
        case 'left':
          this.applyLeft({ kind: 'left', name: r.name, incarnation: r.incarnation }, now, out);
          break;
      }
    }
  }

  // --- our own record -----------------------------------------------------------------------

  /** Marks ourselves left with incarnation + 1 (at most the ceiling) and broadcasts it. Returns the new record. */
  leave(now: Millis, out: Effect[]): MemberRecord {
    this.leaving = true;
    const before = this.selfRecord;
    const record = withState(before, 'left', nextIncarnation(before.incarnation));
    this.setRecord(before, record, now);
    this.emit(out, before.state, record, 'left');
    this.broadcast({ kind: 'left', name: record.name, incarnation: record.incarnation }, now);
    return record;
  }

  /**
   * An operator's force-leave: a member this member holds dead is marked left at its incarnation, in this
   * view only. Nothing is gossiped: peers keep dead over left (the precedence above), and a left notice
   * would make peers that still hold the member alive drop it. Refused (the reason returned) for
   * ourselves, for unknown members and for live (alive, suspect) ones; null when done or already left.
   */
  forceLeave(name: string, now: Millis, out: Effect[]): 'self' | 'unknown' | 'alive' | 'suspect' | null {
    if (name === this.selfName) return 'self';
    const before = this.table.get(name);
    if (before === undefined) return 'unknown';
    if (before.state === 'alive' || before.state === 'suspect') return before.state;
    if (before.state === 'left') return null;
    const record = withState(before, 'left', before.incarnation);
    this.setRecord(before, record, now);
    this.emit(out, before.state, record, 'force-leave');
    return null;
  }

  updateMeta(meta: MemberMeta, now: Millis, out: Effect[]): void {
    const before = this.selfRecord;
    const record: MemberRecord = { ...before, incarnation: nextIncarnation(before.incarnation), meta };
    this.setRecord(before, record, now);
    this.emit(out, before.state, record, 'meta');
    this.broadcast(aliveUpdateOf(record), now);
  }

  // --- timers -------------------------------------------------------------------------------

  onSuspicionTimer(timer: CoreTimer, now: Millis, out: Effect[]): void {
    const name = timer.name;
    if (this.suspected.get(name)?.timer !== timer) return;
    const before = this.table.get(name);
    if (before === undefined || before.state !== 'suspect') return;
    const record = withState(before, 'dead', before.incarnation);
    this.setRecord(before, record, now);
    this.broadcast({ kind: 'dead', name, incarnation: before.incarnation, from: this.selfName }, now);
    this.emit(out, before.state, record, 'suspicion-timeout');
  }

  /** Dead/left retention is over: forget the member, but keep a tombstone against stale alives. */
  onReapTimer(timer: CoreTimer, now: Millis, out: Effect[]): void {
    const name = timer.name;
    if (this.reapTimers.get(name) !== timer) return;
    const record = this.table.get(name);
    if (record === undefined) return;
    this.table.delete(name);
    this.reapTimers.delete(name);
    this.peerLives.forget(name);
    const expiresAt = now + this.ctx.config.tombstoneMs;
    this.tombstones.delete(name);
    if (this.tombstones.size >= this.maxMembers) {
      // Churn through many names: forget the oldest tombstone (Map order is reap order).
      const oldest = this.tombstones.keys().next().value;
      if (oldest !== undefined) this.tombstones.delete(oldest);
    }
    this.tombstones.set(name, { record, expiresAt });
    this.ctx.timers.schedule('tombstone', expiresAt, name);
    out.push({ type: 'event', event: { type: 'reaped', name } });
  }

  onTombstoneTimer(timer: CoreTimer): void {
    const tomb = this.tombstones.get(timer.name);
    if (tomb !== undefined && tomb.expiresAt === timer.at) this.tombstones.delete(timer.name);
  }

  // --- the rules ----------------------------------------------------------------------------

  private applyAlive(u: AliveUpdate, source: Source, now: Millis, out: Effect[], from: Address | null = null): void {
    if (u.name === this.selfName) {
      this.aliveAboutSelf(u, now, out, null);
      return;
    }
    const before = this.table.get(u.name);
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
    this.setRecord(before, record, now);
    this.broadcast(u, now);
    // Another life, or another address, now holds a name we held live: if the member we knew still runs
    // there (the news is forged), it refutes and answers us directly (tellAccused).
    if (lifeChanged || before.gossipAddr !== u.gossipAddr) this.tellAccused(before, u, out);
    let reason: string | null = null;
    if (lifeChanged) reason = 'restarted';
    else if (before.state === 'suspect') reason = 'refuted';
    else if (before.state !== 'alive') reason = source;
    else if (!sameAdvertisement(before, record)) reason = 'meta';
    if (reason !== null) this.emit(out, before.state, record, reason);
  }

  private addMember(u: AliveUpdate, now: Millis, out: Effect[], from: Address | null): void {
    const tomb = this.tombstones.get(u.name);
    // Recently reaped: only a later incarnation (a refutation or a restart) brings it back.
    if (tomb !== undefined && u.incarnation <= tomb.record.incarnation && !refutesAtCeiling(u, tomb.record, from)) return;
    if (this.table.size >= this.maxMembers) {
      this.ctx.counters.membersDropped++;
      return;
    }
    this.tombstones.delete(u.name);
    const record = aliveRecordOf(u);
    this.table.set(u.name, record);
    this.live++;
    this.order.add(u.name, this.table.size, this.othersNames);
    this.joined = true;
    this.broadcast(u, now, true);
    this.emit(out, null, record, 'joined');
  }

  /**
   * An alive about our name that we did not send: another life (a restart on a clock-behind host, a
   * second process, a forger), or our own life at an incarnation or with addresses we never announced.
   * Refuted every time (OwnName paces it); the name is never given up.
   */
  private aliveAboutSelf(u: AliveUpdate, now: Millis, out: Effect[], from: Address | null): SelfNewsAnswer {
    const self = this.selfRecord;
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
    if (deferred === null || this.leaving || deferred.claimed < this.selfRecord.incarnation) return;
    this.refute(deferred.claimed, 'stale-life', now, out);
    for (const teller of deferred.tellers) if (teller !== this.selfRecord.gossipAddr) this.tell(teller, aliveUpdateOf(this.selfRecord), out);
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
    const before = this.table.get(u.name);
    if (before === undefined || u.incarnation < before.incarnation) return;
    if (u.name === this.selfName) {
      if (!this.leaving) this.refute(u.incarnation, 'suspect', now, out);
      return;
    }
    if (before.state === 'suspect') {
      const current = this.suspected.get(u.name);
      if (u.incarnation === before.incarnation) {
        // Lifeguard: an independent accuser shortens the timer; re-gossip so others hear it too.
        if (current !== undefined && current.suspicion.confirm(u.from)) {
          this.ctx.timers.cancel(current.timer);
          current.timer = this.ctx.timers.schedule('suspicion', current.suspicion.deadline(), u.name);
          this.broadcast(u, now);
        }
        return;
      }
      // A newer suspicion (the member refuted and was suspected again): start over.
      this.table.set(u.name, withState(before, 'suspect', u.incarnation));
      this.startSuspicion(u, now);
      this.broadcast(u, now);
      if (reason !== 'probe-failed') this.tellAccused(before, u, out);
      return;
    }
    if (before.state !== 'alive') return;
    const record = withState(before, 'suspect', u.incarnation);
    this.setRecord(before, record, now);
    this.startSuspicion(u, now);
    this.broadcast(u, now);
    // Our own failed probe needs no word: the buddy system leads our next packet to it with the suspicion.
    if (reason !== 'probe-failed') this.tellAccused(before, u, out);
    this.emit(out, before.state, record, reason);
  }

  private startSuspicion(u: SuspectUpdate, now: Millis, heardFrom = false): void {
    const { config, timers } = this.ctx;
    const n = this.live;
    const min = suspicionMinTimeout(config.suspicionMult, n, config.probeIntervalMs);
    const max = config.suspicionMaxTimeoutMult * min;
    const k = expectedConfirmations(config.suspicionMult, n);
    const suspicion = new Suspicion(u.incarnation, now, u.from, k, min, max);
    timers.cancel(this.suspected.get(u.name)?.timer);
    this.suspected.set(u.name, { suspicion, timer: timers.schedule('suspicion', suspicion.deadline(), u.name), heardFrom });
  }

  private applyDead(u: DeadUpdate, source: Source, now: Millis, out: Effect[]): void {
    const before = this.table.get(u.name);
    if (before === undefined || u.incarnation < before.incarnation || before.state === 'dead' || before.state === 'left') return;
    if (u.name === this.selfName) {
      this.refute(u.incarnation, 'dead', now, out);
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
    const before = this.table.get(u.name);
    if (before === undefined || u.incarnation < before.incarnation || before.state === 'dead' || before.state === 'left') return;
    if (u.name === this.selfName) {
      // Our own left while not leaving: stale news from an earlier life or a forgery; deny it.
      this.refute(u.incarnation, 'left', now, out);
      return;
    }
    const record = withState(before, 'left', u.incarnation);
    this.setRecord(before, record, now);
    this.broadcast(u, now);
    this.tellAccused(before, u, out);
    this.emit(out, before.state, record, 'left');
  }

  /**
   * Raise our incarnation above an accusation and tell everyone we are alive. An accusation at the
   * ceiling is answered at the ceiling, which peers accept from our own life (refutesAtCeiling).
   */
  private refute(accusedIncarnation: number, accusation: Accusation, now: Millis, out: Effect[]): void {
    const before = this.selfRecord;
    const incarnation = nextIncarnation(Math.max(before.incarnation, accusedIncarnation));
    const record = withState(before, 'alive', incarnation);
    this.setRecord(before, record, now);
    this.broadcast(aliveUpdateOf(record), now);
    // Being accused hints that we are the slow one (Lifeguard); a stale life is not a health problem.
    if (accusation !== 'stale-life') this.ctx.awareness.applyDelta(1);
    this.ctx.counters.refutations++;
    out.push({ type: 'event', event: { type: 'refuted', incarnation, accusation } });
  }

  /** Installs a new record, keeping the live count, suspicion and retention timers in step with its state. */
  private setRecord(before: MemberRecord, record: MemberRecord, now: Millis): void {
    const name = record.name;
    const { timers } = this.ctx;
    this.table.set(name, record);
    if (name === this.selfName) this.selfRecord = record;
    if (before.state === record.state) return;
    const wasLive = isLive(before.state);
    const nowLive = isLive(record.state);
    if (wasLive !== nowLive) this.live += nowLive ? 1 : -1;
    if (before.state === 'suspect') {
      timers.cancel(this.suspected.get(name)?.timer);
      this.suspected.delete(name);
    }
    if (name === this.selfName) return;
    // Dead to left keeps the reap time the death set: a force-leave must not make the record linger longer.
    if (!wasLive && !nowLive && this.reapTimers.has(name)) return;
    timers.cancel(this.reapTimers.get(name));
    if (nowLive) this.reapTimers.delete(name);
    else this.reapTimers.set(name, timers.schedule('reap', now + this.ctx.config.deadRetentionMs, name));
  }

  private *namesExceptSelf(): Iterable<string> {
    for (const name of this.table.keys()) if (name !== this.selfName) yield name;
  }

  private emit(out: Effect[], from: MemberState | null, record: MemberRecord, reason: string): void {
    const event: MembershipEvent = { type: 'member', name: record.name, from, to: record.state, incarnation: record.incarnation, reason, member: record };
    out.push({ type: 'event', event });
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
