// Whole members in one process: each a Member run by the same MemberRunner as the real agent, on the
// in-memory ports (manual clock, memory network, table builder on the clock, claims calls into the
// callee's runner). No sockets, no sleeps: tests advance the clock.
import { profileConfig, type SwimConfig } from '../../src/core/config.js';
import type { MembershipEvent, Packet } from '../../src/core/types.js';
import { Member, type MemberConfig } from '../../src/member/member.js';
import { answerClaimCall, MemberClaims } from '../../src/member/claims.js';
import type { ClaimsMember } from '../../src/ownership/claims-member.js';
import type { ClaimCallPort, ClaimOptions } from '../../src/ownership/service-types.js';
import { ManualClock, MemoryNetwork, MemoryTableBuilder } from '../../src/shell/memory-ports.js';
import { MemberRunner } from '../../src/shell/runner.js';

export interface MemoryMemberOptions {
  readonly seeds?: readonly string[];
  readonly bootstrap?: boolean;
  readonly appChecked?: boolean;
  readonly drainMs?: number;
  readonly settleMs?: number;
  readonly joinTimeoutMs?: number;
  /** Run claims (the member's claims part, as the agent does) with these options; its wall clock off by wallOffsetMs. */
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
  /** Its claims state (read it freely; change it through runner.withClaims), when asked for. */
  readonly claims: ClaimsMember | null;
  /** Process gone: hears nothing, answers nothing, sends nothing more. */
  crash(): void;
}

export class MemoryCluster {
  readonly clock = new ManualClock(1_000_000);
  readonly net = new MemoryNetwork(this.clock);
  readonly members = new Map<string, MemoryMember>();
  /** Runners of running members with claims, by control-plane address. */
  private readonly claimsAt = new Map<string, MemberRunner>();
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
    const self = () => ({ name, lifeId: member.core.self.lifeId, incarnation: member.core.self.incarnation, serving: member.wantServing() });
    const wallOffsetMs = opts.claims?.wallOffsetMs ?? 0;
    const claimsPart = opts.claims === undefined ? undefined : new MemberClaims({ self, options: opts.claims.options, wallClock: () => this.clock.wallNow() + wallOffsetMs }, this.clock.now());
    const member: Member = new Member({ ...config, ...(claimsPart ? { claims: claimsPart } : {}) }, this.clock.now());
    const events: MembershipEvent[] = [];
    const logs: string[] = [];
    const failures: string[] = [];
    const sends: MemoryMember['sends'] = [];
    const negotiates: MemoryMember['negotiates'] = [];
    const control = this.net.controlPlane(grpcAddr);
    let runner: MemberRunner | null = null;
    const tables = new MemoryTableBuilder({ shards: 64, replicas: 2 }, this.clock, (built) => runner?.tableBuilt(built));
    const live = { up: true };
    const claims = member.claims?.state ?? null;
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
        claimCalls: this.claimCalls(grpcAddr),
      },
      {
        log: (_level, message) => logs.push(message),
        event: (event) => events.push(event),
        viewChanged: () => undefined,
        tableBuilt: () => undefined,
        failure: (kind, err) => failures.push(`${kind}: ${err instanceof Error ? err.message : String(err)}`),
      },
    );
    const started = runner;
    if (claims !== null) this.claimsAt.set(grpcAddr, started);
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
        started.stop();
      },
    };
    this.members.set(name, handle);
    runner.start();
    return handle;
  }

  /** Claims calls over the memory network: into the callee's runner as one of its inputs, 1 ms each way. */
  private claimCalls(from: string): ClaimCallPort {
    const { clock, net } = this;
    return {
      call: (kind, peer, _self, records, _timeoutMs, sentAtMs, answer) => {
        clock.at(clock.now() + 1, () => {
          const callee = net.reaches(from, peer.grpcAddr) ? this.claimsAt.get(peer.grpcAddr) : undefined;
          if (callee === undefined) return answer(new Error(`${peer.grpcAddr}: unreachable`));
          const ack = callee.withClaims((service) => answerClaimCall(service, kind, records, sentAtMs));
          clock.at(clock.now() + 1, () => answer(ack));
        });
      },
    };
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
