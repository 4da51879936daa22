// Whole members in the simulator: each simulated process runs a Member (src/member/), the same state
// machine the agent runs behind real sockets, not a bare SWIM core. The engine still drives the
// SimCore interface; this adapter is the member's shell there. Gossip, Negotiate, digest and Closing go
// through the engine's network and control plane as before; the rest a shell does is modelled here on
// the virtual clock: seeds resolve at once to those of the seeds the engine asked to join through whose
// process is up; ownership tables are not built but answered after a modelled build time with a version
// derived from the owner set; readiness is polled the way a kubelet polls /readyz.
import type { SwimCoreOptions } from '../core/swim.js';
import type { Address, Effect, MemberRecord, Millis, Packet } from '../core/types.js';
import { Member, type MemberEffect } from '../member/member.js';
import type { HealthView } from '../runtime/view.js';
import type { ClaimsMember } from '../ownership/claims-member.js';
import type { ClaimService } from '../ownership/service.js';
import type { AnnounceAck, Self } from '../ownership/service-types.js';
import type { ClaimsHost, SimClaims } from './claims.js';
import type { CoreFactory, SimCore } from './core-port.js';
import { SharedMemberIndex } from '../core/member-index.js';
import { MemberFigures, type MemberLife } from './member-figures.js';
import { OwnerTally } from './owner-tally.js';
import type { HostCpu } from './cpu.js';
import { SimTableDebounce } from './agent-tables.js';
import type { TableDebounceTuning } from '../runtime/table-debounce.js';

const SEEDS_NAME = 'seeds.sim';

/** Per converged start's shared list of records: the owner tally every member of it starts with. */
const convergedTallies = new WeakMap<readonly MemberRecord[], { figures: MemberFigures; tally: OwnerTally }>();

export interface MemberModel {
  /** Time from a view change to its table being served (one build at a time, the newest owners next). @default 10 */
  tableBuildMs?: number;
  /** How often readiness is polled. @default 5000 */
  readinessPollMs?: number;
  /** The agent's settle window for the first readiness. @default two probe intervals */
  settleMs?: number;
  /** Whether a seed's process is up, as a headless Service lists only running pods. @default every seed is */
  seedUp?: (grpcAddr: string) => boolean;
  /**
   * What the seed name resolves to instead, when it answers (a headless Service listing every pod): null
   * falls back to the running seeds. The member's own address is left out by the member.
   */
  seedAddresses?: () => readonly string[] | null;
  /** On leave: time between giving up shards and announcing the leave (the agent's --drain-ms). @default 0 */
  drainMs?: number;
  /** Called with what the seed name resolved to for a join attempt or a seed re-check, before the member acts on it. */
  onSeedsResolved?: (member: SimMember, purpose: 'join' | 'watch', addresses: readonly string[]) => void;
  /** Called when a member starts serving a new table version, with the owners it stands for. */
  onTableServed?: (member: SimMember, version: string, owners: readonly string[], now: number) => void;
  /** Members run claims, their calls carried by this (src/sim/claims.ts). @default no claims */
  claims?: SimClaims;
  /**
   * The host's CPU (the simulator's `cpu`, the same object): a table build takes its CPU there, with the
   * member's loop busy meanwhile, instead of tableBuildMs. @default builds cost no CPU
   */
  cpu?: HostCpu;
  /** Hold view changes for their table as the agent does (quiet window, maximum delay). @default every change goes to the builder */
  tableDebounce?: TableDebounceTuning;
}

/** A CoreFactory whose cores are whole members; what they do is counted in `figures`. */
export function memberCoreFactory(figures: MemberFigures, model: MemberModel = {}): CoreFactory {
  return (options) => new SimMember(options, figures, model);
}

