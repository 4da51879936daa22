// The SWIM protocol with Lifeguard as a pure state machine. Every input (time, packets, RPC results)
// comes in through a method and every output comes back as a list of effects; the core keeps no timers
// of its own, only deadlines that tick(now) runs. Reference semantics: HashiCorp memberlist.
//
// SwimCore wires the parts together: Roster (the records held and their lookups), Membership (the rules
// for news about others), OwnRecord (refutation, leave, metadata), Prober (failure detection),
// Dissemination (piggyback and gossip), and FullStateExchange (join and push-pull).
import { Awareness } from './awareness.js';
import type { SwimConfig } from './config.js';
import { validateConfig } from './config.js';
import type { CoreContext } from './context.js';
import { Dissemination, type News } from './dissemination.js';
import { FullStateExchange } from './full-state-exchange.js';
import { DEFAULT_MAX_MEMBERS, MAX_UPDATES_PER_PACKET } from './limits.js';
import type { ByteMeasure } from './measure.js';
import { estimateMeasure } from './measure.js';
import type { MemberIndex } from './member-index.js';
import { Membership } from './membership.js';
import { OwnRecord } from './own-record.js';
import { Prober } from './prober.js';
import { Roster } from './roster.js';
import type { CoreTimer } from './timers.js';
import { Timers } from './timers.js';
import type { Address, CoreCounters, Effect, MemberMeta, MemberRecord, MemberState, Message, Millis, Packet, Random, Update } from './types.js';
import { isIncarnation, isLifeId, isName } from './validate.js';

export type { ByteMeasure } from './measure.js';
export { estimateMeasure } from './measure.js';

export interface SwimCoreOptions {
  name: string;
  /** Random id of this process life. */
  lifeId: string;
  /** Boot time in ms from the shell, so a restart supersedes the previous life at once. */
  incarnation: number;
  gossipAddr: Address;
  grpcAddr: Address;
  meta: MemberMeta;
  config: SwimConfig;
  random: Random;
  now: Millis;
  /** Exact sizes from the codec; estimateMeasure (conservative) otherwise. */
  measure?: ByteMeasure;
  /** Member table bound (default 65,536); alive updates about further members are dropped and counted. */
  maxMembers?: number;
  /**
   * Whether an address a peer sent can be carried by the control plane (the shell's own check; any
   * string by default). Records with others are refused like malformed ones: kept, one would make every
   * full-state exchange carrying it (a join reply) be refused whole by the receiver.
   */
  acceptsAddress?: (addr: Address) => boolean;
  /**
   * Member numbers shared with other cores in this process (a simulator's SharedMemberIndex), so each
   * name is interned once; by default the core keeps private indexes that recycle forgotten names.
   */
  memberIndex?: MemberIndex;
}

export class SwimCore {
  readonly counters: CoreCounters = {
    probesSent: 0,
    probesFailed: 0,
    indirectProbesSent: 0,
    nacksSent: 0,
    nacksReceived: 0,
    suspicionsRaised: 0,
    refutations: 0,
    nameConflicts: 0,
    updatesQueued: 0,
    gossipPacketsSent: 0,
    pushPullsStarted: 0,
    membersDropped: 0,
    updatesRejected: 0,
    relaysDropped: 0,
    reconnectsStarted: 0,
    staleAccusationsAnswered: 0,
  };

  private readonly ctx: CoreContext;
  private readonly roster: Roster;
  private readonly own: OwnRecord;
  private readonly membership: Membership;
  private readonly dissemination: Dissemination;
  private readonly prober: Prober;
  private readonly exchange: FullStateExchange;
  /** When a packet from another member last arrived (Suspicions.holdVerdict). */
  private heardAt: Millis;

