// Whole members in one process: each a Member run by the same MemberRunner as the real agent, on the
// in-memory ports (manual clock, memory network, table builder on the clock). No sockets, no sleeps:
// tests advance the clock.
import { profileConfig, type SwimConfig } from '../../src/core/config.js';
import type { MembershipEvent, Packet } from '../../src/core/types.js';
import { Member, type MemberConfig } from '../../src/member/member.js';
import type { ClockPort } from '../../src/member/ports.js';
import { ClaimsMember } from '../../src/ownership/claims-member.js';
import type { AnnounceAck, ClaimOptions, ClaimTransport } from '../../src/ownership/service-types.js';
import { ManualClock, MemoryNetwork, MemoryTableBuilder } from '../../src/shell/memory-ports.js';
import { MemberRunner } from '../../src/shell/runner.js';

export interface MemoryMemberOptions {
  readonly seeds?: readonly string[];
  readonly bootstrap?: boolean;
  readonly appChecked?: boolean;
  readonly drainMs?: number;
  readonly settleMs?: number;
  readonly joinTimeoutMs?: number;
  /** Run claims (the agent's ClaimsMember) with these options; the member's wall clock off by wallOffsetMs. */
  readonly claims?: { readonly options: ClaimOptions; readonly wallOffsetMs?: number };
  /** Protocol settings (default: the local profile). */
  readonly swim?: SwimConfig;
  /** Keep every packet the member sends in `sends`. */
  readonly recordSends?: boolean;
  /** Keep every Negotiate the member calls in `negotiates`. */
  readonly recordNegotiates?: boolean;
  /** This process life's id (default `<name>-life`); a restart under the same name takes another. */
  readonly lifeId?: string;
  /** Tags of its alive record. */
  readonly tags?: Readonly<Record<string, string>>;
}

export interface MemoryMember {
  readonly name: string;
  readonly grpcAddr: string;
  readonly runner: MemberRunner;
  readonly member: Member;
  readonly events: MembershipEvent[];
  readonly logs: string[];
  /** Packets sent, when recordSends was asked for. */
  readonly sends: { readonly at: number; readonly to: string; readonly packet: Packet }[];
  /** Negotiate calls made, when recordNegotiates was asked for (join: a join or seed re-check). */
  readonly negotiates: { readonly at: number; readonly to: string; readonly join: boolean }[];
  /** Failed effects and steps, by kind (must stay empty). */
  readonly failures: string[];
  /** Its claims, when asked for. */
  readonly claims: ClaimsMember | null;
  /** Process gone: hears nothing, answers nothing, sends nothing more. */
  crash(): void;
}

export class MemoryCluster {
  readonly clock = new ManualClock(1_000_000);
  readonly net = new MemoryNetwork(this.clock);
  readonly members = new Map<string, MemoryMember>();
  /** Claims of running members, by control-plane address. */
  private readonly claimsAt = new Map<string, ClaimsMember>();
  private seed = 1;

