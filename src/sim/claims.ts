// Claims in the simulator: each simulated Member runs its claims as the agent's does (src/member/claims.ts:
// timers from its tick, calls to peers as claim-call effects). This is the shell's part for them: the
// member's wall clock (the virtual clock off by the member's skew), and its calls carried over the
// simulated control plane as RPCs are: one network delay each way, nothing through a cut or to a process
// that is down (the call fails at its deadline), the callee's merge and the caller's answer each an input
// of that member. The workload claims random ids on random live members (as POST /v1/claims); the digest
// exchange's repair of claims is modelled by a periodic full exchange of records with one random peer.
import type { Effect, Millis, Random } from '../core/types.js';
import { seededRandom } from '../core/random.js';
import { answerClaimCall, MemberClaims, type ClaimCallEffect } from '../member/claims.js';
import type { ClaimsMember } from '../ownership/claims-member.js';
import { DEFAULT_CLAIM_CONFIG, FOREIGN_EXPIRY_GRACE_MS } from '../ownership/config.js';
import type { ClaimService } from '../ownership/service.js';
import type { AnnounceAck, ClaimOptions, Self } from '../ownership/service-types.js';
import { ClaimsFigures, type ClaimsReport } from './claims-figures.js';
import { CLAIMS_STREAM, deriveSeed } from './seeds.js';
import type { Simulator } from './simulator.js';

export type { ClaimsReport } from './claims-figures.js';

export interface SimClaimsOptions {
  /** Claim attempts per simulated second over the whole cluster; 0 = none (claims made by hand). */
  rate: number;
  /** Ids are drawn from this many (fewer ids, more races). @default max(16, 20 * rate) */
  idPool?: number;
  /** Each member's wall clock minus the virtual clock, ms, by the member's index and name. @default 0 */
  clockOffsetMs?: (index: number, name: string) => number;
  /** Claim settings; the simulator defaults to the agent's, with a 30 s TTL so ids come free again. */
  options?: Partial<ClaimOptions>;
  /** How often every member's claims are sampled for double owners. @default 1000 */
  sampleEveryMs?: number;
  /** How often each member exchanges all its claim records with one random peer (the digest repair). @default 30000 */
  repairEveryMs?: number;
}

/** A simulated member that runs claims: who it is, the table version it serves, its claims as inputs. */
export interface ClaimsHost {
  readonly name: string;
  readonly grpcAddr: string;
  self(): Self;
  /** The table version it serves, null before its first table. */
  tableVersion(): string | null;
  /** Its claims state, to read. */
  readonly claimsState: ClaimsMember;
  withClaims<T>(now: Millis, op: (service: ClaimService) => T): { value: T; effects: Effect[] };
  claimAnswered(callId: number, outcome: AnnounceAck | Error, now: Millis): Effect[];
  /** Its claims' timers are due (the member's tick). */
  claimsDue(now: Millis): Effect[];
}

interface Entry {
  readonly host: ClaimsHost;
  readonly claims: ClaimsMember;
  readonly nodeId: number;
  /** This life is still the node's running process (not crashed, not restarted since). */
  current(): boolean;
}

/**
 * Each member's wall-clock offset: the first members' from `offsets`, the others drawn uniformly from
 * [-spreadMs/2, spreadMs/2] (a stream of their own, so the draw does not shift anything else).
 */
export function skewedClocks(seed: number, spreadMs: number, offsets: readonly number[]): (index: number) => number {
  return (index) => {
    const fixed = offsets[index];
    if (fixed !== undefined) return fixed;
    if (spreadMs <= 0) return 0;
    return Math.round((seededRandom(deriveSeed(seed, CLAIMS_STREAM, index + 1)).next() - 0.5) * spreadMs);
  };
}

/** Unix time the virtual clock's 0 stands for, so stamps look like real ones. */
const EPOCH_MS = 1_700_000_000_000;
/** Claims older than this at a sample have had their announcement round: two owners then is a fault. */
const RACE_WINDOW_MS = 1000;

export class SimClaims {
  readonly figures = new ClaimsFigures();
  readonly options: ClaimOptions;
  /** The current life of each member, by name. */
  private readonly byName = new Map<string, Entry>();
  /** Every life's claims ever started, for the counters of lives that ended. */
  private readonly lives: ClaimsMember[] = [];
  /** Ids ever claimed, with when their latest claim was made. */
  private readonly claimedAt = new Map<string, number>();
  private readonly random: Random;
  /** The claims' RPC delays: a stream of their own, so claims leave every SWIM figure of a run as it was. */
  private readonly delays: Random;
  private readonly idPool: number;
  private started = false;

  constructor(
    private readonly sim: () => Simulator,
    seed: number,
    private readonly model: SimClaimsOptions,
  ) {
    this.options = {
      ...DEFAULT_CLAIM_CONFIG,
      defaultTtlMs: 30_000,
      foreignExpiryGraceMs: FOREIGN_EXPIRY_GRACE_MS,
      rpcTimeoutMs: 2000,
      ...model.options,
    };
    this.random = seededRandom(deriveSeed(seed, CLAIMS_STREAM));
    this.delays = seededRandom(deriveSeed(seed, CLAIMS_STREAM, 0x7fff_ffff));
    this.idPool = model.idPool ?? Math.max(16, Math.ceil(20 * model.rate));
  }

