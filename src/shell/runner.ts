// Runs a Member against its ports: feeds it every input with the port clock's time, carries out the
// effects it returns, and keeps the one timer at the member's next deadline. The same runner drives a
// member behind real sockets (src/runtime/agent.ts) and in-process with in-memory ports (tests), so what
// those tests see is what a deployed member does.
import type { MemberRecord, MembershipEvent, Packet } from '../core/types.js';
import type { Member, MemberEffect } from '../member/member.js';
import { CallFailed, type ClockPort, type ControlPlaneHandlers, type ControlPlanePort, type PacketPort, type SeedResolverPort, type TableBuilderPort, type TableBuilt } from '../member/ports.js';
import type { ClaimService } from '../ownership/service.js';
import type { ClaimCallPort } from '../ownership/service-types.js';
import type { PlacementTable } from '../placement/index.js';
import type { HealthView } from '../runtime/view.js';
import { ProbeTimer } from '../runtime/probe-timer.js';

export interface RunnerPorts {
  readonly clock: ClockPort;
  readonly packets: PacketPort;
  readonly control: ControlPlanePort;
  readonly tables: TableBuilderPort;
  readonly resolveSeeds: SeedResolverPort;
  /** The claims' calls to peers (a member that runs claims asks for them as claim-call effects). */
  readonly claimCalls?: ClaimCallPort;
}

export type RunnerLogLevel = 'debug' | 'info' | 'warn' | 'error';

/** What the runner tells the shell around it; none of these may be slow. */
export interface RunnerHooks {
  log(level: RunnerLogLevel, message: string, fields: Readonly<Record<string, unknown>>): void;
  event(event: MembershipEvent): void;
  /** After the table for a changed view was asked for. */
  viewChanged(): void;
  /** A table arrived (perhaps the same version as before). */
  tableBuilt(built: TableBuilt, previous: PlacementTable): void;
  /** An effect or member step threw: counted and logged by the shell; the member lives on. */
  failure(kind: string, err: unknown): void;
  /** Round trip of a direct probe, seconds. */
  roundTrip?(seconds: number): void;
}

export class MemberRunner implements ControlPlaneHandlers {
  private cancelTimer: (() => void) | null = null;
  private timerAt = Infinity;
  private tableNow: PlacementTable;
  private readonly probeTimer: ProbeTimer;
  private leaveAnnounced: Promise<void> | null = null;
  private resolveLeave: (() => void) | null = null;

  constructor(
    readonly member: Member,
    private readonly ports: RunnerPorts,
    private readonly hooks: RunnerHooks,
  ) {
    this.tableNow = ports.tables.emptyTable();
    this.probeTimer = new ProbeTimer((seconds) => hooks.roundTrip?.(seconds));
  }

  /** The table this member serves. */
  get table(): PlacementTable {
    return this.tableNow;
  }

  now(): number {
    return this.ports.clock.now();
  }

  start(): void {
    this.run((now) => this.member.start(now));
  }

  receive(from: string, packet: Packet): void {
    this.run((now) => {
      this.probeTimer.received(packet, now);
      return this.member.packet(from, packet, now);
    });
  }

  negotiate(remote: MemberRecord[], join: boolean): MemberRecord[] {
    const { reply, effects } = this.member.negotiateRequest(remote, join, this.now());
    this.apply(effects);
    return reply;
  }

  closing(name: string, incarnation: number): void {
    this.run((now) => this.member.closingRequest(name, incarnation, now));
  }

  /** Records a peer's digest sync brought in. */
  merge(records: readonly MemberRecord[]): void {
    this.run((now) => this.member.mergeRecords(records, now));
  }

  appHealth(ready: boolean): void {
    this.run((now) => this.member.appHealth(ready, now));
  }

  forceLeave(name: string): ReturnType<Member['forceLeave']>['refused'] {
    const { refused, effects } = this.member.forceLeave(name, this.now());
    this.apply(effects);
    return refused;
  }

  /** An operation on the member's claims (the app's claim, a peer's announcement) as one member input. */
  withClaims<T>(op: (service: ClaimService) => T): T {
    const { value, effects } = this.member.withClaims(this.now(), op);
    this.apply(effects);
    return value;
  }

  /** Starts a graceful leave; resolves once the drain is over and the leave announced (or the member stopped). */
  leave(): Promise<void> {
    if (this.leaveAnnounced === null) {
      this.leaveAnnounced = new Promise<void>((resolve) => (this.resolveLeave = resolve));
      if (this.member.isStopped) this.leaveDone();
      else this.run((now) => this.member.leaveRequested(now));
    }
    return this.leaveAnnounced;
  }

