// SWIM failure detection with Lifeguard: one probe per protocol period (direct ping, then ping-req through
// k relays), nacks from relays that heard nothing, local health awareness stretching the period, and the
// buddy system. Also the relay side: carrying out other members' ping-reqs.
import type { CoreContext } from './context.js';
import type { Dissemination } from './dissemination.js';
import { MAX_PENDING_RELAYS } from './limits.js';
import type { Membership } from './membership.js';
import type { Roster } from './roster.js';
import type { CoreTimer } from './timers.js';
import type { Address, Effect, Message, Millis, Update } from './types.js';

/** The one probe in flight. */
interface Probe {
  readonly seq: number;
  readonly target: string;
  readonly incarnation: number;
  acked: boolean;
  indirect: boolean;
  expectedNacks: number;
  nacks: number;
  timeoutTimer: CoreTimer | null;
}

/** A ping-req this member is carrying out for someone else. */
interface Relay {
  readonly requesterAddr: Address;
  readonly requesterSeq: number;
  readonly target: string;
  readonly timer: CoreTimer;
}

const SEQ_MODULUS = 0x1_0000_0000;

/**
 * Lifeguard (section IV-A): a relay that heard no ack from the target nacks at 80 % of its probe
 * timeout, so the nack reaches the asker within the asker's probe timeout after the ping-req; the
 * asker can then judge the probe when its protocol period ends, as SWIM and memberlist do, and still
 * count the nacks into its local health.
 */
function relayNackDelay(probeTimeoutMs: number): number {
  return Math.ceil((probeTimeoutMs * 4) / 5);
}

export class Prober {
  private probe: Probe | null = null;
  private roundTimer: CoreTimer | null = null;
  private readonly relays = new Map<number, Relay>();
  private nextSeq: number;

  constructor(
    private readonly ctx: CoreContext,
    private readonly members: Roster,
    private readonly membership: Membership,
    private readonly news: Dissemination,
    now: Millis,
  ) {
    this.nextSeq = ctx.random.int(SEQ_MODULUS);
    // A random phase, as memberlist staggers its ticker, so a cluster started at once does not probe in step.
    this.roundTimer = ctx.timers.schedule('probe-round', now + ctx.random.int(ctx.config.probeIntervalMs));
  }

  /** Leaving: no more probes (our verdicts no longer matter); relaying and answering go on. */
  stop(): void {
    this.endProbe();
    this.ctx.timers.cancel(this.roundTimer);
    this.roundTimer = null;
  }

  // --- our own probes -----------------------------------------------------------------------

  /** A protocol period ends: judge the probe in flight, then start the next one. */
  onRoundTimer(timer: CoreTimer, now: Millis, out: Effect[]): void {
    if (timer !== this.roundTimer) return;
    const { config, timers, awareness } = this.ctx;
    this.roundTimer = null;
    if (this.probe !== null) this.finishProbe(this.probe, now, out);
    // The period is scaled when the probe starts: an unhealthy member slows its own probing.
    this.roundTimer = timers.schedule('probe-round', now + awareness.scale(config.probeIntervalMs));
    const target = this.members.nextProbeTarget();
    if (target === undefined) return;
    const seq = this.takeSeq();
    this.probe = {
      seq,
      target: target.name,
      incarnation: target.incarnation,
      acked: false,
      indirect: false,
      expectedNacks: 0,
      nacks: 0,
      timeoutTimer: timers.schedule('probe-timeout', now + awareness.scale(config.probeTimeoutMs), '', seq),
    };
    const self = this.members.self;
    const ping: Message = { type: 'ping', seq, from: self.name, fromAddr: self.gossipAddr, target: target.name };
    // Buddy system: a member we suspect hears about it in the ping itself, so it can refute at once.
    out.push({ type: 'send', to: target.gossipAddr, packet: this.news.packet(ping, [this.members.accusationAgainst(target)]) });
    this.ctx.counters.probesSent++;
  }

