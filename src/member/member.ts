// A member as a sans-IO state machine: the SWIM core plus everything else a member decides — joining
// (seed retries with backoff, bootstrapping alone, the seed re-check that merges clusters), readiness and
// its reasons, serving, drain and leave, the table version it serves, which periodic exchanges go by
// digest, and its ownership claims (claims.ts: timers run from tick, calls to peers are effects answered
// back as inputs). Every input carries the time; every output is an effect the shell carries out. No
// clock, timers, randomness or I/O of its own (lint enforces it): the same member runs behind real
// sockets, in whole-member tests and in the simulator.
import { seededRandom } from '../core/random.js';
import { SwimCore, type ByteMeasure } from '../core/swim.js';
import type { SwimConfig } from '../core/config.js';
import type { MemberIndex } from '../core/member-index.js';
import type { MemberMeta, MemberRecord, MembershipEvent, Packet, Random } from '../core/types.js';
import { ReadinessRule } from '../runtime/readiness.js';
import type { HealthView } from '../runtime/view.js';
import type { AnnounceAck } from '../ownership/service-types.js';
import type { ClaimService } from '../ownership/service.js';
import type { MemberClaims } from './claims.js';
import { log, type MemberEffect } from './effects.js';
import { JoinPlan } from './join.js';
import { TableRequests } from './table-request.js';

export type { MemberEffect } from './effects.js';

export interface MemberConfig {
  readonly name: string;
  /** Random id of this process life (from the shell). */
  readonly lifeId: string;
  /** Boot time in ms (from the shell), so a restart supersedes the previous life at once. */
  readonly incarnation: number;
  readonly gossipAddr: string;
  readonly grpcAddr: string;
  readonly appAddr: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly swim: SwimConfig;
  /** Seed of the core's randomness (from the shell). */
  readonly randomSeed: number;
  /** A source of randomness to use instead of randomSeed (a simulator hands each core its own stream). */
  readonly random?: Random;
  /** Member numbers shared with other cores in the same process (a simulator's memory saving). */
  readonly memberIndex?: MemberIndex;
  readonly measure?: ByteMeasure;
  /** Peer addresses the member may hold (the shell's control plane must be able to carry them). */
  readonly acceptsAddress?: (addr: string) => boolean;
  /** The configured seeds (resolved by the shell); without any the member forms a cluster alone at start. */
  readonly seeds: readonly string[];
  /** With seeds: form a new cluster alone when none answers within joinTimeoutMs. */
  readonly bootstrap: boolean;
  readonly joinRetryInitialMs: number;
  readonly joinRetryMaxMs: number;
  readonly joinTimeoutMs: number;
  readonly settleMs: number;
  /** On leave: time between giving up shards and announcing the leave. */
  readonly drainMs: number;
  /** Whether an app-health check runs: without one the app is taken as ready. */
  readonly appChecked: boolean;
  /** Periodic exchanges go by digest unless 'negotiate'. */
  readonly antiEntropy: 'digest' | 'full' | 'negotiate';
  /** Claims it runs (built by the shell, whose API reads them before the member starts; only the member steps them). */
  readonly claims?: MemberClaims;
}

export class Member {
  readonly core: SwimCore;
  /** Its claims, when it runs them. */
  readonly claims: MemberClaims | null;
  private readonly join: JoinPlan;
  private readonly readinessRule: ReadinessRule;
  /** Join requests in flight, by core request id: the seed asked. */
  private readonly joinRequests = new Map<number, string>();
  private appReady: boolean;
  /** Leave asked for: not serving any more; the leave is announced once drainEndsAt passes. */
  private draining = false;
  private drainEndsAt: number | null = null;
  /** The leave has been announced. */
  private leaving = false;
  private stopped = false;
  private lastViewChangeAt: number;
  private viewDirty = false;
  /** The table asked for and the one served. */
  private readonly tables: TableRequests;
  /** Inputs taken so far (steps): what a view-changed effect's owners are current for. */
  private inputs = 0;