  /** From the table builder port: a table for the view (or an older one; the newest follows). */
  tableBuilt(built: TableBuilt): void {
    if (this.member.isStopped) return;
    const previous = this.tableNow;
    this.tableNow = built.table;
    this.member.tableBuilt(built.table.version);
    this.hooks.tableBuilt(built, previous);
  }

  readiness(appReason: string): HealthView {
    return this.member.readiness(this.now(), this.ports.tables.busy, appReason);
  }

  stop(): void {
    this.member.stop();
    this.cancelTimer?.();
    this.cancelTimer = null;
    this.leaveDone();
  }

  /** Runs one member step with the current time and carries out what it returns. */
  private run(step: (now: number) => MemberEffect[]): void {
    if (this.member.isStopped) return;
    let effects: MemberEffect[];
    try {
      effects = step(this.now());
    } catch (err) {
      // A bug in a step must not take the process down from a timer or a socket callback.
      this.hooks.failure('core', err);
      this.schedule();
      return;
    }
    this.apply(effects);
  }

  private apply(effects: readonly MemberEffect[]): void {
    for (const effect of effects) {
      try {
        this.carryOut(effect);
      } catch (err) {
        this.hooks.failure(effect.type === 'view-changed' ? 'view' : effect.type, err);
      }
    }
    this.schedule();
  }

  /** One effect; may throw (a packet the encoder refuses, a listener's bug), which apply() contains. */
  private carryOut(effect: MemberEffect): void {
    const { control, tables } = this.ports;
    switch (effect.type) {
      case 'send':
        this.probeTimer.sent(effect.packet, this.now());
        this.ports.packets.send(effect.to, effect.packet);
        break;
      case 'negotiate':
        this.exchange(effect.to, effect.requestId, control.negotiate(effect.to, effect.state, effect.join, effect.waitMs), 'negotiate failed');
        break;
      case 'digest':
        // A peer that does not speak the digest RPCs gets the full-state Negotiate instead.
        this.exchange(
          effect.to,
          effect.requestId,
          control.digestRound(effect.to).then((records) => records ?? control.negotiate(effect.to, effect.state, false)),
          'digest anti-entropy failed',
        );
        break;
      case 'closing':
        control.closing(effect.to, effect.name, effect.incarnation).catch((err: unknown) => {
          this.hooks.log('debug', 'closing notice failed', { to: effect.to, err: errorMessage(err) });
        });
        break;
      case 'event':
        this.hooks.event(effect.event);
        break;
      case 'resolve-seeds':
        this.ports.resolveSeeds().then(
          (addresses) => this.run((now) => this.member.seedsResolved(effect.purpose, addresses, now)),
          (err: unknown) => {
            this.hooks.log('warn', 'resolving the seeds failed', { err: errorMessage(err) });
            this.run((now) => this.member.seedsResolved(effect.purpose, [], now));
          },
        );
        break;
      case 'view-changed':
        control.fitPeers(effect.live);
        tables.request(effect.owners);
        this.hooks.viewChanged();
        break;
      case 'leave-announced':
        this.leaveDone();
        break;
      case 'claim-call': {
        const answer = (outcome: Parameters<Member['claimAnswered']>[1]): void => this.run((now) => this.member.claimAnswered(effect.callId, outcome, now));
        const calls = this.ports.claimCalls;
        if (calls === undefined) answer(new Error('no claims transport'));
        else calls.call(effect.kind, effect.peer, effect.self, effect.records, effect.timeoutMs, effect.sentAtMs, answer, effect.relay);
        break;
      }
      case 'log':
        this.hooks.log(effect.level, effect.message, effect.fields);
        break;
    }
  }

  /** An exchange the member asked for, answered to it like a Negotiate. */
  private exchange(to: string, requestId: number, answer: Promise<MemberRecord[]>, failure: string): void {
    answer.then(
      (records) => this.run((now) => this.member.negotiateAnswered(requestId, records, now)),
      (err: unknown) => {
        this.hooks.log('debug', failure, { to, err: errorMessage(err) });
        const busy = err instanceof CallFailed && err.busy;
        const refused = err instanceof CallFailed && err.refused;
        this.run((now) => this.member.negotiateFailed(requestId, busy, now, refused));
      },
    );
  }

  private leaveDone(): void {
    this.resolveLeave?.();
    this.resolveLeave = null;
  }

  private schedule(): void {
    if (this.member.isStopped) return;
    const at = this.member.nextDeadline();
    if (at === this.timerAt && this.cancelTimer) return;
    this.cancelTimer?.();
    this.cancelTimer = null;
    this.timerAt = at;
    if (!Number.isFinite(at)) return;
    this.cancelTimer = this.ports.clock.at(at, () => {
      this.cancelTimer = null;
      this.timerAt = Infinity;
      this.run((now) => this.member.tick(now));
    });
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