  constructor(opts: SwimCoreOptions) {
    const problems = validateConfig(opts.config);
    if (!isName(opts.name)) problems.push('name must be 1-253 UTF-8 bytes without control characters');
    if (!isLifeId(opts.lifeId)) problems.push('lifeId must be 1-255 UTF-8 bytes without control characters');
    if (!isIncarnation(opts.incarnation)) problems.push('incarnation must be a non-negative integer');
    if (problems.length > 0) throw new Error(`invalid SwimCore options: ${problems.join('; ')}`);

    const config = { ...opts.config };
    const maxMembers = Math.max(1, opts.maxMembers ?? DEFAULT_MAX_MEMBERS);
    this.ctx = {
      config,
      random: opts.random,
      counters: this.counters,
      timers: new Timers(),
      awareness: new Awareness(config.awarenessMaxMultiplier),
      acceptsAddress: opts.acceptsAddress ?? (() => true),
    };
    const self: MemberRecord = {
      name: opts.name,
      lifeId: opts.lifeId,
      incarnation: opts.incarnation,
      state: 'alive',
      gossipAddr: opts.gossipAddr,
      grpcAddr: opts.grpcAddr,
      meta: opts.meta,
    };
    const index = opts.memberIndex;
    const broadcast = (update: Update, now: Millis, news?: News): void => this.dissemination.broadcast(update, now, news);
    const tell = (to: Address, update: Update, out: Effect[]): void => {
      out.push({ type: 'send', to, packet: { message: null, updates: [update] } });
    };
    this.roster = new Roster(self, this.ctx, maxMembers, index);
    this.own = new OwnRecord(this.ctx, this.roster, broadcast, tell);
    this.membership = new Membership(this.ctx, this.roster, this.own, maxMembers, broadcast, tell);
    this.dissemination = new Dissemination(config, opts.measure ?? estimateMeasure, this.ctx.timers, this.counters, this.roster, maxMembers);
    this.prober = new Prober(this.ctx, this.roster, this.membership, this.dissemination, opts.now);
    // Last: it draws the push-pull phase after the prober drew its own.
    const announceArrival = (now: Millis): void => this.dissemination.broadcast(this.roster.selfAlive(), now, 'arrival');
    this.exchange = new FullStateExchange(this.ctx, this.roster, this.membership, this.own, announceArrival, opts.now);
    this.heardAt = opts.now;
  }

  // -------------------------------------------------------------------------------------------
  // Queries
  // -------------------------------------------------------------------------------------------

  get self(): MemberRecord {
    return this.roster.self;
  }

  /** Every known record including self, dead and left ones until they are reaped. */
  members(): MemberRecord[] {
    return this.roster.records();
  }

  member(name: string): MemberRecord | undefined {
    return this.roster.get(name);
  }

  /**
   * What a full-state exchange (Negotiate) carries: members() plus the reaped members as they were last
   * seen. A query: it changes nothing, so digest anti-entropy can read it as often as it likes.
   */
  fullState(): MemberRecord[] {
    return this.roster.fullState();
  }

  /** True once any Negotiate succeeded or a peer was learned. */
  isJoined(): boolean {
    return this.membership.isJoined();
  }

  isLeaving(): boolean {
    return this.own.isLeaving();
  }

  /** Lifeguard awareness score, 0 = healthy. */
  healthScore(): number {
    return this.ctx.awareness.score;
  }

  /** Updates still queued for retransmission. */
  pendingBroadcasts(): number {
    return this.dissemination.pending;
  }

  /** Records held about other members in `state` (kept as records change: no walk of the table). */
  peersInState(state: MemberState): number {
    return this.roster.peersInState(state);
  }

  /** n in the formulas: alive + suspect members including self. */
  aliveCount(): number {
    return this.roster.liveCount();
  }

  /** Earliest time tick() has work; Infinity if none. */
  nextDeadline(): Millis {
    return this.ctx.timers.nextDeadline();
  }

  /** Independent confirmations of the suspicion about `name` (undefined when not suspected). */
  suspicionConfirmations(name: string): number | undefined {
    return this.roster.suspicions.confirmations(name);
  }

  /** When the suspicion about `name` expires (undefined when not suspected). */
  suspicionDeadline(name: string): Millis | undefined {
    return this.roster.suspicions.deadline(name);
  }

  // -------------------------------------------------------------------------------------------
  // Inputs
  // -------------------------------------------------------------------------------------------

