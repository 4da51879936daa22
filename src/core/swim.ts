// The SWIM protocol with Lifeguard as a pure state machine. Every input (time, packets, RPC results)
// comes in through a method and every output comes back as a list of effects; the core keeps no timers
// of its own, only deadlines that tick(now) runs. Reference semantics: HashiCorp memberlist.
//
// SwimCore wires four parts together: Membership (the table and its rules), Prober (failure detection),
// Dissemination (piggyback and gossip), and the full-state exchange below (join and push-pull).
import { Awareness } from './awareness.js';
import type { SwimConfig } from './config.js';
import { validateConfig } from './config.js';
import type { CoreContext } from './context.js';
import { Dissemination } from './dissemination.js';
import { DEFAULT_MAX_MEMBERS, JOIN_SYNC_DELAYS_PROBES, MAX_UPDATES_PER_PACKET, pushPullInterval } from './limits.js';
import type { ByteMeasure } from './measure.js';
import { estimateMeasure } from './measure.js';
import type { MemberIndex } from './member-index.js';
import { Membership } from './membership.js';
import { Prober } from './prober.js';
import type { CoreTimer } from './timers.js';
import { Timers } from './timers.js';
import type { Address, CoreCounters, Effect, MemberMeta, MemberRecord, Message, Millis, Packet, Random, Update } from './types.js';
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
  private readonly membership: Membership;
  private readonly dissemination: Dissemination;
  private readonly prober: Prober;
  private pushPullTimer: CoreTimer | null = null;
  /** When the first push-pull phase was drawn, and where in the (scaled) interval it falls, in [0, 1). */
  private readonly pushPullStart: Millis;
  private readonly pushPullPhase: number;
  private firstPushPullDone = false;
  /** Join negotiations in flight (request id to seed) and the seeds that answered the latest join. */
  private readonly joinRequests = new Map<number, Address>();
  private joinAnsweredBy: Address[] = [];
  /** Follow-up exchanges still to schedule once the latest join is answered; empty otherwise. */
  private joinSyncToSchedule: readonly number[] = [];
  private joinSyncTimers: CoreTimer[] = [];
  private joinSyncsFired = 0;
  private nextRequestId = 1;

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
    this.membership = new Membership(
      self,
      this.ctx,
      maxMembers,
      (update, now, introduction) => this.dissemination.broadcast(update, now, introduction),
      (to, update, out) => out.push({ type: 'send', to, packet: { message: null, updates: [update] } }),
      index,
    );
    this.dissemination = new Dissemination(config, opts.measure ?? estimateMeasure, this.ctx.timers, this.counters, this.membership, maxMembers, index);
    this.prober = new Prober(this.ctx, this.membership, this.dissemination, opts.now);
    // Random phase, as memberlist's randomStagger: uniform over the interval scaled to the cluster size,
    // which is not known yet (see onPushPullTimer), so the phase is kept as a fraction.
    this.pushPullStart = opts.now;
    this.pushPullPhase = opts.random.next();
    if (config.pushPullIntervalMs > 0) {
      this.pushPullTimer = this.ctx.timers.schedule('push-pull', opts.now + Math.floor(this.pushPullPhase * config.pushPullIntervalMs));
    }
  }

  // -------------------------------------------------------------------------------------------
  // Queries
  // -------------------------------------------------------------------------------------------

  get self(): MemberRecord {
    return this.membership.self;
  }

  /** Every known record including self, dead and left ones until they are reaped. */
  members(): MemberRecord[] {
    return this.membership.records();
  }

  member(name: string): MemberRecord | undefined {
    return this.membership.get(name);
  }

  /**
   * What a full-state exchange (Negotiate) carries: members() plus the reaped members as they were last
   * seen. A query: it changes nothing, so digest anti-entropy can read it as often as it likes.
   */
  fullState(): MemberRecord[] {
    return this.membership.fullState();
  }

  /** True once any Negotiate succeeded or a peer was learned. */
  isJoined(): boolean {
    return this.membership.isJoined();
  }

  isLeaving(): boolean {
    return this.membership.isLeaving();
  }

  /** Lifeguard awareness score, 0 = healthy. */
  healthScore(): number {
    return this.ctx.awareness.score;
  }

  /** Updates still queued for retransmission. */
  pendingBroadcasts(): number {
    return this.dissemination.pending;
  }

  /** n in the formulas: alive + suspect members including self. */
  aliveCount(): number {
    return this.membership.liveCount();
  }

  /** Earliest time tick() has work; Infinity if none. */
  nextDeadline(): Millis {
    return this.ctx.timers.nextDeadline();
  }

  /** Independent confirmations of the suspicion about `name` (undefined when not suspected). */
  suspicionConfirmations(name: string): number | undefined {
    return this.membership.suspicionConfirmations(name);
  }

  /** When the suspicion about `name` expires (undefined when not suspected). */
  suspicionDeadline(name: string): Millis | undefined {
    return this.membership.suspicionDeadline(name);
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
    const updates = Array.isArray(packet.updates) ? packet.updates : [];
    const count = Math.min(updates.length, MAX_UPDATES_PER_PACKET);
    // News first: a ping carrying a suspicion about us gets an ack that already carries the refutation.
    let staleAccusation = false;
    let refuted = false;
    for (let i = 0; i < count; i++) {
      const answer = this.membership.apply(updates[i] as Update, 'gossip', now, out, from);
      if (answer === 'stale') staleAccusation = true;
      else if (answer === 'refuted') refuted = true;
    }
    // The sender holds (or spreads) news about us that our alive record overrides: it missed our
    // refutation (every copy of it), or we refuted it just now. Tell it directly, or it may declare us
    // dead, or keep us left, or route our name to someone else.
    const correction = staleAccusation || refuted ? this.membership.selfAlive() : null;
    let corrected = false;
    if (packet.message !== null && packet.message !== undefined) corrected = this.prober.handle(from, packet.message, now, out, correction);
    if (correction !== null) {
      if (staleAccusation) this.counters.staleAccusationsAnswered++;
      if (!corrected && from !== this.self.gossipAddr) out.push({ type: 'send', to: from, packet: this.dissemination.packet(null, [correction]) });
    }
    this.tellSuspectedSender(from, packet.message ?? null, now, out);
    return out;
  }

  /**
   * A packet from a member we suspect proves it runs, yet it may not know it is suspected: after a
   * heal, whoever suspects it may not probe it before the suspicion runs out, and nothing else tells
   * it. The suspicion restarts once (Membership.heardFromSuspect) and the sender is told now, so it
   * refutes first. A ping to us needs no extra packet: its ack leads with the accusation (buddy system).
   */
  private tellSuspectedSender(from: Address, message: Message | null, now: Millis, out: Effect[]): void {
    const sender = this.membership.heardFromSuspect(from, now);
    if (sender === undefined) return;
    if (message !== null && message.type === 'ping' && message.target === this.self.name) return;
    const accusation = this.membership.accusationAgainst(sender);
    if (accusation !== null) out.push({ type: 'send', to: from, packet: this.dissemination.packet(null, [accusation]) });
  }

  /** Negotiate(join = true) with each seed, skipping our own gRPC address. */
  join(seeds: readonly Address[], now: Millis): Effect[] {
    const out: Effect[] = [];
    const seen = new Set<Address>();
    this.joinRequests.clear();
    for (const seed of seeds) {
      if (seed === this.self.grpcAddr || seen.has(seed)) continue;
      seen.add(seed);
      this.joinRequests.set(this.negotiate(seed, true, out), seed);
    }
    // A new join (the shell retries) replaces the follow-ups of the previous one: at most
    // JOIN_SYNC_DELAYS_PROBES.length extra exchanges per join.
    for (const timer of this.joinSyncTimers) this.ctx.timers.cancel(timer);
    this.joinSyncTimers = [];
    this.joinAnsweredBy = [];
    this.joinSyncsFired = 0;
    this.joinSyncToSchedule = seen.size > 0 ? JOIN_SYNC_DELAYS_PROBES : [];
    return out;
  }

  /** An incoming full-state exchange: merge theirs, answer with ours. */
  onNegotiate(remote: readonly MemberRecord[], join: boolean, now: Millis): { reply: MemberRecord[]; effects: Effect[] } {
    const effects: Effect[] = [];
    this.membership.merge(remote, now, effects);
    return { reply: this.fullState(), effects };
  }

  onNegotiateReply(requestId: number, remote: readonly MemberRecord[], now: Millis): Effect[] {
    const out: Effect[] = [];
    // Request ids are informational: a late answer is still good news, and merging it is harmless.
    this.membership.markJoined();
    this.membership.merge(remote, now, out);
    const seed = this.joinRequests.get(requestId);
    if (seed !== undefined) {
      this.joinRequests.delete(requestId);
      this.joinAnsweredBy.push(seed);
      this.scheduleJoinSync(now);
    }
    return out;
  }

  /** Nothing to undo: the shell retries join, and push-pull simply tries another member next period. */
  onNegotiateFailed(requestId: number, now: Millis): Effect[] {
    this.joinRequests.delete(requestId);
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
    if (this.membership.isLeaving()) return out;
    const record = this.membership.leave(now, out);
    this.prober.stop();
    this.ctx.timers.cancel(this.pushPullTimer);
    this.pushPullTimer = null;
    for (const timer of this.joinSyncTimers) this.ctx.timers.cancel(timer);
    this.joinSyncTimers = [];
    this.joinSyncToSchedule = [];
    for (const peer of this.membership.pickAlive(this.ctx.config.closingFanout)) {
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
    if (!this.membership.isLeaving()) this.membership.updateMeta(meta, now, out);
    return out;
  }

  // -------------------------------------------------------------------------------------------
  // Internals
  // -------------------------------------------------------------------------------------------

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
        this.onPushPullTimer(timer, now, out);
        return;
      case 'join-sync':
        this.onJoinSyncTimer(timer, out);
        return;
      case 'suspicion':
        this.membership.onSuspicionTimer(timer, now, out);
        return;
      case 'reap':
        this.membership.onReapTimer(timer, now, out);
        return;
      case 'tombstone':
        this.membership.onTombstoneTimer(timer);
        return;
      case 'self-refute':
        this.membership.onSelfRefuteTimer(timer, now, out);
        return;
    }
  }

  /** Anti-entropy: a full-state exchange with one random alive member, less often in big clusters. */
  private onPushPullTimer(timer: CoreTimer, now: Millis, out: Effect[]): void {
    if (timer !== this.pushPullTimer) return;
    const { config, timers } = this.ctx;
    const interval = pushPullInterval(config.pushPullIntervalMs, this.membership.liveCount());
    if (!this.firstPushPullDone) {
      // The cluster has grown since the phase was drawn: move the first exchange to the same phase of
      // the scaled interval, so the members' exchanges spread over all of it instead of its first part.
      const due = this.pushPullStart + Math.floor(this.pushPullPhase * interval);
      if (due > now) {
        this.pushPullTimer = timers.schedule('push-pull', due);
        return;
      }
      this.firstPushPullDone = true;
    }
    this.pushPullTimer = timers.schedule('push-pull', now + interval);
    const [peer] = this.membership.pickAlive(1);
    if (peer !== undefined) {
      this.negotiate(peer.grpcAddr, false, out);
      this.counters.pushPullsStarted++;
    }
    // Reconnect (like Serf): after a partition heals, only an exchange with a member we hold dead lets
    // either side learn the other is alive. A real corpse just makes the RPC fail.
    const lost = this.membership.reconnectCandidate();
    if (lost !== undefined) {
      this.negotiate(lost.grpcAddr, false, out);
      this.counters.reconnectsStarted++;
    }
  }

  /** On the first answer to a join: the follow-up exchanges, each with up to a probe interval of jitter. */
  private scheduleJoinSync(now: Millis): void {
    const { config, random, timers } = this.ctx;
    for (const probes of this.joinSyncToSchedule) {
      const at = now + probes * config.probeIntervalMs + random.int(config.probeIntervalMs);
      this.joinSyncTimers.push(timers.schedule('join-sync', at));
    }
    this.joinSyncToSchedule = [];
  }

  /** The first follow-up goes to a seed that answered (it knows the most), later ones to random members. */
  private onJoinSyncTimer(timer: CoreTimer, out: Effect[]): void {
    const index = this.joinSyncTimers.indexOf(timer);
    if (index < 0 || this.membership.isLeaving()) return;
    this.joinSyncTimers.splice(index, 1);
    const seeds = this.joinAnsweredBy;
    const seed = this.joinSyncsFired++ === 0 && seeds.length > 0 ? seeds[this.ctx.random.int(seeds.length)] : undefined;
    const to = seed ?? this.membership.pickAlive(1)[0]?.grpcAddr;
    if (to !== undefined) this.negotiate(to, false, out);
  }

  private negotiate(to: Address, join: boolean, out: Effect[]): number {
    const requestId = this.nextRequestId++;
    out.push({ type: 'negotiate', to, requestId, state: this.membership.fullState(), join });
    return requestId;
  }
}
