// Claims in the simulator: each simulated member runs the claims state machine the agent runs
// (ClaimsMember, src/ownership/claims-member.ts) on ports built here. Its clock is the engine's
// virtual clock (its wall clock off by the member's skew), its timers are events on the engine's
// heap, and its announcements travel the simulated control plane as RPCs do: one network delay each
// way, nothing through a cut or to a process that is down (the call fails at its deadline). The
// workload claims random ids on random live members (as POST /v1/claims); the digest exchange's repair of claims is
// modelled by a periodic full exchange of records with one random peer.
import type { MemberRecord, MembershipEvent, Random } from '../core/types.js';
import { seededRandom } from '../core/random.js';
import type { ClockPort } from '../member/ports.js';
import { ClaimsMember } from '../ownership/claims-member.js';
import { DEFAULT_CLAIM_CONFIG, FOREIGN_EXPIRY_GRACE_MS } from '../ownership/config.js';
import type { AnnounceAck, ClaimCallPort, ClaimOptions, Self } from '../ownership/service-types.js';
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

/** What a simulated member gives its claims: who it is and the table version it serves. */
export interface ClaimsHost {
  readonly name: string;
  readonly grpcAddr: string;
  self(): Self;
  /** The table version it serves, null before its first table. */
  tableVersion(): string | null;
}

interface Entry {
  readonly host: ClaimsHost;
  readonly claims: ClaimsMember;
  readonly nodeId: number;
  readonly offsetMs: number;
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

  /** The claims of a member life that starts now. */
  attach(host: ClaimsHost): ClaimsMember {
    const sim = this.sim();
    const nodeId = sim.nodes.findIndex((n) => n.grpcAddr === host.grpcAddr);
    const offsetMs = this.model.clockOffsetMs?.(nodeId, host.name) ?? 0;
    const current = (): boolean => Object.is(sim.nodes[nodeId]?.core, host);
    const claims = new ClaimsMember({ self: () => host.self(), transport: this.transport(current, nodeId), options: this.options, timers: this.clock(current, offsetMs) });
    const entry: Entry = { host, claims, nodeId, offsetMs, current };
    this.byName.set(host.name, entry);
    this.lives.push(claims);
    claims.service.store.onChange((change) => {
      const r = change.record;
      if (change.kind === 'set' && !r.released && r.owner !== host.name) this.figures.claimHeard(host.name, r.owner, r.id, r.fence, sim.now);
    });
    claims.start();
    return claims;
  }

  /** The member's view changed: its peers and their lives. */
  viewChanged(host: ClaimsHost, members: readonly MemberRecord[]): void {
    this.entryOf(host)?.claims.refreshMembers(members);
  }

  membershipEvent(host: ClaimsHost, event: MembershipEvent): void {
    this.entryOf(host)?.claims.onMembershipEvent(event);
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
    const [outcome] = entry.claims.service.claim([id]);
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

  private entryOf(host: ClaimsHost): Entry | undefined {
    const entry = this.byName.get(host.name);
    return entry?.host === host ? entry : undefined;
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
      peer.claims.service.store.merge(mine);
      sim.after(delay, () => {
        if (entry.current()) entry.claims.service.store.merge(theirs);
      });
    });
  }

  /** The member's clock: the virtual one, its wall clock off by `offsetMs`; timers are heap events. */
  private clock(current: () => boolean, offsetMs: number): ClockPort {
    const sim = this.sim();
    return {
      now: () => sim.now,
      wallNow: () => Math.floor(EPOCH_MS + sim.now + offsetMs),
      at: (at, fire) => {
        let cancelled = false;
        sim.at(at, () => {
          if (!cancelled && current()) fire();
        });
        return () => {
          cancelled = true;
        };
      },
    };
  }

  /** Announcements as control-plane RPCs: one delay there, one back; a cut or a down peer fails at the deadline. */
  private transport(callerCurrent: () => boolean, callerId: number): ClaimCallPort {
    return {
      call: (kind, peer, _self, records, timeoutMs, sentAtMs, answer) => {
        const sim = this.sim();
        const deadline = sim.now + timeoutMs;
        const fail = (why: string): void => sim.at(deadline, () => callerCurrent() && answer(new Error(`${peer.name}: ${why}`)));
        const callee = this.byName.get(peer.name);
        if (callee === undefined || callee.host.grpcAddr !== peer.grpcAddr || !callee.current()) return fail('unreachable');
        if (!sim.network.rpcPossible(callerId, callee.nodeId)) return fail('cut off');
        sim.after(sim.network.delay(callerId, callee.nodeId, this.delays), () => {
          if (!callee.current() || sim.nodes[callee.nodeId]?.paused === true) return fail('no answer');
          const service = callee.claims.service;
          let winners: AnnounceAck['winners'] = [];
          if (kind === 'announce') winners = service.receiveClaims(records, sentAtMs).winners;
          else service.receiveReleases(records, sentAtMs);
          const ack: AnnounceAck = { accepted: winners.length === 0, winners, receiverWallMs: Math.floor(EPOCH_MS + sim.now + callee.offsetMs) };
          if (!sim.network.rpcPossible(callee.nodeId, callerId)) return fail('cut off');
          sim.after(sim.network.delay(callee.nodeId, callerId, this.delays), () => {
            if (callerCurrent()) answer(ack);
          });
        });
      },
    };
  }
}