  /** The claims part of a member life that starts now (its wall clock off by the member's skew). */
  claimsFor(name: string, grpcAddr: string, self: () => Self, now: number): MemberClaims {
    const sim = this.sim();
    const offsetMs = this.offsetOf(name, grpcAddr);
    return new MemberClaims({ self, options: this.options, wallClock: () => Math.floor(EPOCH_MS + sim.now + offsetMs) }, now);
  }

  /** The member life whose claims claimsFor built has started. */
  attach(host: ClaimsHost): void {
    const sim = this.sim();
    const nodeId = sim.nodes.findIndex((n) => n.grpcAddr === host.grpcAddr);
    const current = (): boolean => Object.is(sim.nodes[nodeId]?.core, host);
    const claims = host.claimsState;
    const entry: Entry = { host, claims, nodeId, current };
    this.byName.set(host.name, entry);
    this.lives.push(claims);
    claims.service.store.onChange((change) => {
      const r = change.record;
      if (change.kind === 'set' && !r.released && r.owner !== host.name) this.figures.claimHeard(host.name, r.owner, r.id, r.fence, sim.now);
    });
  }

  /** Starts the workload, the samples and the repair rounds (once). */
  start(): void {
    if (this.started) return;
    this.started = true;
    const sim = this.sim();
    if (this.model.rate > 0) {
      const every = 1000 / this.model.rate;
      const next = (): void => {
        this.attempt();
        sim.after(every, next);
      };
      sim.after(every, next);
    }
    const sampleEvery = this.model.sampleEveryMs ?? 1000;
    const sample = (): void => {
      this.sample();
      sim.after(sampleEvery, sample);
    };
    sim.after(sampleEvery, sample);
    const repairEvery = this.model.repairEveryMs ?? 30_000;
    const repair = (): void => {
      for (const entry of this.liveEntries()) this.repair(entry);
      sim.after(repairEvery, repair);
    };
    sim.after(repairEvery, repair);
  }

  /** The claims of the running member named `name`, if it runs claims. */
  member(name: string): ClaimsMember | undefined {
    const entry = this.byName.get(name);
    return entry !== undefined && entry.current() ? entry.claims : undefined;
  }

  /** Claims `id` on member `name` as POST /v1/claims does (a serving member only), as the workload does; the outcome's status. */
  claim(name: string, id: string): string {
    const entry = this.byName.get(name);
    if (entry === undefined || !entry.current()) return 'not_running';
    this.figures.attempts++;
    if (!entry.host.self().serving) {
      this.figures.notServing++;
      return 'not_serving';
    }
    const [outcome] = this.input(entry, (service) => service.claim([id]));
    if (outcome === undefined) return 'none';
    if (outcome.status === 'claimed') {
      const others = this.liveEntries().filter((e) => e !== entry).map((e) => e.host.name);
      this.figures.claimMade(name, id, outcome.record.fence, others, this.sim().now);
      this.claimedAt.set(id, this.sim().now);
    } else if (outcome.status === 'renewed') this.figures.renewed++;
    else if (outcome.status === 'owned_elsewhere') this.figures.ownedElsewhere++;
    else if (outcome.status === 'clock_skew') this.figures.refusedOwnSkew++;
    return outcome.status;
  }

  /** A member's process ended (crash, stop): claims waiting only for it are complete. */
  memberGone(name: string): void {
    this.figures.memberGone(name, this.sim().now);
  }

  report(): ClaimsReport {
    let refusedRecords = 0;
    let conflicts = 0;
    let lost = 0;
    let releasedOnDeparture = 0;
    for (const life of this.lives) {
      const c = life.service.counters;
      refusedRecords += life.service.clockGuard.counters.refusedClaims;
      conflicts += c.conflicts;
      lost += c.lost;
      releasedOnDeparture += c.releasedOnDeparture;
    }
    const membersClockOff = this.liveEntries().filter((e) => e.claims.service.clockOff()).length;
    return this.figures.report({ refusedRecords, membersClockOff, conflicts, lost, releasedOnDeparture });
  }

  /** Members running claims now, in node order (deterministic). */
  liveEntries(): Entry[] {
    const out: Entry[] = [];
    for (const node of this.sim().nodes) {
      const entry = this.byName.get(node.name);
      if (entry !== undefined && entry.nodeId === node.id && entry.current() && node.live) out.push(entry);
    }
    return out;
  }

  /** Releases `id` on member `name` as DELETE /v1/claims/:id does; the outcome, or 'not_running'. */
  release(name: string, id: string): ReturnType<ClaimService['release']> | 'not_running' {
    const entry = this.byName.get(name);
    if (entry === undefined || !entry.current()) return 'not_running';
    return this.input(entry, (service) => service.release(id));
  }

