// The standard experiment behind `swimring sim` and the benchmark: start N members at once, let them
// converge, measure steady-state traffic, inject crashes and pauses, and measure detection.
//
// Timeline (virtual time):
//   0            every member starts and joins through the seeds (the first `seedCount` members)
//   converged    every live member sees every live member alive            -> convergence_s
//   settled      no core has broadcasts queued any more (checked each probe interval; capped at
//                180 probe intervals after convergence: settle_capped tells)
//   [settled, settled + 20 probe intervals)   traffic measured here              -> *_per_member_per_s
//   faults       = end of the steady window: K members crash, K' pause      -> detection_*
//                  or a cut (isolate K members, or split A|B) held for SECONDS, then healed
//                                                                           -> false_dead, reconverged_s
//   duration     the run ends
// Without faults the steady window runs to the end. If the cluster never converges there is no
// steady window and no faults.
import { profileConfig, type ProfileName, type SwimConfig } from '../core/config.js';
import { seededRandom, shuffleInPlace } from '../core/random.js';
import type { CoreFactory } from './core-port.js';
import { MemberFigures, type MemberLife, type MemberReport } from './member-figures.js';
import { memberCoreFactory, SimMember } from './member-core.js';
import { startConverged } from './converged-start.js';
import { CutTracker } from './cut.js';
import type { FleetOperation, PodTemplate } from './fleet.js';
import { FLEET_TAIL_MS, FleetRun, type FleetReport } from './fleet-run.js';
import { POD_TEMPLATE } from './fleet.js';
import { SimClaims, skewedClocks, type ClaimsReport } from './claims.js';
import type { NetworkOptions } from './network.js';
import { max, median, round } from './stats.js';
import { SCENARIO_STREAM, deriveSeed } from './seeds.js';
import { Simulator, type SimNode, type Traffic } from './simulator.js';
import { createSwimCore } from './swim-factory.js';
import type { CpuCosts } from './cpu.js';
import { cpuFor, cpuReport, type CpuReport } from './cpu-report.js';
import { DEFAULT_TABLE_DEBOUNCE } from '../runtime/table-debounce.js';

export interface ScenarioOptions {
  members: number;
  seed: number;
  profile: ProfileName;
  /** Uniform packet loss on every link, [0, 1]. */
  loss: number;
  /** Members crashed at fault time. */
  crash: number;
  /** Members paused at fault time, and for how long. */
  pauseCount: number;
  pauseSeconds: number;
  /** Total simulated time. */
  durationS: number;
  /** K members each cut off from every other member for SECONDS, then healed. */
  isolate?: { count: number; seconds: number };
  /** A random members cut off from the B others for SECONDS, then healed (A + B = members). */
  split?: { a: number; b: number; seconds: number };
  /** A fleet operation at Kubernetes semantics once the cluster has settled (src/sim/fleet.ts). */
  fleet?: FleetOperation;
  /** The pod template the fleet operation uses. @default POD_TEMPLATE (the shipped Deployment) */
  fleetTemplate?: PodTemplate;
  /**
   * 'converged': every member starts already holding every other alive (one shared list of records),
   * nothing queued, joined; the run is converged and settled at 0 s. Whole members only. @default 'cold'
   */
  start?: 'cold' | 'converged';
  /** How many of the first members serve as seeds. @default 3 */
  seedCount?: number;
  /** Steady-state window before faults. @default 20 probe intervals */
  steadyWindowS?: number;
  /** Longest wait, after convergence, for broadcast queues to drain. @default 180 probe intervals */
  settleCapS?: number;
  configOverrides?: Partial<SwimConfig>;
  network?: Partial<NetworkOptions>;
  createCore?: CoreFactory;
  /** Run bare SWIM cores instead of whole members (no readiness, tables or serving). @default false */
  bareCores?: boolean;
  /** Claim attempts per simulated second over the cluster, from convergence on (whole members only). */
  claimsRate?: number;
  /** Each member's wall clock off by a uniform draw in [-MS/2, MS/2] (claims stamp with it). */
  clockSkewMs?: number;
  /** Wall-clock offsets of the first members, in order (the rest as clockSkewMs says, or 0). */
  clockOffsetsMs?: readonly number[];
  /**
   * The host's CPU (src/sim/cpu.ts): members pay for starting, handling inputs and building tables on
   * these shared cores, and hold table requests as the agent does. Cold start, whole members, no pauses.
   * @default CPU is free
   */
  cpu?: CpuCosts;
  /** Called about once per simulated second; cheap to ignore. */
  progress?: (p: ScenarioProgress) => void;
  /** Checked about once per simulated second: a reason to stop the run early (e.g. a wall budget). */
  abort?: () => string | null;
}