  add(name: string, opts: MemoryMemberOptions = {}): MemoryMember {
    const gossipAddr = `${name}:7946`;
    const grpcAddr = `${name}:7947`;
    const config: MemberConfig = {
      name,
      lifeId: opts.lifeId ?? `${name}-life`,
      incarnation: this.clock.now(),
      gossipAddr,
      grpcAddr,
      appAddr: `${name}:8080`,
      tags: opts.tags ?? {},
      swim: opts.swim ?? profileConfig('local'),
      randomSeed: this.seed++,
      seeds: opts.seeds ?? [],
      bootstrap: opts.bootstrap ?? false,
      joinRetryInitialMs: 200,
      joinRetryMaxMs: 2000,
      joinTimeoutMs: opts.joinTimeoutMs ?? 3000,
      settleMs: opts.settleMs ?? 1000,
      drainMs: opts.drainMs ?? 0,
      appChecked: opts.appChecked ?? false,
      antiEntropy: 'digest',
    };
    const member = new Member(config, this.clock.now());
    const events: MembershipEvent[] = [];
    const logs: string[] = [];
    const failures: string[] = [];
    const sends: MemoryMember['sends'] = [];
    const negotiates: MemoryMember['negotiates'] = [];
    const control = this.net.controlPlane(grpcAddr);
    let runner: MemberRunner | null = null;
    const tables = new MemoryTableBuilder({ shards: 64, replicas: 2 }, this.clock, (built) => runner?.tableBuilt(built));
    const live = { up: true };
    const claims = opts.claims === undefined ? null : this.claimsMember(member, grpcAddr, live, opts.claims.options, opts.claims.wallOffsetMs ?? 0);
    const packets = this.net.packets(gossipAddr);
    runner = new MemberRunner(
      member,
      {
        clock: this.clock,
        packets: {
          send: (to, packet) => {
            if (!live.up) return;
            if (opts.recordSends) sends.push({ at: this.clock.now(), to, packet });
            packets.send(to, packet);
          },
        },
        control: {
          ...control,
          negotiate: (to, state, join) => {
            if (opts.recordNegotiates) negotiates.push({ at: this.clock.now(), to, join });
            return control.negotiate(to, state, join);
          },
        },
        tables,
        resolveSeeds: () => Promise.resolve([...(opts.seeds ?? [])]),
      },
      {
        log: (_level, message) => logs.push(message),
        event: (event) => {
          events.push(event);
          claims?.onMembershipEvent(event);
        },
        viewChanged: () => claims?.refreshMembers(member.core.members()),
        tableBuilt: () => undefined,
        failure: (kind, err) => failures.push(`${kind}: ${err instanceof Error ? err.message : String(err)}`),
      },
    );
    const started = runner;
    if (claims !== null) this.claimsAt.set(grpcAddr, claims);
    this.net.attach(gossipAddr, (from, packet) => started.receive(from, packet), grpcAddr, started);
    const handle: MemoryMember = {
      name,
      grpcAddr,
      runner,
      member,
      events,
      logs,
      sends,
      negotiates,
      failures,
      claims,
      crash: () => {
        live.up = false;
        this.net.detach(gossipAddr, grpcAddr);
        this.claimsAt.delete(grpcAddr);
        claims?.close();
        started.stop();
      },
    };
    this.members.set(name, handle);
    runner.start();
    return handle;
  }

  /** The agent's claims state machine on the manual clock; announcements are calls over the memory network. */
  private claimsMember(member: Member, grpcAddr: string, live: { up: boolean }, options: ClaimOptions, wallOffsetMs: number): ClaimsMember {
    const { clock, net } = this;
    const timers: ClockPort = { now: () => clock.now(), wallNow: () => clock.wallNow() + wallOffsetMs, at: (at, fire) => clock.at(at, () => live.up && fire()) };
    const call = (to: string, handle: (callee: ClaimsMember) => AnnounceAck): Promise<AnnounceAck> =>
      new Promise((resolve, reject) => {
        clock.at(clock.now() + 1, () => {
          const callee = net.reaches(grpcAddr, to) ? this.claimsAt.get(to) : undefined;
          if (callee === undefined) return reject(new Error(`${to}: unreachable`));
          const ack = handle(callee);
          clock.at(clock.now() + 1, () => resolve(ack));
        });
      });
    const transport: ClaimTransport = {
      announce: (peer, _self, records, _timeoutMs, sentAtMs) =>
        call(peer.grpcAddr, (callee) => {
          const { winners } = callee.service.receiveClaims(records, sentAtMs);
          return { accepted: winners.length === 0, winners, receiverWallMs: callee.service.clockGuard.wallNow() };
        }),
      expire: (peer, _self, records, _timeoutMs, sentAtMs) =>
        call(peer.grpcAddr, (callee) => {
          callee.service.receiveReleases(records, sentAtMs);
          return { accepted: true, winners: [], receiverWallMs: callee.service.clockGuard.wallNow() };
        }),
    };
    const self = () => ({ name: member.name, lifeId: member.core.self.lifeId, incarnation: member.core.self.incarnation, serving: member.wantServing() });
    const claims = new ClaimsMember({ self, transport, options, timers });
    claims.start();
    return claims;
  }

  /** Cuts the members named in `sideA` off from those in `sideB` (packets and calls), until net.heal(). */
  cut(sideA: readonly string[], sideB: readonly string[]): void {
    const addresses = (names: readonly string[]) => names.flatMap((n) => [`${n}:7946`, `${n}:7947`]);
    this.net.cut(addresses(sideA), addresses(sideB));
  }

  /** How `observer` holds `name` (undefined: unknown to it). */
  stateOf(observer: string, name: string): string | undefined {
    return this.members.get(observer)?.member.core.member(name)?.state;
  }

  /** Every running member holds every other running member alive. */
  converged(): boolean {
    const up = [...this.members.values()].filter((m) => !m.member.isStopped);
    return up.every((a) => up.every((b) => this.stateOf(a.name, b.name) === 'alive'));
  }
}