export class SimMember implements SimCore, ClaimsHost {
  readonly wholeMember: Member;
  private readonly claims: SimClaims | null;
  readonly life: MemberLife;
  private readonly tableBuildMs: number;
  private readonly pollMs: number;
  private readonly seedUp: (grpcAddr: string) => boolean;
  private readonly model: MemberModel;
  /** When the leave was announced (after the drain); null before. */
  leaveAnnouncedAt: number | null = null;
  /** The owners of the table served now (null before the first). */
  servedOwners: readonly string[] | null = null;
  private seeds: readonly string[] = [];
  private started = false;
  /** The owners as of the member's last step (its view-changed effects' owners, never listed). */
  private readonly owners: OwnerTally;
  /** The build in flight: when it is served and its version; the owners asked for since (their version; the list only for a fleet observer or the agent's hold). */
  private build: { at: number; version: string; owners: readonly string[] | null } | null = null;
  private nextOwners: { version: string; owners: readonly string[] | null } | null = null;
  private pollAt: number;
  /** The agent's hold on table requests while the view churns (model.tableDebounce). */
  private readonly debounce: SimTableDebounce | null;
  /** The claims' own wake-up (kept apart from the engine's, so claims never reorder SWIM's events). */
  private claimsWakeAt = Infinity;
  private claimsWakeGen = 0;

  constructor(options: SwimCoreOptions, private readonly figures: MemberFigures, model: MemberModel) {
    const swim = options.config;
    this.tableBuildMs = model.tableBuildMs ?? 10;
    this.pollMs = model.readinessPollMs ?? 5000;
    this.seedUp = model.seedUp ?? (() => true);
    this.model = model;
    this.wholeMember = new Member(
      {
        name: options.name,
        lifeId: options.lifeId,
        incarnation: options.incarnation,
        gossipAddr: options.gossipAddr,
        grpcAddr: options.grpcAddr,
        appAddr: options.meta.appAddr,
        tags: options.meta.tags,
        swim,
        randomSeed: 0,
        random: options.random,
        ...(options.memberIndex ? { memberIndex: options.memberIndex } : {}),
        ...(options.measure ? { measure: options.measure } : {}),
        // One configured name, as a headless Service is; it resolves to the seeds the engine joins through.
        seeds: [SEEDS_NAME],
        bootstrap: false,
        joinRetryInitialMs: 500,
        joinRetryMaxMs: 10_000,
        joinTimeoutMs: 5000,
        settleMs: model.settleMs ?? 2 * swim.probeIntervalMs,
        // Without a drain the engine's leave() is the announcement itself.
        drainMs: model.drainMs ?? 0,
        appChecked: false,
        // The engine's control plane decides digest or Negotiate for periodic exchanges, as the agent's option.
        antiEntropy: 'negotiate',
        ...(model.claims ? { claims: model.claims.claimsFor(options.name, options.grpcAddr, () => this.self(), options.now) } : {}),
      },
      options.now,
    );
    this.life = figures.lifeStarted(options.name, options.now);
    this.owners = new OwnerTally(options.memberIndex ?? new SharedMemberIndex(), (name) => figures.nameHash(name));
    for (const record of this.wholeMember.core.members()) this.owners.note(record);
    this.pollAt = options.now + this.pollMs;
    this.debounce =
      model.tableDebounce === undefined
        ? null
        : new SimTableDebounce(model.tableDebounce, (owners, at) => this.toBuilder(this.figures.versionOf(owners), owners, at), () => this.build !== null);
    this.claims = model.claims ?? null;
    this.claims?.attach(this);
  }

  get name(): string {
    return this.wholeMember.name;
  }

  get grpcAddr(): string {
    return this.wholeMember.core.self.grpcAddr;
  }

  /** Who this member is to its claims (serving as the agent tells them: app ready, no leave under way). */
  self(): Self {
    const me = this.wholeMember.core.self;
    return { name: me.name, lifeId: me.lifeId, incarnation: me.incarnation, serving: this.wholeMember.wantServing() };
  }

  tableVersion(): string | null {
    return this.wholeMember.tableVersion;
  }

  /** The member's claims state (read freely; changed only through withClaims). */
  get claimsState(): ClaimsMember {
    const claims = this.wholeMember.claims;
    if (claims === null) throw new Error('this member runs no claims');
    return claims.state;
  }

  /** An operation on the member's claims as its input (a claim, a peer's announcement, the repair's records). */
  withClaims<T>(now: Millis, op: (service: ClaimService) => T): { value: T; effects: Effect[] } {
    const { value, effects } = this.wholeMember.withClaims(now, op);
    return { value, effects: this.carry(effects, now) };
  }

  claimAnswered(callId: number, outcome: AnnounceAck | Error, now: Millis): Effect[] {
    return this.carry(this.wholeMember.claimAnswered(callId, outcome, now), now);
  }