  constructor(private readonly config: MemberConfig, now: number) {
    this.appReady = !config.appChecked;
    const random = config.random ?? seededRandom(config.randomSeed);
    const meta: MemberMeta = { appAddr: config.appAddr, serving: this.wantServing(), tags: config.tags };
    this.core = new SwimCore({
      name: config.name,
      lifeId: config.lifeId,
      incarnation: config.incarnation,
      gossipAddr: config.gossipAddr,
      grpcAddr: config.grpcAddr,
      meta,
      config: config.swim,
      random,
      now,
      ...(config.measure ? { measure: config.measure } : {}),
      ...(config.acceptsAddress ? { acceptsAddress: config.acceptsAddress } : {}),
      ...(config.memberIndex ? { memberIndex: config.memberIndex } : {}),
    });
    this.join = new JoinPlan(config, Math.max(config.swim.pushPullIntervalMs, 1000), random);
    this.readinessRule = new ReadinessRule(config.settleMs);
    this.tables = new TableRequests(this.core, () => this.inputs);
    this.lastViewChangeAt = now;
    this.claims = config.claims ?? null;
    this.claims?.start(now);
  }

  get name(): string {
    return this.config.name;
  }

  /** The first steps: the table of the view at start, then joining (or forming a cluster alone). */
  start(now: number): MemberEffect[] {
    this.claims?.state.refreshMembers(this.core.members());
    const out: MemberEffect[] = [this.viewChanged()];
    if (this.config.seeds.length === 0) {
      this.join.markJoined(now);
      out.push(log('info', 'no seeds configured: bootstrapping a new cluster alone'));
    } else {
      out.push(...this.join.start(now));
    }
    return out;
  }

  /** Starts already joined to a converged cluster of `records` (the simulator's converged start), instead of start(). */
  startConverged(records: readonly MemberRecord[], now: number): MemberEffect[] {
    // The core emits no member event per record (Membership.seedConverged): one view change stands for
    // them, the caller tells its own listeners, and only claims, when run, hear each member joining.
    return this.step(now, () => {
      this.core.seedConverged(records);
      const claims = this.claims;
      if (claims !== null) {
        for (const member of records) {
          if (member.name === this.core.self.name) continue;
          claims.state.onMembershipEvent({ type: 'member', name: member.name, from: null, to: member.state, incarnation: member.incarnation, reason: 'joined', member });
        }
      }
      this.join.markJoined(now);
      this.markViewChanged(now);
    });
  }

  /** The earliest time tick() has something to do (`withClaims` false: leaving out the claims' timers). */
  nextDeadline(withClaims = true): number {
    if (this.stopped) return Infinity;
    const own = Math.min(this.core.nextDeadline(), this.join.nextDeadline(), this.drainEndsAt ?? Infinity);
    return withClaims ? Math.min(own, this.claimsDeadline()) : own;
  }

  /** The earliest time a claims timer is due (tick fires it). */
  claimsDeadline(): number {
    return this.stopped || this.claims === null ? Infinity : this.claims.nextDeadline();
  }

  tick(now: number): MemberEffect[] {
    // The core's own list carries the step's effects (every member ticks several times a second).
    if (this.stopped) return [];
    this.enter(now);
    const out: MemberEffect[] = this.core.tick(now);
    if (this.join.due(now, this.core)) {
      const joined = this.join.tick(now, this.core, !this.leaving);
      out.push(...joined.effects);
      if (joined.joinedNow) this.markViewChanged(now);
    }
    if (this.drainEndsAt !== null && now >= this.drainEndsAt) this.announceLeave(now, out);
    this.claims?.runDue();
    return this.finish(now, out);
  }

  /** A claims call (a claim-call effect) was answered by the peer, or failed (an Error). */
  claimAnswered(callId: number, outcome: AnnounceAck | Error, now: number): MemberEffect[] {
    return this.step(now, () => this.claims?.answered(callId, outcome));
  }

  /** An operation on its claims as one input (the app's claim or release, a peer's announcement, digest records): its value, and what it set off. */
  withClaims<T>(now: number, op: (service: ClaimService) => T): { value: T; effects: MemberEffect[] } {
    const claims = this.claims;
    if (claims === null) throw new Error('this member runs no claims');
    if (this.stopped) return { value: op(claims.service), effects: [] };
    let value: T | undefined;
    const effects = this.step(now, () => {
      value = op(claims.service);
    });
    return { value: value as T, effects };
  }

