// Joining, as decisions with deadlines: try the seeds with exponential backoff (jittered; each
// attempt waits for its answers as long as the longest backoff, and no attempt goes to a seed whose
// last one still waits) until a Negotiate is answered; with bootstrap, a member that has heard from nobody within joinTimeoutMs forms a cluster alone
// (unless a seed answered busy: a cluster is there); every member with seeds keeps re-checking them
// afterwards, so pods that all started at once, or sides of a partition that outlived the tombstones,
// still merge. Seeds are resolved by the shell (DNS is I/O) and handed back with seedsResolved.
//
// A seed name is usually a headless Service, which resolves to every pod: negotiating with all of them
// would cost a full-state exchange (each carrying the whole member list) per pod on every join and every
// re-check, growing with the square of the cluster. One answer is enough to join, so each attempt and
// each re-check round contacts at most SEEDS_PER_ATTEMPT addresses, drawn afresh with the member's
// randomness: a later attempt tries others, so addresses that do not answer are eventually skipped.
import type { SwimCore } from '../core/swim.js';
import type { Random } from '../core/types.js';
import { log, type MemberEffect } from './effects.js';

/**
 * Addresses a join attempt (or one seed re-check round) negotiates with, at most. More than one, so a
 * single address that is down, busy or slow does not cost a whole backoff; few, so a join through a
 * Service that lists every pod stays a handful of exchanges at any cluster size.
 */
export const SEEDS_PER_ATTEMPT = 3;

export interface JoinSettings {
  /** The configured seeds, as given (for logs). */
  readonly seeds: readonly string[];
  readonly bootstrap: boolean;
  readonly joinRetryInitialMs: number;
  readonly joinRetryMaxMs: number;
  readonly joinTimeoutMs: number;
}

export class JoinPlan {
  /** When the member joined or bootstrapped; null before. */
  joinedAt: number | null = null;
  private startedAt = 0;
  private attempt = 0;
  private delayMs: number;
  /** When to look whether the last attempt succeeded; null while seeds resolve or once joined. */
  private checkAt: number | null = null;
  private watchAt: number | null = null;
  private busySeen = false;
  private refusedSeen = false;
  private busyLogged = false;
  /** Whether the last round sent an attempt (a round that found every seed still waiting did not). */
  private lastRoundSent = true;
  /** Seed address -> the member that held it live at the last re-check (a few entries: the seeds). */
  private readonly seedHolders = new Map<string, string>();

  constructor(
    private readonly settings: JoinSettings,
    private readonly watchPeriodMs: number,
    /** The member's injected randomness (shared with its core), for choosing among many seed addresses. */
    private readonly random: Random,
  ) {
    this.delayMs = settings.joinRetryInitialMs;
  }

  /** With seeds: the first attempt, and the seed re-check from now on. */
  start(now: number): MemberEffect[] {
    this.startedAt = now;
    this.watchAt = now + this.watchPeriodMs;
    return [{ type: 'resolve-seeds', purpose: 'join', attempt: 0 }];
  }

  markJoined(now: number): void {
    this.joinedAt = now;
    this.checkAt = null;
  }

  /** A seed answered busy, or refused this member (`refused`): either way no bootstrap alone. */
  seedAnsweredBusy(refused = false): void {
    if (refused) this.refusedSeen = true;
    else this.busySeen = true;
  }

  nextDeadline(): number {
    return Math.min(this.checkAt ?? Infinity, this.watchAt ?? Infinity);
  }

  /** Whether tick has work at `now`: a check is due, or the member was heard of while an attempt waits. */
  due(now: number, core: SwimCore): boolean {
    return now >= this.nextDeadline() || (this.checkAt !== null && core.isJoined());
  }

  /** Due checks: the last attempt's outcome (joinedNow: it found the member joined or bootstrapping), and the seed re-check (only while `watching`). */
  tick(now: number, core: SwimCore, watching: boolean): { effects: MemberEffect[]; joinedNow: boolean } {
    const out: MemberEffect[] = [];
    let joinedNow = false;
    // A member heard of by gossip (the seed's news of this joiner reached others first) is a join as
    // good as an answer: stop waiting for the seeds now rather than at the end of the backoff.
    if (this.checkAt !== null && (now >= this.checkAt || core.isJoined())) {
      this.checkAt = null;
      joinedNow = this.checkAttempt(now, core, out);
    }
    if (this.watchAt !== null && now >= this.watchAt) {
      this.watchAt = now + this.watchPeriodMs;
      if (this.joinedAt !== null && watching) out.push({ type: 'resolve-seeds', purpose: 'watch', attempt: 0 });
    }
    return { effects: out, joinedNow };
  }