  /**
   * Buddy system outside the probe order (Suspicions schedules it): a ping to a member we suspect,
   * carrying the accusation, so it refutes and its ack brings the refutation. Only a reminder: no
   * probe timeout, no ping-req, no verdict, no health score; its ack matches no probe and is ignored
   * apart from the news it carries.
   */
  remindSuspect(name: string, out: Effect[]): void {
    const record = this.members.get(name);
    const accusation = record === undefined ? null : this.members.accusationAgainst(record);
    if (record === undefined || accusation === null) return;
    const self = this.members.self;
    const ping: Message = { type: 'ping', seq: this.takeSeq(), from: self.name, fromAddr: self.gossipAddr, target: name };
    out.push({ type: 'send', to: record.gossipAddr, packet: this.news.packet(ping, [accusation]) });
  }

  /** No direct ack in time: ask k other alive members to try. */
  onTimeoutTimer(timer: CoreTimer, now: Millis, out: Effect[]): void {
    const probe = this.probe;
    if (probe === null || probe.timeoutTimer !== timer) return;
    probe.timeoutTimer = null;
    if (probe.acked) return;
    const target = this.members.get(probe.target);
    if (target === undefined) return;
    const { config, counters, timers } = this.ctx;
    const relays = this.members.pickAlive(config.indirectChecks, probe.target);
    probe.indirect = true;
    probe.expectedNacks = relays.length;
    const self = this.members.self;
    const req: Message = { type: 'ping-req', seq: probe.seq, from: self.name, fromAddr: self.gossipAddr, target: probe.target, targetAddr: target.gossipAddr };
    for (const relay of relays) out.push({ type: 'send', to: relay.gossipAddr, packet: this.news.packet(req) });
    counters.indirectProbesSent += relays.length;
    // Relays nack at relayNackDelay of their own (unscaled) probe timeout, so by one probe timeout
    // after the ping-req their nacks are in; the period ends no sooner (usually it already ends later).
    const indirectDeadline = now + config.probeTimeoutMs;
    if (relays.length > 0 && this.roundTimer !== null && this.roundTimer.at < indirectDeadline) {
      timers.cancel(this.roundTimer);
      this.roundTimer = timers.schedule('probe-round', indirectDeadline);
    }
  }

  /** The period ended without an ack: count the verdict into our own health and suspect the target. */
  private finishProbe(probe: Probe, now: Millis, out: Effect[]): void {
    this.endProbe();
    if (probe.acked) return;
    this.ctx.counters.probesFailed++;
    // memberlist probeNode: with relays that can nack, each missing nack hints the fault is ours;
    // without any, every failed probe counts against us.
    const delta = probe.expectedNacks > 0 ? Math.max(0, probe.expectedNacks - probe.nacks) : 1;
    this.ctx.awareness.applyDelta(delta);
    this.membership.suspectAfterFailedProbe(probe.target, probe.incarnation, now, out);
  }

  private endProbe(): void {
    if (this.probe === null) return;
    this.ctx.timers.cancel(this.probe.timeoutTimer);
    this.probe = null;
  }

  // --- messages -----------------------------------------------------------------------------

  /**
   * Handles one message. `correction` (our alive record, when the packet carried a stale accusation about
   * us) rides on our answer if there is one; returns whether it did.
   */
  handle(from: Address, message: Message, now: Millis, out: Effect[], correction: Update | null): boolean {
    switch (message.type) {
      case 'ping':
        return this.onPing(from, message, out, correction);
      case 'ack':
        this.onAck(message, out);
        return false;
      case 'nack':
        this.onNack(message);
        return false;
      case 'ping-req':
        return this.onPingReq(from, message, now, out, correction);
    }
  }

  private onPing(from: Address, ping: Extract<Message, { type: 'ping' }>, out: Effect[], correction: Update | null): boolean {
    const self = this.members.self;
    const replyTo = ping.fromAddr || from;
    // Addressed to a previous owner of this address: stay silent so the prober is not fooled.
    if (ping.target !== self.name || replyTo === self.gossipAddr) return false;
    // Buddy system both ways: if we suspect the prober, the ack tells it so.
    const prober = this.members.get(ping.from);
    const accusation = prober === undefined ? null : this.members.accusationAgainst(prober);
    out.push({ type: 'send', to: replyTo, packet: this.news.packet({ type: 'ack', seq: ping.seq, from: self.name }, [correction, accusation]) });
    return true;
  }

