// Whole members in one process: each a Member run by the same MemberRunner as the real agent, on the
// in-memory ports (manual clock, memory network, table builder on the clock). No sockets, no sleeps:
// tests advance the clock.
import { profileConfig } from '../../src/core/config.js';
import type { MembershipEvent } from '../../src/core/types.js';
import { Member, type MemberConfig } from '../../src/member/member.js';
import { ManualClock, MemoryNetwork, MemoryTableBuilder } from '../../src/shell/memory-ports.js';
import { MemberRunner } from '../../src/shell/runner.js';

export interface MemoryMemberOptions {
  readonly seeds?: readonly string[];
  readonly bootstrap?: boolean;
  readonly appChecked?: boolean;
  readonly drainMs?: number;
  readonly settleMs?: number;
  readonly joinTimeoutMs?: number;
  readonly tags?: Readonly<Record<string, string>>;
}

export interface MemoryMember {
  readonly name: string;
  readonly grpcAddr: string;
  readonly runner: MemberRunner;
  readonly member: Member;
  readonly events: MembershipEvent[];
  readonly logs: string[];
  /** Failed effects and steps, by kind (must stay empty). */
  readonly failures: string[];
  /** Process gone: hears nothing, answers nothing, sends nothing more. */
  crash(): void;
}

export class MemoryCluster {
  readonly clock = new ManualClock(1_000_000);
  readonly net = new MemoryNetwork(this.clock);
  readonly members = new Map<string, MemoryMember>();
  private seed = 1;

  add(name: string, opts: MemoryMemberOptions = {}): MemoryMember {
    const gossipAddr = `${name}:7946`;
    const grpcAddr = `${name}:7947`;
    const config: MemberConfig = {
      name,
      lifeId: `${name}-life`,
      incarnation: this.clock.now(),
      gossipAddr,
      grpcAddr,
      appAddr: `${name}:8080`,
      tags: opts.tags ?? {},
      swim: profileConfig('local'),
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
    let runner: MemberRunner | null = null;
    const tables = new MemoryTableBuilder({ shards: 64, replicas: 2 }, this.clock, (built) => runner?.tableBuilt(built));
    const live = { up: true };
    const packets = this.net.packets(gossipAddr);
    runner = new MemberRunner(
      member,
      {
        clock: this.clock,
        packets: { send: (to, packet) => live.up && packets.send(to, packet) },
        control: this.net.controlPlane(grpcAddr),
        tables,
        resolveSeeds: () => Promise.resolve([...(opts.seeds ?? [])]),
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
    this.net.attach(gossipAddr, (from, packet) => started.receive(from, packet), grpcAddr, started);
    const handle: MemoryMember = {
      name,
      grpcAddr,
      runner,
      member,
      events,
      logs,
      failures,
      crash: () => {
        live.up = false;
        this.net.detach(gossipAddr, grpcAddr);
        started.stop();
      },
    };
    this.members.set(name, handle);
    runner.start();
    return handle;
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