export interface ScenarioProgress {
  phase: 'joining' | 'settling' | 'steady' | 'faults';
  simS: number;
  wallS: number;
}

/** The report: the JSON of `swimring sim --json` (docs/sim.md explains every field). */
export interface SimReport {
  members: number;
  seed: number;
  profile: ProfileName;
  /** Why the run stopped before `duration_s` (a budget), or null. */
  aborted: string | null;
  loss: number;
  duration_s: number;
  seeds: number;
  crash: number;
  pause_members: number;
  pause_s: number;
  convergence_s: number | null;
  alive_view_fraction: number;
  settled_s: number | null;
  settle_capped: boolean;
  steady_window_s: [number, number] | null;
  faults_at_s: number | null;
  detection_first_suspect_s: number | null;
  detection_first_suspect_s_max: number | null;
  detection_all_dead_s: number | null;
  detection_all_dead_s_max: number | null;
  crashed_suspected: number;
  crashed_dead_everywhere: number;
  false_dead: number;
  false_suspect: number;
  paused_declared_dead: number;
  paused_suspected: number;
  /** The cut asked for: 'isolate' (cut_members = [K]) or 'split' (cut_members = [A, B]); null without one. */
  cut: 'isolate' | 'split' | null;
  cut_members: number[] | null;
  cut_s: number | null;
  healed_at_s: number | null;
  /** From the heal until every live member first saw every live member alive again. */
  reconverged_s: number | null;
  bytes_per_member_per_s: number | null;
  messages_per_member_per_s: number | null;
  rpc_bytes_per_member_per_s: number | null;
  rpcs_per_member_per_s: number | null;
  name_conflicts: number;
  refutations: number;
  packets_sent: number;
  packets_dropped: { loss: number; partition: number; unroutable: number; buffer: number };
  events: number;
  sim_s: number;
  wall_s: number;
  wall_per_sim_s: number;
  steady_wall_per_sim_s: number | null;
  cpu_s: number;
  steady_cpu_per_sim_s: number | null;
  /** What the members did besides SWIM; null when the run drove bare cores. */
  member: MemberReport | null;
  /** The fleet operation's measures; null without one. */
  fleet: FleetReport | null;
  /** What the members' claims did; null without --claims. */
  claims: ClaimsReport | null;
  /** Present only with the CPU model (ScenarioOptions.cpu). */
  cpu?: CpuReport;
}

/** Report fields that depend on the machine, not the seed. */
export const WALL_CLOCK_FIELDS = ['wall_s', 'wall_per_sim_s', 'steady_wall_per_sim_s', 'cpu_s', 'steady_cpu_per_sim_s'] as const;

/** A fleet operation that has not finished within this much simulated time per pod has failed. */
const FLEET_BOUND_MS_PER_POD = 120_000;

function cpuSeconds(usage: NodeJS.CpuUsage): number {
  return (usage.user + usage.system) / 1e6;
}

function diff(a: Traffic, b: Traffic): Traffic {
  return {
    packetsSent: b.packetsSent - a.packetsSent,
    bytesSent: b.bytesSent - a.bytesSent,
    packetsReceived: b.packetsReceived - a.packetsReceived,
    bytesReceived: b.bytesReceived - a.bytesReceived,
    rpcsSent: b.rpcsSent - a.rpcsSent,
    rpcBytesSent: b.rpcBytesSent - a.rpcBytesSent,
  };
}

/** Share of (live observer, other live member) pairs where the observer sees the member alive. */
export function aliveViewFraction(sim: Simulator): number {
  const live = sim.nodes.filter((n) => n.live);
  if (live.length < 2) return 1;
  let seen = 0;
  for (const n of live) seen += sim.observer.count(n.name, 'alive');
  return seen / (live.length * (live.length - 1));
}

