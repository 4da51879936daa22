// The claims part of a member: the claims state machine (ClaimsMember, src/ownership/) on ports the
// member itself provides. Its timers (expiry sweep, announcement window, pacing of full announcements)
// are a queue the member's tick runs and its nextDeadline includes; its calls to peers (AnnounceOwnership,
// AnnounceExpiry) leave as `claim-call` effects, each answered back with claimAnswered. So a shell
// carries claims like any other effect and keeps no timer or transport of its own for them.
// Only the wall clock is read through a function the shell hands in: claims stamp with it, and it may
// step independently of the monotonic time every input carries.
import type { Logger } from 'pino';
import type { ClockPort } from './ports.js';
import { ClaimsMember } from '../ownership/claims-member.js';
import type { ClaimService } from '../ownership/service.js';
import type { AnnounceAck, AnnounceKind, ClaimOptions, Peer, RelayPart, Self } from '../ownership/service-types.js';
import type { ClaimRecord } from '../ownership/types.js';

/** A call to a peer the claims ask for; the shell answers it with Member.claimAnswered(callId, ...). */
export interface ClaimCallEffect {
  readonly type: 'claim-call';
  readonly callId: number;
  readonly kind: AnnounceKind;
  readonly peer: Peer;
  readonly self: Self;
  readonly records: readonly ClaimRecord[];
  readonly timeoutMs: number;
  /** Our wall clock as the call leaves (the peer compares its own with it). */
  readonly sentAtMs: number;
  /** Relaying: the peers the callee forwards to, other owners' records it gets (docs/ownership.md "Relays"). */
  readonly relay?: RelayPart;
}

/** A callee's answer to a claims call in memory (a simulator, in-process tests): the merge, the winners, its wall clock. */
export function answerClaimCall(service: ClaimService, kind: AnnounceKind, records: readonly ClaimRecord[], sentAtMs: number): AnnounceAck {
  const winners = kind === 'announce' ? service.receiveClaims(records, sentAtMs).winners : (service.receiveReleases(records, sentAtMs), []);
  return { accepted: winners.length === 0, winners, receiverWallMs: service.clockGuard.wallNow() };
}

export interface MemberClaimsSettings {
  /** Who the member is to its claims (serving: it takes new claims). */
  readonly self: () => Self;
  readonly options: ClaimOptions;
  /** The wall clock claims stamp with, Unix ms (the shell's; a test or simulator may offset it). */
  readonly wallClock: () => number;
  readonly logger?: Logger;
}

interface Due {
  readonly at: number;
  readonly seq: number;
  readonly fire: () => void;
}

/**
 * The claims' ClockPort inside a member: now() is the time of the member's current input, and timers
 * wait in a queue that runDue() fires (from the member's tick). Equal times fire in the order asked.
 */
class StepTimers implements ClockPort {
  private time: number;
  private seq = 0;
  /** Sorted by (at, seq); a handful at most (sweep, window, paced announcements). */
  private readonly queue: Due[] = [];

  constructor(
    now: number,
    private readonly wallClock: () => number,
  ) {
    this.time = now;
  }

  now(): number {
    return this.time;
  }

  wallNow(): number {
    return this.wallClock();
  }

  at(at: number, fire: () => void): () => void {
    const due: Due = { at, seq: this.seq++, fire };
    let i = this.queue.length;
    while (i > 0 && (this.queue[i - 1] as Due).at > at) i--;
    this.queue.splice(i, 0, due);
    return () => {
      const j = this.queue.indexOf(due);
      if (j >= 0) this.queue.splice(j, 1);
    };
  }

  /** The input's time (never backwards). */
  moveTo(now: number): void {
    if (now > this.time) this.time = now;
  }

  nextDeadline(): number {
    return this.queue[0]?.at ?? Infinity;
  }

  /** Fires every timer due by the current time, a timer set meanwhile included if due. */
  runDue(): void {
    for (;;) {
      const next = this.queue[0];
      if (next === undefined || next.at > this.time) return;
      this.queue.shift();
      next.fire();
    }
  }

  clear(): void {
    this.queue.length = 0;
  }
}

export class MemberClaims {
  /** The claims state machine (store, service, membership rules). */
  readonly state: ClaimsMember;
  private readonly timers: StepTimers;
  /** Calls asked for since the last step ended, as effects. */
  private outbox: ClaimCallEffect[] = [];
  private readonly answers = new Map<number, (outcome: AnnounceAck | Error) => void>();
  private nextCallId = 1;
  private started = false;

  constructor(settings: MemberClaimsSettings, now: number) {
    this.timers = new StepTimers(now, settings.wallClock);
    this.state = new ClaimsMember({
      self: settings.self,
      transport: {
        call: (kind, peer, self, records, timeoutMs, sentAtMs, answer, relay) => {
          const callId = this.nextCallId++;
          this.answers.set(callId, answer);
          this.outbox.push({ type: 'claim-call', callId, kind, peer, self, records, timeoutMs, sentAtMs, ...(relay ? { relay } : {}) });
        },
      },
      options: settings.options,
      timers: this.timers,
      ...(settings.logger ? { logger: settings.logger } : {}),
    });
  }

  get service(): ClaimService {
    return this.state.service;
  }

  /** Called once, by the member that runs these claims: the start of the expiry sweep. */
  start(now: number): void {
    if (this.started) throw new Error('these claims already belong to a member');
    this.started = true;
    this.timers.moveTo(now);
    this.state.start();
  }

  /** An input at `now` begins. */
  begin(now: number): void {
    this.timers.moveTo(now);
  }

  nextDeadline(): number {
    return this.timers.nextDeadline();
  }

  /** The timers due by the current input's time. */
  runDue(): void {
    this.timers.runDue();
  }

  /** A call asked for earlier was answered (or failed: an Error). An unknown id is ignored. */
  answered(callId: number, outcome: AnnounceAck | Error): void {
    const answer = this.answers.get(callId);
    if (answer === undefined) return;
    this.answers.delete(callId);
    answer(outcome);
  }

  /** Moves the calls asked for into `out`. */
  takeCalls(out: { push(effect: ClaimCallEffect): unknown }): void {
    if (this.outbox.length === 0) return;
    const calls = this.outbox;
    this.outbox = [];
    for (const call of calls) out.push(call);
  }

  close(): void {
    this.state.close();
    this.timers.clear();
    this.outbox = [];
    this.answers.clear();
  }
}