  /** `waiting`: whether a join attempt to this address still waits for its answer. */
  seedsResolved(purpose: 'join' | 'watch', addresses: readonly string[], core: SwimCore, now: number, waiting: (addr: string) => boolean = () => false): MemberEffect[] {
    if (purpose === 'watch') {
      const self = core.self.grpcAddr;
      const strangers = distinct(addresses).filter((a) => a !== self && !this.heldLiveAt(a, core));
      if (strangers.length === 0) return [];
      // Strangers are many only while a cluster is forming or a cut heals; one exchange merges the views.
      const picked = this.pick(strangers);
      return [log('info', 'seeds not in the member list: negotiating with them', { seeds: picked, strangers: strangers.length }), ...core.join(picked, now)];
    }
    if (this.joinedAt !== null) return [];
    const out: MemberEffect[] = [];
    const candidates = distinct(addresses).filter((a) => a !== core.self.grpcAddr);
    const waitMs = jittered(this.delayMs, core.self.name, this.attempt);
    // A seed whose last attempt still waits for its answer is asked nothing more: a second call would only
    // double a busy seed's work, and the answer to the first is as good as one to the second.
    const free = candidates.filter((a) => !waiting(a));
    this.lastRoundSent = free.length > 0 || candidates.length === 0;
    if (free.length > 0) {
      const picked = this.pick(free);
      out.push(log('info', 'joining through seeds', { attempt: this.attempt, seeds: picked, resolved: candidates.length }));
      // An answer is a join whenever it comes: a joiner still starting up (its event loop busy with its
      // own start) or a seed starved of CPU may take longer than the usual RPC timeout, and an attempt
      // given up at that timeout is work thrown away on both sides, to be redone by the next. So each
      // waits about as long as the longest backoff (jittered like it, so calls that all fail do not fail
      // together); later attempts still go to other seeds meanwhile.
      const answerWaitMs = Math.max(waitMs, jittered(this.settings.joinRetryMaxMs, core.self.name, this.attempt));
      for (const e of core.join(picked, now)) out.push(e.type === 'negotiate' ? { ...e, waitMs: answerWaitMs } : e);
    } else if (candidates.length === 0) {
      out.push(log('warn', 'no seed other than this member resolved', { attempt: this.attempt, seeds: this.settings.seeds }));
    }
    // Success is learned from the core (a Negotiate answered); look again after the backoff.
    this.checkAt = now + waitMs;
    return out;
  }

  /**
   * Whether a live record has gRPC address `addr`. The re-check runs every period on every member, so
   * the member that held it last time is looked at first; only when it no longer does are the records
   * walked.
   */
  private heldLiveAt(addr: string, core: SwimCore): boolean {
    const last = this.seedHolders.get(addr);
    const held = last === undefined ? undefined : core.member(last);
    if (held !== undefined && held.grpcAddr === addr && (held.state === 'alive' || held.state === 'suspect')) return true;
    this.seedHolders.delete(addr);
    for (const m of core.members()) {
      if (m.grpcAddr === addr && (m.state === 'alive' || m.state === 'suspect')) {
        this.seedHolders.set(addr, m.name);
        return true;
      }
    }
    return false;
  }

  /** All of `candidates` when they are few; otherwise SEEDS_PER_ATTEMPT of them, uniformly (a partial Fisher–Yates). */
  private pick(candidates: string[]): string[] {
    if (candidates.length <= SEEDS_PER_ATTEMPT) return candidates;
    for (let i = 0; i < SEEDS_PER_ATTEMPT; i++) {
      const j = i + this.random.int(candidates.length - i);
      const chosen = candidates[j] as string;
      candidates[j] = candidates[i] as string;
      candidates[i] = chosen;
    }
    return candidates.slice(0, SEEDS_PER_ATTEMPT);
  }

  private checkAttempt(now: number, core: SwimCore, out: MemberEffect[]): boolean {
    if (this.joinedAt !== null) return false;
    if (core.isJoined()) {
      // Heard of another member without a seed's answer (gossip, or another member's exchange).
      this.markJoined(now);
      out.push(log('info', 'joined the cluster', { via: 'gossip' }));
      return true;
    }
    if (this.settings.bootstrap && !this.busySeen && !this.refusedSeen && now - this.startedAt >= this.settings.joinTimeoutMs) {
      this.markJoined(now);
      out.push(log('warn', 'no seed answered: bootstrapping a new cluster alone (--bootstrap)', { seeds: this.settings.seeds, waitedMs: Math.round(now - this.startedAt) }));
      return true;
    }
    if (this.settings.bootstrap && this.busySeen && !this.busyLogged) {
      this.busyLogged = true;
      out.push(log('warn', 'a seed answered busy (RESOURCE_EXHAUSTED): a cluster is there, so no bootstrap alone; retrying', { seeds: this.settings.seeds }));
    }
    // Only a round that asked something backs off: while an attempt waits, rounds come at the same pace,
    // so the next one follows soon after that attempt fails.
    if (this.lastRoundSent) {
      this.attempt++;
      this.delayMs = Math.min(this.delayMs * 2, this.settings.joinRetryMaxMs);
    }
    out.push({ type: 'resolve-seeds', purpose: 'join', attempt: this.attempt });
    return false;
  }
}

/** The addresses in their first order, each once (a name and an address may resolve to the same pod). */
function distinct(addresses: readonly string[]): string[] {
  return [...new Set(addresses)];
}

/**
 * `delayMs` less up to half of it, by a hash of the member's name and the attempt: members started
 * together (a rollout, a whole cluster at once) would otherwise retry in lockstep, each round a burst at
 * the seeds as large as the first. A hash rather than the member's randomness, which its core shares:
 * drawing from it here would shift every later draw of the core (and every simulated run) for no gain.
 */
function jittered(delayMs: number, name: string, attempt: number): number {
  let h = 0x811c9dc5 ^ attempt;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return Math.round(delayMs * (1 - (h >>> 0) / 2 ** 33));
}
