// Spreading membership news: every update is piggybacked on outgoing probe traffic and, while any is
// queued, gossiped every gossipInterval to a few random members, until it has been sent
// retransmitMult * ceil(log10(n + 1)) times (memberlist queue.go + state.go gossip()).
//
// News of an arrival (a member we had not known, a new life of one we knew, or our own alive once a
// seed answered our join) does not wait a whole interval after a quiet spell: the next round is brought
// forward to one interval after the last, at once if that has passed. A joiner then reaches everyone in
// a few network hops instead of one gossip interval per hop, and no member gossips more than once per
// interval.
import { BroadcastQueue, retransmitLimit } from './broadcast-queue.js';
import type { SwimConfig } from './config.js';
import type { ByteMeasure } from './measure.js';
import { cachedUpdateSize } from './measure.js';
import type { CoreTimer, Timers } from './timers.js';
import type { CoreCounters, Effect, MemberRecord, Message, Millis, Packet, Update } from './types.js';

/**
 * What queued news is: the first news of a member we had not known ('introduction'), a member arriving
 * under a known name (a new life, or our own alive as a seed answers our join: 'arrival'), or any other
 * change about a known member ('change').
 */
export type News = 'change' | 'introduction' | 'arrival';

/** What dissemination needs to know about the membership. */
export interface GossipPeers {
  /** n: alive + suspect members including self. */
  liveCount(): number;
  /** Whether anyone else is known at all (no one to gossip to otherwise). */
  hasOthers(): boolean;
  /** Up to `count` random gossip targets: alive, suspect, and dead ones still within retention. */
  gossipTargets(count: number): MemberRecord[];
  /** What we hold against `target` (suspect / dead), to lead any packet sent to it; null otherwise. */
  accusationAgainst(target: MemberRecord): Update | null;
}

export class Dissemination {
  private readonly queue: BroadcastQueue;
  private gossipTimer: CoreTimer | null = null;
  /** When the last gossip round went out (-Infinity: none yet). */
  private lastRoundAt = -Infinity;

  constructor(
    private readonly config: SwimConfig,
    private readonly measure: ByteMeasure,
    private readonly timers: Timers,
    private readonly counters: CoreCounters,
    private readonly peers: GossipPeers,
    maxQueued: number,
  ) {
    // Numbered by a private index even when the core's tables share one: queue slots then span only the
    // news held at once. Sized by a shared index's span, a single piece of news (a crash) made every
    // core of a large simulation allocate arrays for every member number, and again each time its queue
    // emptied and the next news came.
    this.queue = new BroadcastQueue(maxQueued);
  }

  get pending(): number {
    return this.queue.size;
  }

  /**
   * Queues news for retransmission, replacing older news about the same member. An `introduction` (the
   * first news of a member) goes after all news about known members, so a refutation is never starved by
   * a mass join's backlog. Introductions and `arrival`s (a member's new life, our own alive as we join)
   * bring the next gossip round forward.
   */
  broadcast(update: Update, now: Millis, news: News = 'change'): void {
    this.queue.enqueue(update, cachedUpdateSize(this.measure, update), news === 'introduction');
    this.counters.updatesQueued++;
    this.ensureGossip(now, news !== 'change');
  }

  /**
   * Gossip runs only while news is queued and someone could hear it, so an idle core has no timer. The
   * next round is one interval from now, or, for an arrival (`soon`), one interval after the last round.
   */
  ensureGossip(now: Millis, soon = false): void {
    if (this.queue.size === 0 || !this.peers.hasOthers()) return;
    const at = soon ? Math.max(now, this.lastRoundAt + this.config.gossipIntervalMs) : now + this.config.gossipIntervalMs;
    if (this.gossipTimer !== null) {
      if (this.gossipTimer.at <= at) return;
      this.timers.cancel(this.gossipTimer);
    }
    this.gossipTimer = this.timers.schedule('gossip', at);
  }

  onGossipTimer(timer: CoreTimer, now: Millis, out: Effect[]): void {
    if (timer !== this.gossipTimer) return;
    this.gossipTimer = null;
    if (this.queue.size === 0) return;
    this.lastRoundAt = now;
    // Each target gets its own fill (memberlist does the same), so news fans out gossipNodes ways per round.
    for (const target of this.peers.gossipTargets(this.config.gossipNodes)) {
      // Buddy system for gossip too: a suspect or dead target hears the accusation first, so it can refute.
      const accusation = this.peers.accusationAgainst(target);
      const packet = this.packet(null, [accusation]);
      const queued = packet.updates.length - (accusation !== null && packet.updates[0] === accusation ? 1 : 0);
      if (queued === 0) break;
      out.push({ type: 'send', to: target.gossipAddr, packet });
      this.counters.gossipPacketsSent++;
    }
    this.ensureGossip(now);
  }

  /** A message plus as much queued news as fits the packet budget (`leads` first, when they fit). */
  packet(message: Message | null, leads: readonly (Update | null)[] = [], withQueued = true): Packet {
    const updates: Update[] = [];
    let room = this.config.packetBudget - this.measure.packetOverhead - (message === null ? 0 : this.measure.messageSize(message));
    for (const lead of leads) {
      if (lead === null) continue;
      const size = cachedUpdateSize(this.measure, lead);
      if (size <= room) {
        updates.push(lead);
        room -= size;
      }
    }
    if (withQueued && room > 0) this.queue.fill(room, this.retransmitLimit(), updates);
    return { message, updates };
  }

  private retransmitLimit(): number {
    return retransmitLimit(this.config.retransmitMult, this.peers.liveCount());
  }
}