  packet(from: string, packet: Packet, now: number): MemberEffect[] {
    if (this.stopped) return [];
    this.enter(now);
    return this.finish(now, this.core.receive(from, packet, now));
  }

  /** A Negotiate from a peer: the reply to send back, and effects. */
  negotiateRequest(remote: readonly MemberRecord[], join: boolean, now: number): { reply: MemberRecord[]; effects: MemberEffect[] } {
    let reply: MemberRecord[] = [];
    const effects = this.step(now, (out) => {
      const answer = this.core.onNegotiate(remote, join, now);
      reply = answer.reply;
      out.push(...answer.effects);
    });
    return { reply, effects };
  }

  /** Records merged from outside an exchange the core asked for (a digest sync a peer started). */
  mergeRecords(records: readonly MemberRecord[], now: number): MemberEffect[] {
    return this.step(now, (out) => out.push(...this.core.onNegotiate(records, false, now).effects));
  }

  negotiateAnswered(requestId: number, records: readonly MemberRecord[], now: number): MemberEffect[] {
    return this.step(now, (out) => {
      out.push(...this.core.onNegotiateReply(requestId, records, now));
      const via = this.joinRequests.get(requestId);
      if (via === undefined) return;
      this.joinRequests.delete(requestId);
      if (this.join.joinedAt !== null) return;
      this.join.markJoined(now);
      out.push(log('info', 'joined the cluster', { via, members: records.length }));
      this.markViewChanged(now);
    });
  }

  negotiateFailed(requestId: number, busy: boolean, now: number, refused = false): MemberEffect[] {
    return this.step(now, (out) => {
      // A seed that answers "busy", or refuses this member, is a cluster that exists: never bootstrap
      // alone beside it.
      if (this.joinRequests.delete(requestId) && (busy || refused)) this.join.seedAnsweredBusy(refused);
      out.push(...this.core.onNegotiateFailed(requestId, now));
    });
  }

  closingRequest(name: string, incarnation: number, now: number): MemberEffect[] {
    return this.step(now, (out) => out.push(...this.core.onClosing(name, incarnation, now)));
  }

  forceLeave(name: string, now: number): { refused: ReturnType<SwimCore['forceLeave']>['refused']; effects: MemberEffect[] } {
    let refused: ReturnType<SwimCore['forceLeave']>['refused'] = null;
    const effects = this.step(now, (out) => {
      const answer = this.core.forceLeave(name, now);
      refused = answer.refused;
      out.push(...answer.effects);
    });
    return { refused, effects };
  }

  /** The seeds resolved for a join attempt or a seed re-check (own addresses already left out). */
  seedsResolved(purpose: 'join' | 'watch', addresses: readonly string[], now: number): MemberEffect[] {
    const waiting = new Set(this.joinRequests.values());
    return this.step(now, (out) => out.push(...this.join.seedsResolved(purpose, addresses, this.core, now, (addr) => waiting.has(addr))));
  }

  appHealth(ready: boolean, now: number): MemberEffect[] {
    return this.step(now, (out) => {
      this.appReady = ready;
      this.updateServing(now, out);
    });
  }

  /** A table was built for the owners last asked for (or an older set; the newest follows). */
  tableBuilt(version: string): void {
    this.tables.built(version);
  }

  /** Starts a graceful leave: stop serving now, announce after the drain. Again: nothing new. */
  leaveRequested(now: number): MemberEffect[] {
    if (this.draining || this.leaving || this.stopped) return [];
    return this.step(now, (out) => {
      this.draining = true;
      out.push(log('info', 'leaving: giving up shards, draining', { drainMs: this.config.drainMs }));
      this.updateServing(now, out);
      this.drainEndsAt = now + Math.max(0, this.config.drainMs);
      if (this.config.drainMs <= 0) this.announceLeave(now, out);
    });
  }

