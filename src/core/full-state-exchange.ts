// The full-state exchanges (Negotiate over the control plane): joining through seeds, the two follow-up
// exchanges after a join is answered, periodic push-pull (memberlist's anti-entropy) and the reconnect
// attempt with a member held dead. Each sends our full state and merges what comes back.
import type { CoreContext } from './context.js';
import { JOIN_SYNC_DELAYS_PROBES, pushPullInterval } from './limits.js';
import type { Membership } from './membership.js';
import type { OwnRecord } from './own-record.js';
import type { Roster } from './roster.js';
import type { CoreTimer } from './timers.js';
import type { Address, Effect, MemberRecord, Millis } from './types.js';

export class FullStateExchange {
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

  constructor(
    private readonly ctx: CoreContext,
    private readonly roster: Roster,
    private readonly membership: Membership,
    private readonly own: OwnRecord,
    /** Queues our own alive as an arrival (gossiped soon: Dissemination.broadcast). */
    private readonly announceArrival: (now: Millis) => void,
    now: Millis,
  ) {
    // Random phase, as memberlist's randomStagger: uniform over the interval scaled to the cluster size,
    // which is not known yet (see onPushPullTimer), so the phase is kept as a fraction.
    this.pushPullStart = now;
    this.pushPullPhase = ctx.random.next();
    if (ctx.config.pushPullIntervalMs > 0) {
      this.pushPullTimer = ctx.timers.schedule('push-pull', now + Math.floor(this.pushPullPhase * ctx.config.pushPullIntervalMs));
    }
  }

  /** Negotiate(join = true) with each seed, skipping our own gRPC address. */
  join(seeds: readonly Address[], out: Effect[]): void {
    const seen = new Set<Address>();
    this.joinRequests.clear();
    for (const seed of seeds) {
      if (seed === this.roster.self.grpcAddr || seen.has(seed)) continue;
      seen.add(seed);
      this.joinRequests.set(this.negotiate(seed, true, out), seed);
    }
    // A new join (the shell retries) replaces the follow-ups of the previous one: at most
    // JOIN_SYNC_DELAYS_PROBES.length extra exchanges per join.
    this.cancelJoinSyncs();
    this.joinAnsweredBy = [];
    this.joinSyncsFired = 0;
    this.joinSyncToSchedule = seen.size > 0 ? JOIN_SYNC_DELAYS_PROBES : [];
  }

  /** An incoming full-state exchange: merge theirs; the answer is ours. */
  onNegotiate(remote: readonly MemberRecord[], now: Millis, out: Effect[]): MemberRecord[] {
    this.membership.merge(remote, now, out);
    return this.roster.fullState();
  }

  onNegotiateReply(requestId: number, remote: readonly MemberRecord[], now: Millis, out: Effect[]): void {
    // Request ids are informational: a late answer is still good news, and merging it is harmless.
    this.membership.markJoined();
    this.membership.merge(remote, now, out);
    const seed = this.joinRequests.get(requestId);
    if (seed !== undefined) {
      this.joinRequests.delete(requestId);
      this.joinAnsweredBy.push(seed);
      this.scheduleJoinSync(now);
      // The seed spreads news of us to the members it knows; we do too, to the members its answer
      // named, so our arrival goes out on both sides at once (memberlist queues a joiner's own alive).
      if (this.joinAnsweredBy.length === 1 && !this.own.isLeaving()) this.announceArrival(now);
    }
  }

  /** Nothing to undo: the shell retries join, and push-pull simply tries another member next period. */
  onNegotiateFailed(requestId: number): void {
    this.joinRequests.delete(requestId);
  }

  /** Leaving: no more push-pull or follow-ups; answering others' exchanges goes on. */
  stop(): void {
    this.ctx.timers.cancel(this.pushPullTimer);
    this.pushPullTimer = null;
    this.cancelJoinSyncs();
    this.joinSyncToSchedule = [];
  }

  /** Anti-entropy: a full-state exchange with one random alive member, less often in big clusters. */
  onPushPullTimer(timer: CoreTimer, now: Millis, out: Effect[]): void {
    if (timer !== this.pushPullTimer) return;
    const { config, counters, timers } = this.ctx;
    const interval = pushPullInterval(config.pushPullIntervalMs, this.roster.liveCount());
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
    const [peer] = this.roster.pickAlive(1);
    if (peer !== undefined) {
      this.negotiate(peer.grpcAddr, false, out);
      counters.pushPullsStarted++;
    }
    // Reconnect (like Serf): after a partition heals, only an exchange with a member we hold dead lets
    // either side learn the other is alive. A real corpse just makes the RPC fail.
    const lost = this.roster.reconnectCandidate();
    if (lost !== undefined) {
      this.negotiate(lost.grpcAddr, false, out);
      counters.reconnectsStarted++;
    }
  }

  /** The first follow-up goes to a seed that answered (it knows the most), later ones to random members. */
  onJoinSyncTimer(timer: CoreTimer, out: Effect[]): void {
    const index = this.joinSyncTimers.indexOf(timer);
    if (index < 0 || this.own.isLeaving()) return;
    this.joinSyncTimers.splice(index, 1);
    const seeds = this.joinAnsweredBy;
    const seed = this.joinSyncsFired++ === 0 && seeds.length > 0 ? seeds[this.ctx.random.int(seeds.length)] : undefined;
    const to = seed ?? this.roster.pickAlive(1)[0]?.grpcAddr;
    if (to !== undefined) this.negotiate(to, false, out);
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

  private cancelJoinSyncs(): void {
    for (const timer of this.joinSyncTimers) this.ctx.timers.cancel(timer);
    this.joinSyncTimers = [];
  }

  private negotiate(to: Address, join: boolean, out: Effect[]): number {
    const requestId = this.nextRequestId++;
    out.push({ type: 'negotiate', to, requestId, state: this.roster.fullState(), join });
    return requestId;
  }
}