  private entryOf(host: ClaimsHost): Entry | undefined {
    const entry = this.byName.get(host.name);
    return entry?.host === host ? entry : undefined;
  }

  /** Each member's wall-clock offset, by its node index and name. */
  private offsetOf(name: string, grpcAddr: string): number {
    const nodeId = this.sim().nodes.findIndex((n) => n.grpcAddr === grpcAddr);
    return this.model.clockOffsetMs?.(nodeId, name) ?? 0;
  }

  /** An operation on a running member's claims, as its input (its effects carried, its wake-up kept). */
  private input<T>(entry: Entry, op: (service: ClaimService) => T): T {
    const sim = this.sim();
    const node = sim.nodes[entry.nodeId];
    if (node === undefined) throw new Error(`no node ${entry.nodeId}`);
    let value: T | undefined;
    sim.input(node, (_core, now) => {
      const step = entry.host.withClaims(now, op);
      value = step.value;
      return step.effects;
    });
    return value as T;
  }

  private attempt(): void {
    const live = this.liveEntries();
    if (live.length === 0) return;
    const entry = live[this.random.int(live.length)] as Entry;
    this.claim(entry.host.name, `id-${this.random.int(this.idPool)}`);
  }

  /** Counts, per id and table version, the members that hold themselves its owner. */
  private sample(): void {
    const now = this.sim().now;
    const owners = new Map<string, number>();
    for (const entry of this.liveEntries()) {
      const version = entry.host.tableVersion();
      if (version === null) continue;
      const store = entry.claims.service.store;
      for (const id of store.liveIdsOf(entry.host.name)) {
        if (store.get(id)?.owner !== entry.host.name || now - (this.claimedAt.get(id) ?? 0) < RACE_WINDOW_MS) continue;
        const key = `${id}\u0000${version}`;
        owners.set(key, (owners.get(key) ?? 0) + 1);
      }
    }
    this.figures.sampled(owners);
  }

  /** One repair round: `entry` and a random reachable peer merge each other's records, as the digest exchange ends. */
  private repair(entry: Entry): void {
    const peers = entry.claims.livePeers();
    if (peers.length === 0) return;
    const peer = this.byName.get((peers[this.random.int(peers.length)] as { name: string }).name);
    const sim = this.sim();
    if (peer === undefined || !peer.current() || !sim.network.rpcPossible(entry.nodeId, peer.nodeId)) return;
    const delay = sim.network.delay(entry.nodeId, peer.nodeId, this.delays);
    const mine = [...entry.claims.service.store.entries()];
    sim.after(delay, () => {
      if (!peer.current() || !entry.current()) return;
      const theirs = [...peer.claims.service.store.entries()];
      this.input(peer, (service) => service.store.merge(mine));
      sim.after(delay, () => {
        if (entry.current()) this.input(entry, (service) => service.store.merge(theirs));
      });
    });
  }

  /** Wakes `host` at `at` for its claims' timers, unless `valid()` turned false meanwhile. */
  wakeAt(host: ClaimsHost, at: number, valid: () => boolean): void {
    const entry = this.entryOf(host);
    if (entry === undefined) return;
    const sim = this.sim();
    sim.at(at, () => {
      const node = sim.nodes[entry.nodeId];
      if (node !== undefined && entry.current() && valid()) sim.input(node, (_core, now) => host.claimsDue(now));
    });
  }

  /** A member's claims call, as a control-plane RPC: one delay there, one back; a cut or a down peer fails at the deadline. */
  call(host: ClaimsHost, effect: ClaimCallEffect): void {
    const caller = this.entryOf(host);
    if (caller === undefined) return;
    const { kind, peer, records, timeoutMs, sentAtMs, callId } = effect;
    const sim = this.sim();
    const answer = (outcome: AnnounceAck | Error): void => {
      const node = sim.nodes[caller.nodeId];
      if (node !== undefined && caller.current()) sim.input(node, (_core, now) => caller.host.claimAnswered(callId, outcome, now));
    };
    const deadline = sim.now + timeoutMs;
    const fail = (why: string): void => sim.at(deadline, () => answer(new Error(`${peer.name}: ${why}`)));
    const callee = this.byName.get(peer.name);
    if (callee === undefined || callee.host.grpcAddr !== peer.grpcAddr || !callee.current()) return fail('unreachable');
    if (!sim.network.rpcPossible(caller.nodeId, callee.nodeId)) return fail('cut off');
    sim.after(sim.network.delay(caller.nodeId, callee.nodeId, this.delays), () => {
      if (!callee.current() || sim.nodes[callee.nodeId]?.paused === true) return fail('no answer');
      const ack = this.input(callee, (service) => answerClaimCall(service, kind, records, sentAtMs));
      if (!sim.network.rpcPossible(callee.nodeId, caller.nodeId)) return fail('cut off');
      sim.after(sim.network.delay(callee.nodeId, caller.nodeId, this.delays), () => answer(ack));
    });
  }
}