  /** The claims' wake-up: the member's tick, unless the engine's wake at this very time runs it. */
  claimsDue(now: Millis): Effect[] {
    this.claimsWakeAt = Infinity;
    if (now >= this.nextDeadline()) return [];
    return this.carry(this.wholeMember.tick(now), now);
  }

  tick(now: Millis): Effect[] {
    // A wake-up for a readiness poll or a finished build alone finds nothing due in the member, whose
    // tick would then do nothing: it is not run (polls wake every member every few seconds).
    const out = this.carry(now >= this.wholeMember.nextDeadline() ? this.wholeMember.tick(now) : [], now);
    if (this.build !== null && now >= this.build.at) this.finishBuild(now);
    this.debounce?.tick(now);
    while (now >= this.pollAt) {
      this.pollAt += this.pollMs;
      this.figures.readinessPolled(this.life, this.readyz(now).ok, this.wholeMember.isLeaving, now);
    }
    return out;
  }

  /** What /readyz answers now (the agent's rule; the app is taken as ready). */
  readyz(now: Millis): HealthView {
    return this.wholeMember.readiness(now, this.build !== null || this.debounce?.busy === true, '');
  }

  receive(from: Address, packet: Packet, now: Millis): Effect[] {
    return this.carry(this.wholeMember.packet(from, packet, now), now);
  }

  join(seeds: readonly Address[], now: Millis): Effect[] {
    this.seeds = seeds.filter((s) => s !== this.wholeMember.core.self.grpcAddr);
    if (this.started) return this.carry(this.wholeMember.seedsResolved('watch', this.seeds, now), now);
    this.started = true;
    return this.carry(this.wholeMember.start(now), now);
  }

  /** Starts as a member of a converged cluster of `records` (SimCore.startConverged). */
  startConverged(seeds: readonly Address[], records: readonly MemberRecord[], now: Millis): Effect[] {
    this.seeds = seeds.filter((s) => s !== this.wholeMember.core.self.grpcAddr);
    this.started = true;
    const effects = this.wholeMember.startConverged(records, now);
    // The member events the core leaves out (one per record): the tally is what noting every record
    // makes (its own included, noted at the start), the same for every member of the list, so built once.
    const built = convergedTallies.get(records);
    if (built === undefined || built.figures !== this.figures || !built.tally.sameIndex(this.owners)) {
      for (const record of records) this.owners.note(record);
      convergedTallies.set(records, { figures: this.figures, tally: this.owners.clone() });
    } else {
      this.owners.copyFrom(built.tally);
    }
    return this.carry(effects, now);
  }

  onNegotiate(remote: readonly MemberRecord[], join: boolean, now: Millis): { reply: MemberRecord[]; effects: Effect[] } {
    const answer = this.wholeMember.negotiateRequest(remote, join, now);
    return { reply: answer.reply, effects: this.carry(answer.effects, now) };
  }

  onNegotiateReply(requestId: number, remote: readonly MemberRecord[], now: Millis): Effect[] {
    return this.carry(this.wholeMember.negotiateAnswered(requestId, remote, now), now);
  }

  onNegotiateFailed(requestId: number, now: Millis): Effect[] {
    return this.carry(this.wholeMember.negotiateFailed(requestId, false, now), now);
  }

  onClosing(name: string, incarnation: number, now: Millis): Effect[] {
    return this.carry(this.wholeMember.closingRequest(name, incarnation, now), now);
  }

  leave(now: Millis): Effect[] {
    return this.carry(this.wholeMember.leaveRequested(now), now);
  }

  /** The version of the owners the member asked a table for last (its live, serving members). */
  get ownersVersion(): string {
    return this.figures.version(this.owners.count, this.owners.hashSum);
  }

  /** The engine's wake-up: the member's deadlines without the claims' timers (see claimsDue). */
  nextDeadline(): Millis {
    return Math.min(this.wholeMember.nextDeadline(false), this.build?.at ?? Infinity, this.debounce?.dueAt() ?? Infinity, this.pollAt);
  }

  members(): MemberRecord[] {
    return this.wholeMember.core.members();
  }

  member(name: string): MemberRecord | undefined {
    return this.wholeMember.core.member(name);
  }