  /** Runs everything due at or before `now`. */
  tick(now: Millis): Effect[] {
    const out: Effect[] = [];
    for (let timer = this.ctx.timers.popDue(now); timer !== undefined; timer = this.ctx.timers.popDue(now)) {
      this.fire(timer, now, out);
    }
    return out;
  }

  receive(from: Address, packet: Packet, now: Millis): Effect[] {
    const out: Effect[] = [];
    if (typeof packet !== 'object' || packet === null) return out;
    if (from !== this.self.gossipAddr) this.heardAt = now;
    const updates = Array.isArray(packet.updates) ? packet.updates : [];
    const count = Math.min(updates.length, MAX_UPDATES_PER_PACKET);
    // News first: a ping carrying a suspicion about us gets an ack that already carries the refutation.
    let staleAccusation = false;
    let refuted = false;
    let newer = null as Update[] | null;
    for (let i = 0; i < count; i++) {
      const update = updates[i] as Update;
      const held = this.membership.newerAliveThan(update);
      if (held !== null && newer?.includes(held) !== true) (newer ??= []).push(held);
      const answer = this.membership.apply(update, 'gossip', now, out, from);
      if (answer === 'stale') staleAccusation = true;
      else if (answer === 'refuted') refuted = true;
    }
    // The sender holds (or spreads) news about us that our alive record overrides: it missed our
    // refutation (every copy of it), or we refuted it just now. Tell it directly, or it may declare us
    // dead, or keep us left, or route our name to someone else.
    const correction = staleAccusation || refuted ? this.roster.selfAlive() : null;
    let corrected = false;
    if (packet.message !== null && packet.message !== undefined) corrected = this.prober.handle(from, packet.message, now, out, correction);
    if (correction !== null) {
      if (staleAccusation) this.counters.staleAccusationsAnswered++;
      if (!corrected && from !== this.self.gossipAddr) out.push({ type: 'send', to: from, packet: this.dissemination.packet(null, [correction]) });
    }
    // Stale accusations about others we hold alive newer: the refutations go back in one packet, alone
    // (the sender is one member that missed them, not a gossip target).
    if (newer !== null && from !== this.self.gossipAddr) out.push({ type: 'send', to: from, packet: this.dissemination.packet(null, newer, false) });
    this.tellSuspectedSender(from, packet.message ?? null, now, out);
    return out;
  }

  /**
   * A packet from a member we suspect proves it runs, yet it may not know it is suspected: after a
   * heal, whoever suspects it may not probe it before the suspicion runs out, and nothing else tells
   * it. The suspicion restarts once (Roster.heardFromSuspect) and the sender is told now, so it
   * refutes first. A ping to us needs no extra packet: its ack leads with the accusation (buddy system).
   */
  private tellSuspectedSender(from: Address, message: Message | null, now: Millis, out: Effect[]): void {
    const sender = this.roster.heardFromSuspect(from, now);
    if (sender === undefined) return;
    if (message !== null && message.type === 'ping' && message.target === this.self.name) return;
    const accusation = this.roster.accusationAgainst(sender);
    if (accusation !== null) out.push({ type: 'send', to: from, packet: this.dissemination.packet(null, [accusation]) });
  }

  /** Negotiate(join = true) with each seed, skipping our own gRPC address. */
  join(seeds: readonly Address[], now: Millis): Effect[] {
    const out: Effect[] = [];
    this.exchange.join(seeds, out);
    return out;
  }

  /**
   * Starts as a member already converged with `records` (alive, shared and never copied;
   * Membership.seedConverged). No member event per record: the caller was handed the whole view and
   * tells whoever keeps one in one step (a table of thousands, in each of thousands of cores).
   */
  seedConverged(records: readonly MemberRecord[]): void {
    this.membership.seedConverged(records);
  }

  /** An incoming full-state exchange: merge theirs, answer with ours. */
  onNegotiate(remote: readonly MemberRecord[], join: boolean, now: Millis): { reply: MemberRecord[]; effects: Effect[] } {
    const effects: Effect[] = [];
    const reply = this.exchange.onNegotiate(remote, now, effects);
    return { reply, effects };
  }