  private onAck(ack: Extract<Message, { type: 'ack' }>, out: Effect[]): void {
    const probe = this.probe;
    if (probe !== null && probe.seq === ack.seq && ack.from === probe.target) {
      if (!probe.acked) {
        probe.acked = true;
        this.ctx.timers.cancel(probe.timeoutTimer);
        probe.timeoutTimer = null;
        this.ctx.awareness.applyDelta(-1);
      }
      return;
    }
    const relay = this.relays.get(ack.seq);
    if (relay !== undefined && ack.from === relay.target) {
      this.relays.delete(ack.seq);
      this.ctx.timers.cancel(relay.timer);
      const relayed: Message = { type: 'ack', seq: relay.requesterSeq, from: relay.target };
      out.push({ type: 'send', to: relay.requesterAddr, packet: this.news.packet(relayed) });
    }
  }

  private onNack(nack: Extract<Message, { type: 'nack' }>): void {
    const probe = this.probe;
    if (probe !== null && probe.seq === nack.seq && probe.indirect && probe.nacks < probe.expectedNacks) {
      probe.nacks++;
      this.ctx.counters.nacksReceived++;
    }
  }

  // --- relaying for others ------------------------------------------------------------------

  private onPingReq(from: Address, req: Extract<Message, { type: 'ping-req' }>, now: Millis, out: Effect[], correction: Update | null): boolean {
    const self = this.members.self;
    const requesterAddr = req.fromAddr || from;
    // Never talk to ourselves, whatever a (confused or forged) request says.
    if (requesterAddr === self.gossipAddr) return false;
    if (req.target === self.name) {
      // We are the target: answer for ourselves.
      out.push({ type: 'send', to: requesterAddr, packet: this.news.packet({ type: 'ack', seq: req.seq, from: self.name }, [correction]) });
      return true;
    }
    if (req.targetAddr === self.gossipAddr) return false;
    // The requester missed a graceful leave (it may have joined just before it): no member answers for
    // a departed one, so say so at once, with the news, instead of letting the requester suspect it.
    const leftNews = this.members.leftNewsAbout(req.target);
    if (leftNews !== null) {
      const nack: Message = { type: 'nack', seq: req.seq, from: self.name };
      out.push({ type: 'send', to: requesterAddr, packet: this.news.packet(nack, [leftNews, correction]) });
      this.ctx.counters.nacksSent++;
      return false;
    }
    if (this.relays.size >= MAX_PENDING_RELAYS) {
      this.ctx.counters.relaysDropped++;
      return false;
    }
    const seq = this.takeSeq();
    const timer = this.ctx.timers.schedule('relay', now + relayNackDelay(this.ctx.config.probeTimeoutMs), '', seq);
    this.relays.set(seq, { requesterAddr, requesterSeq: req.seq, target: req.target, timer });
    const ping: Message = { type: 'ping', seq, from: self.name, fromAddr: self.gossipAddr, target: req.target };
    // Buddy system on the indirect path too: a target we suspect learns it from the relay's ping.
    const known = this.members.get(req.target);
    const accusation = known === undefined || known.gossipAddr !== req.targetAddr ? null : this.members.accusationAgainst(known);
    out.push({ type: 'send', to: req.targetAddr, packet: this.news.packet(ping, [accusation]) });
    return false;
  }

  /** Lifeguard: tell the requester we heard nothing, so it can tell a dead target from its own trouble. */
  onRelayTimer(timer: CoreTimer, out: Effect[]): void {
    const relay = this.relays.get(timer.seq);
    if (relay === undefined || relay.timer !== timer) return;
    this.relays.delete(timer.seq);
    const nack: Message = { type: 'nack', seq: relay.requesterSeq, from: this.members.self.name };
    out.push({ type: 'send', to: relay.requesterAddr, packet: this.news.packet(nack) });
    this.ctx.counters.nacksSent++;
  }

  private takeSeq(): number {
    const seq = this.nextSeq;
    this.nextSeq = (this.nextSeq + 1) % SEQ_MODULUS;
    return seq;
  }
}