/** The member lives still running at the end (not crashed, not left). */
function liveMembers(sim: Simulator): MemberLife[] {
  const lives: MemberLife[] = [];
  for (const node of sim.nodes) if (node.live && node.core instanceof SimMember) lives.push(node.core.life);
  return lives;
}

export function runScenario(options: ScenarioOptions): SimReport {
  const wallStart = performance.now();
  const cpuStart = process.cpuUsage();
  const config = profileConfig(options.profile, options.configOverrides);
  let end = options.durationS * 1000;
  let cut: CutTracker | null = null;
  let fleet: FleetRun | null = null;
  const figures = new MemberFigures();
  const clocks = skewedClocks(options.seed, options.clockSkewMs ?? 0, options.clockOffsetsMs ?? []);
  const claims = options.claimsRate === undefined || options.bareCores === true ? null : new SimClaims(() => sim, options.seed, { rate: options.claimsRate, clockOffsetMs: clocks });
  const hostCpu = cpuFor(options);
  const memberModel = {
    ...(hostCpu === null ? {} : { cpu: hostCpu, tableDebounce: DEFAULT_TABLE_DEBOUNCE }),
    seedUp: (addr: string): boolean => sim.listensOn(addr),
    seedAddresses: () => fleet?.serviceAddresses() ?? null,
    // Only a fleet run reads the owner lists (listing them is a walk per view change) and watches seed resolutions.
    ...(options.fleet === undefined ? {} : {
      onTableServed: (member: SimMember, version: string, owners: readonly string[]) => fleet?.onTableServed(member, version, owners),
      onSeedsResolved: (member: SimMember, purpose: 'join' | 'watch', addresses: readonly string[]) => fleet?.onSeedsResolved(member, purpose, addresses),
      drainMs: (options.fleetTemplate ?? POD_TEMPLATE).drainMs,
    }),
    ...(claims ? { claims } : {}),
  };
  const sim: Simulator = new Simulator({
    onEvent: (node, event) => {
      cut?.onEvent(node, event);
      fleet?.onEvent(node, event);
    },
    onPacketDelivered: (to, fromAddr) => cut?.onPacketDelivered(to, fromAddr),
    seed: options.seed,
    config,
    createCore: options.createCore ?? (options.bareCores === true ? createSwimCore : memberCoreFactory(figures, memberModel)),
    network: { ...options.network, loss: options.loss },
    capacity: options.members,
    ...(hostCpu === null ? {} : { cpu: hostCpu }),
  });
  const observer = sim.observer;
  const progress = (phase: ScenarioProgress['phase']): void =>
    options.progress?.({ phase, simS: sim.now / 1000, wallS: (performance.now() - wallStart) / 1000 });
  const step = config.probeIntervalMs;

  let aborted: string | null = null;
  /** Runs to `until` in steps of at most 1 s (progress, abort check), or until `stop` holds. */
  const advance = (until: number, phase: ScenarioProgress['phase'], stop?: () => boolean, stepMs = 1000): void => {
    while (aborted === null && sim.now < until) {
      const stopped = sim.runUntil(Math.min(until, sim.now + stepMs), stop);
      progress(phase);
      aborted = options.abort?.() ?? null;
      if (stopped) return;
    }
  };

  const nodes: SimNode[] = [];
  for (let i = 0; i < options.members; i++) nodes.push(sim.addNode());
  const seeds = nodes.slice(0, Math.max(1, Math.min(options.seedCount ?? 3, nodes.length)));
  if (options.start === 'converged') {
    if (options.bareCores === true || options.createCore !== undefined) throw new Error('a converged start runs whole members only');
    startConverged(sim, nodes, seeds);
  } else {
    for (const node of nodes) sim.join(node, seeds);
  }

  // Joining: until converged.
  const converged = (): boolean => !Number.isNaN(observer.convergedAt);
  advance(end, 'joining', converged);
  const convergedAt = converged() ? observer.convergedAt : null;
  if (convergedAt !== null) claims?.start();

  // Settling: until no broadcasts are queued anywhere, so the window measures steady state.
  let settledAt: number | null = null;
  let settleCapped = false;
  if (convergedAt !== null && aborted === null) {
    const cap = Math.min(end, convergedAt + (options.settleCapS ?? (180 * step) / 1000) * 1000);
    const queuesEmpty = (): boolean => nodes.every((n) => n.core === null || n.core.pendingBroadcasts() === 0);
    while (aborted === null && !queuesEmpty() && sim.now < cap) advance(Math.min(cap, sim.now + step), 'settling');
    settledAt = sim.now;
    settleCapped = !queuesEmpty();
  }

  // Steady window, then faults.
  const cutPlan = options.isolate ?? options.split ?? null;
  const wantsFaults = options.crash > 0 || options.pauseCount > 0 || cutPlan !== null || options.fleet !== undefined;
  let window: [number, number] | null = null;
  let steady: Traffic | null = null;
  let afterSettled: Traffic | null = null;
  let steadyWallPerSimS: number | null = null;
  let steadyCpuPerSimS: number | null = null;
  if (settledAt !== null && settledAt < end && aborted === null) {
    const windowEnd = wantsFaults ? Math.min(end, settledAt + (options.steadyWindowS ?? (20 * step) / 1000) * 1000) : end;
    const before = sim.traffic();
    afterSettled = before;
    const wallBefore = performance.now();
    const cpuBefore = process.cpuUsage();
    advance(windowEnd, 'steady');
    steady = diff(before, sim.traffic());
    window = [settledAt, sim.now];
    if (sim.now > settledAt) {
      steadyWallPerSimS = (performance.now() - wallBefore) / (sim.now - settledAt);
      steadyCpuPerSimS = cpuSeconds(process.cpuUsage(cpuBefore)) / ((sim.now - settledAt) / 1000);
    }
  }

  let faultsAt: number | null = null;
  const crashed: SimNode[] = [];
  const paused = new Set<string>();
  if (wantsFaults && window !== null && sim.now < end && aborted === null) {
    faultsAt = sim.now;
    const order = nodes.filter((n) => n.live);
    shuffleInPlace(order, seededRandom(deriveSeed(options.seed, SCENARIO_STREAM)));
    for (const node of order.slice(0, options.crash)) {
      sim.crash(node);
      claims?.memberGone(node.name);
      observer.resetName(node.name, sim.now);
      crashed.push(node);
    }
    for (const node of order.slice(options.crash, options.crash + options.pauseCount)) {
      sim.pause(node, options.pauseSeconds * 1000);
      paused.add(node.name);
    }
    if (cutPlan !== null) {
      const rest = order.slice(options.crash + options.pauseCount);
      const groups = options.isolate ? rest.slice(0, options.isolate.count).map((n) => [n]) : [rest.slice(0, options.split?.a ?? 0)];
      cut = new CutTracker(nodes);
      cut.start({ groups, seconds: cutPlan.seconds }, (g) => sim.network.partition(g));
      advance(Math.min(end, faultsAt + cutPlan.seconds * 1000), 'faults');
      if (sim.now < end) {
        cut.heal(sim.now, () => sim.network.heal());
        observer.resetConvergence(sim.now);
      }
    }
    if (options.fleet !== undefined) {
      // The operation runs to its end (bounded), then FLEET_TAIL_MS more: --duration is then a minimum.
      const run = new FleetRun(sim, options.fleet, options.fleetTemplate);
      fleet = run;
      run.start(nodes, order);
      const bound = sim.now + FLEET_BOUND_MS_PER_POD * (options.members + 10);
      advance(bound, 'faults', () => run.done);
      if (run.doneAt === null) aborted ??= `the fleet operation was not done within ${bound / 1000} s`;
      else end = Math.max(end, run.doneAt + FLEET_TAIL_MS);
    }
  }
  advance(end, faultsAt === null ? 'steady' : 'faults');
  // Push-pull runs every 30 s scaled up with the cluster (180 s at 1,000 members): longer than the
  // steady window, so control-plane traffic is averaged from settled to the end instead.
  const control = afterSettled === null || settledAt === null || sim.now <= settledAt ? null : diff(afterSettled, sim.traffic());
  const controlSeconds = settledAt === null ? 0 : (sim.now - settledAt) / 1000;

  const firstSuspect: number[] = [];
  const allDead: number[] = [];
  for (const node of crashed) {
    const first = Math.min(
      ...[observer.firstSeenAt(node.name, 'suspect'), observer.firstSeenAt(node.name, 'dead')].filter((t) => !Number.isNaN(t)),
    );
    if (Number.isFinite(first)) firstSuspect.push(first - (faultsAt ?? 0));
    const everyone = observer.everyoneSawAt(node.name, 'dead');
    if (!Number.isNaN(everyone)) allDead.push(everyone - (faultsAt ?? 0));
  }

  let falseDead = 0;
  let falseSuspect = 0;
  let pausedDead = 0;
  let pausedSuspect = 0;
  for (const node of nodes) {
    const deaths = observer.falseDeaths(node.name);
    const suspicions = observer.falseSuspicions(node.name);
    if (paused.has(node.name)) {
      if (deaths > 0) pausedDead++;
      pausedSuspect += suspicions;
    } else {
      if (deaths > 0) falseDead++;
      falseSuspect += suspicions;
    }
  }

  const perMemberPerS = (total: number): number | null => {
    if (steady === null || window === null || window[1] <= window[0]) return null;
    return total / options.members / ((window[1] - window[0]) / 1000);
  };
  const healedAt = cut === null ? null : (cut as CutTracker).healAt;
  const wallS = (performance.now() - wallStart) / 1000;
  const simS = sim.now / 1000;
  const s = (ms: number | null): number | null => (ms === null ? null : round(ms / 1000, 3));
  return {
    members: options.members,
    seed: options.seed,
    profile: options.profile,
    aborted,
    loss: options.loss,
    duration_s: options.durationS,
    seeds: seeds.length,
    crash: options.crash,
    pause_members: options.pauseCount,
    pause_s: options.pauseSeconds,
    convergence_s: s(convergedAt),
    alive_view_fraction: round(aliveViewFraction(sim), 6) ?? 0,
    settled_s: s(settledAt),
    settle_capped: settleCapped,
    steady_window_s: window === null ? null : [s(window[0]) ?? 0, s(window[1]) ?? 0],
    faults_at_s: s(faultsAt),
    detection_first_suspect_s: s(median(firstSuspect)),
    detection_first_suspect_s_max: s(max(firstSuspect)),
    detection_all_dead_s: allDead.length === crashed.length ? s(median(allDead)) : null,
    detection_all_dead_s_max: allDead.length === crashed.length ? s(max(allDead)) : null,
    crashed_suspected: firstSuspect.length,
    crashed_dead_everywhere: allDead.length,
    false_dead: cut === null ? falseDead : cut.falseDeadVerdicts,
    false_suspect: falseSuspect,
    paused_declared_dead: pausedDead,
    paused_suspected: pausedSuspect,
    cut: options.isolate ? 'isolate' : options.split ? 'split' : null,
    cut_members: options.isolate ? [options.isolate.count] : options.split ? [options.split.a, options.split.b] : null,
    cut_s: cutPlan?.seconds ?? null,
    healed_at_s: s(healedAt),
    reconverged_s: healedAt === null || Number.isNaN(observer.convergedAt) ? null : s(observer.convergedAt - healedAt),
    bytes_per_member_per_s: round(perMemberPerS(steady?.bytesSent ?? 0), 1),
    messages_per_member_per_s: round(perMemberPerS(steady?.packetsSent ?? 0), 3),
    rpc_bytes_per_member_per_s: control === null ? null : round(control.rpcBytesSent / options.members / controlSeconds, 1),
    rpcs_per_member_per_s: control === null ? null : round(control.rpcsSent / options.members / controlSeconds, 4),
    name_conflicts: observer.nameConflicts,
    refutations: observer.refutations,
    packets_sent: sim.traffic().packetsSent,
    packets_dropped: { ...sim.drops },
    events: sim.eventsProcessed,
    sim_s: round(simS, 3) ?? 0,
    wall_s: round(wallS, 3) ?? 0,
    wall_per_sim_s: round(simS > 0 ? wallS / simS : 0, 4) ?? 0,
    steady_wall_per_sim_s: round(steadyWallPerSimS, 4),
    cpu_s: round(cpuSeconds(process.cpuUsage(cpuStart)), 3) ?? 0,
    steady_cpu_per_sim_s: round(steadyCpuPerSimS, 4),
    member: figures.lives.length === 0 ? null : figures.report(liveMembers(sim)),
    fleet: fleet === null ? null : (fleet as FleetRun).report(),
    claims: claims?.report() ?? null,
    // Only with the CPU model, so reports without it stay as they were.
    ...(hostCpu === null ? {} : { cpu: cpuReport(hostCpu, convergedAt) }),
  };
}