  stop(): void {
    this.stopped = true;
    this.claims?.close();
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  /** A leave or drain has started. */
  get isLeaving(): boolean {
    return this.leaving || this.draining;
  }

  /** When the member joined or bootstrapped; null before. Unlike core.isJoined(), forming a cluster alone counts. */
  get joinedAt(): number | null {
    return this.join.joinedAt;
  }

  /** The version of the last table built, null before the first. */
  get tableVersion(): string | null {
    return this.tables.version;
  }

  /** The readiness rule of src/runtime/readiness.ts, fed this member's state. */
  readiness(now: number, tablesBusy: boolean, appReason: string): HealthView {
    const { core } = this;
    const peersAlive = core.peersInState('alive');
    const peersUnreachable = core.peersInState('suspect') + core.peersInState('dead');
    return this.readinessRule.check({
      now,
      stopped: this.stopped,
      leaving: this.isLeaving,
      joinedAt: this.join.joinedAt,
      tableCurrent: this.tables.current(tablesBusy),
      appReady: this.appReady,
      appReason,
      lastViewChangeAt: this.lastViewChangeAt,
      peersAlive,
      peersUnreachable,
    });
  }

  /** Whether this member offers to own shards: app ready, no leave under way. */
  wantServing(): boolean {
    return this.appReady && !this.draining && !this.leaving;
  }

  /** Members other than this one held alive or suspect. */
  livePeers(): MemberRecord[] {
    return this.core.members().filter((m) => m.name !== this.config.name && (m.state === 'alive' || m.state === 'suspect'));
  }

  /** One step: runs `body`, then finish() on what it produced. */
  private step(now: number, body: (out: MemberEffect[]) => void): MemberEffect[] {
    if (this.stopped) return [];
    this.enter(now);
    const out: MemberEffect[] = [];
    body(out);
    return this.finish(now, out);
  }

  private enter(now: number): void {
    this.inputs++;
    this.claims?.begin(now);
  }

  /** Notes view changes and join requests in a step's effects (the claims hear the events), adds the table request and claims calls. */
  private finish(now: number, out: MemberEffect[]): MemberEffect[] {
    const claims = this.claims;
    // In place: every input of every member passes here.
    for (let i = 0; i < out.length; i++) {
      const e = out[i] as MemberEffect;
      if (e.type === 'event') {
        if (changesView(e.event)) this.markViewChanged(now);
        // Claims of a member that died, left or restarted are released; a new member is told ours.
        claims?.state.onMembershipEvent(e.event);
      }
      if (e.type === 'negotiate' && e.join) this.joinRequests.set(e.requestId, e.to);
      // Periodic exchanges go by digest; joins (and peers without the digest RPCs) by Negotiate.
      if (e.type === 'negotiate' && !e.join && this.config.antiEntropy !== 'negotiate') {
        out[i] = { type: 'digest', to: e.to, requestId: e.requestId, state: e.state };
      }
    }
    if (this.viewDirty) {
      claims?.state.refreshMembers(this.core.members());
      out.push(this.viewChanged());
    }
    claims?.takeCalls(out);
    return out;
  }

  private markViewChanged(now: number): void {
    this.viewDirty = true;
    this.lastViewChangeAt = now;
  }

  private viewChanged(): MemberEffect {
    this.viewDirty = false;
    return this.tables.request();
  }

  /** Advertises a change of the serving flag (app readiness, drain) with a raised incarnation. */
  private updateServing(now: number, out: MemberEffect[]): void {
    if (this.leaving) return;
    const want = this.wantServing();
    const self = this.core.self;
    if (self.meta.serving === want) return;
    out.push(...this.core.updateMeta({ ...self.meta, serving: want }, now));
  }

  private announceLeave(now: number, out: MemberEffect[]): void {
    this.drainEndsAt = null;
    this.leaving = true;
    out.push(log('info', 'leaving the cluster', {}));
    out.push(...this.core.leave(now));
    out.push({ type: 'leave-announced' });
  }
}

function changesView(event: MembershipEvent): boolean {
  return event.type === 'member' || event.type === 'reaped';
}