  onNegotiateReply(requestId: number, remote: readonly MemberRecord[], now: Millis): Effect[] {
    const out: Effect[] = [];
    this.exchange.onNegotiateReply(requestId, remote, now, out);
    return out;
  }

  /** Nothing to undo: the shell retries join, and push-pull simply tries another member next period. */
  onNegotiateFailed(requestId: number, now: Millis): Effect[] {
    this.exchange.onNegotiateFailed(requestId);
    return [];
  }

  /** A peer's graceful-leave notice. */
  onClosing(name: string, incarnation: number, now: Millis): Effect[] {
    const out: Effect[] = [];
    this.membership.apply({ kind: 'left', name, incarnation }, 'gossip', now, out);
    return out;
  }

  /** Left with incarnation + 1, broadcast, Closing to closingFanout members; stops probing, keeps gossiping. */
  leave(now: Millis): Effect[] {
    const out: Effect[] = [];
    if (this.own.isLeaving()) return out;
    const record = this.own.leave(now, out);
    this.prober.stop();
    this.exchange.stop();
    for (const peer of this.roster.pickAlive(this.ctx.config.closingFanout)) {
      out.push({ type: 'closing', to: peer.grpcAddr, name: record.name, incarnation: record.incarnation });
    }
    return out;
  }

  /** An operator's force-leave of a dead member (Membership.forceLeave): the refusal reason, or null. */
  forceLeave(name: string, now: Millis): { refused: 'self' | 'unknown' | 'alive' | 'suspect' | null; effects: Effect[] } {
    const effects: Effect[] = [];
    const refused = this.membership.forceLeave(name, now, effects);
    return { refused, effects };
  }

  /** New metadata (e.g. the serving flag): incarnation + 1, broadcast alive. Ignored once leaving. */
  updateMeta(meta: MemberMeta, now: Millis): Effect[] {
    const out: Effect[] = [];
    if (!this.own.isLeaving()) this.own.updateMeta(meta, now, out);
    return out;
  }

  // -------------------------------------------------------------------------------------------
  // Internals
  // -------------------------------------------------------------------------------------------

  /**
   * Unhealthy (Lifeguard score above 0) and nothing heard from anyone for a whole protocol period, as
   * the score stretches it: a member that can hear gets at least its probe's ack or the relays' nacks
   * each period, so this one is most likely cut off, and what it sends most likely lost.
   */
  private deaf(now: Millis): boolean {
    const { awareness, config } = this.ctx;
    return awareness.score > 0 && now - this.heardAt > awareness.scale(config.probeIntervalMs);
  }

  private fire(timer: CoreTimer, now: Millis, out: Effect[]): void {
    switch (timer.kind) {
      case 'probe-round':
        this.prober.onRoundTimer(timer, now, out);
        return;
      case 'probe-timeout':
        this.prober.onTimeoutTimer(timer, now, out);
        return;
      case 'relay':
        this.prober.onRelayTimer(timer, out);
        return;
      case 'gossip':
        this.dissemination.onGossipTimer(timer, now, out);
        return;
      case 'push-pull':
        this.exchange.onPushPullTimer(timer, now, out);
        return;
      case 'join-sync':
        this.exchange.onJoinSyncTimer(timer, out);
        return;
      case 'suspicion':
        if (this.roster.suspicions.holdVerdict(timer, now, this.deaf(now))) this.prober.remindSuspect(timer.name, out);
        else this.membership.onSuspicionTimer(timer, now, out);
        return;
      case 'suspect-reminder':
        if (this.roster.suspicions.takeReminder(timer, this.deaf(now))) this.prober.remindSuspect(timer.name, out);
        return;
      case 'reap':
        this.membership.onReapTimer(timer, now, out);
        return;
      case 'tombstone':
        this.roster.retention.onTombstoneTimer(timer);
        return;
      case 'self-refute':
        this.own.onSelfRefuteTimer(timer, now, out);
        return;
    }
  }
}