  pendingBroadcasts(): number {
    return this.wholeMember.core.pendingBroadcasts();
  }

  fullState(): MemberRecord[] {
    return this.wholeMember.core.fullState();
  }

  /** The member's effects for the engine; what a shell does besides the wire is done here. */
  private carry(effects: MemberEffect[], now: number): Effect[] {
    // In place (each input's effects are a list of their own): the engine's effects, in order, to the front.
    let n = 0;
    for (let i = 0; i < effects.length; i++) {
      const effect = effects[i] as MemberEffect;
      switch (effect.type) {
        case 'event':
          this.owners.onEvent(effect.event);
          effects[n++] = effect;
          break;
        case 'send':
        case 'negotiate':
        case 'closing':
          effects[n++] = effect;
          break;
        case 'digest':
          // Not produced with antiEntropy 'negotiate'; carried as the periodic exchange it stands for.
          effects[n++] = { type: 'negotiate', to: effect.to, requestId: effect.requestId, state: effect.state, join: false };
          break;
        case 'resolve-seeds': {
          const addresses = this.resolveSeeds();
          this.model.onSeedsResolved?.(this, effect.purpose, addresses);
          const more = this.carry(this.wholeMember.seedsResolved(effect.purpose, addresses, now), now);
          if (more.length === 0) break;
          // The answer's effects go where the request was; the rest follow them.
          const rest = effects.splice(i + 1);
          effects.length = n;
          effects.push(...more, ...rest);
          n += more.length;
          i = n - 1;
          break;
        }
        case 'view-changed':
          // The owner list is read (and so walked) only by the agent's table hold or a fleet observer.
          if (this.debounce !== null) this.debounce.request(effect.owners, now);
          else this.toBuilder(this.figures.version(this.owners.count, this.owners.hashSum), this.model.onTableServed === undefined ? null : effect.owners, now);
          break;
        case 'claim-call':
          this.claims?.call(this, effect);
          break;
        case 'leave-announced':
          this.leaveAnnouncedAt = now;
          break;
        case 'log':
          break;
      }
    }
    effects.length = n;
    this.figures.servingSeen(this.life, this.wholeMember.core.self.meta.serving);
    if (this.claims !== null) this.keepClaimsWake();
    return effects as Effect[];
  }

  /**
   * A wake-up of its own for the claims' timers. With them in the engine's one wake per node, a claims
   * timer would move that wake and so the order of SWIM events that fall at the same time: claims
   * would change the SWIM figures of a run.
   */
  private keepClaimsWake(): void {
    const at = this.wholeMember.claimsDeadline();
    if (at === this.claimsWakeAt || this.claims === null) return;
    this.claimsWakeAt = at;
    const gen = ++this.claimsWakeGen;
    if (at < Infinity) this.claims.wakeAt(this, at, () => gen === this.claimsWakeGen);
  }

  private resolveSeeds(): readonly string[] {
    const listed = this.model.seedAddresses?.() ?? null;
    if (listed === null) return this.seeds.filter(this.seedUp);
    const self = this.wholeMember.core.self.grpcAddr;
    return listed.filter((a) => a !== self);
  }

  /** One build at a time; what is asked for meanwhile is built next (the newest owners only). */
  private toBuilder(version: string, owners: readonly string[] | null, now: number): void {
    if (this.build !== null) {
      this.nextOwners = { version, owners };
      return;
    }
    const cpu = this.model.cpu;
    if (cpu === undefined) {
      this.build = { at: now + this.tableBuildMs, version, owners };
      return;
    }
    const build = { at: Infinity, version, owners };
    this.build = build;
    cpu.tableBuild(this.name, now, (doneAt) => {
      build.at = doneAt;
    });
  }

  private finishBuild(now: number): void {
    const built = this.build;
    if (built === null) return;
    this.build = null;
    this.wholeMember.tableBuilt(built.version);
    this.figures.tableServed(this.life, built.version, now);
    this.servedOwners = built.owners;
    if (built.owners !== null) this.model.onTableServed?.(this, built.version, built.owners, now);
    const next = this.nextOwners;
    this.nextOwners = null;
    if (next !== null) this.toBuilder(next.version, next.owners, now);
  }
}
