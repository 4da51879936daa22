// The simulated half of the scale bench: the same member count, profile and loss through `swimring sim`'s
// scenario (runScenario), so its predictions sit next to what the real sidecars did; plus a graceful
// leave and a replay of the real cold start's arrivals, which the standard scenario has no step for.
import { availableParallelism } from 'node:os';
import { OPTIONS } from '../../src/config/options.js';
import { DEFAULT_TABLE_DEBOUNCE } from '../../src/runtime/table-debounce.js';
import { AGENT_CPU_COSTS, HostCpu } from '../../src/sim/cpu.js';
import { profileConfig } from '../../src/core/config.js';
import { MemberFigures, memberCoreFactory, runScenario, Simulator, type SimNode, type SimReport } from '../../src/sim/index.js';

/** The harness starts one seed and hands it to every other member, as --seeds. */
const SEEDS = 1;

export interface SimLeave {
  /** The agent's default drain (it announces the leave this long after the signal), in seconds. */
  readonly drainS: number;
  /** Seconds from the signal to the leave in every other view: drain + propagation; null: never. */
  readonly allLeftS: number | null;
  /** Seconds from the signal to the first other member holding it left. */
  readonly firstLeftS: number | null;
}

export interface SimDetection {
  /** The seeds of the crash runs, one crash each (one crash is one sample of where it sits in each prober's order). */
  readonly seeds: readonly number[];
  readonly firstSuspectS: readonly (number | null)[];
  readonly allDeadS: readonly (number | null)[];
  readonly firstSuspectMedianS: number | null;
  readonly allDeadMedianS: number | null;
}

export interface SimArrivals {
  /** Members started at the real run's times (ms after the seed's start), joining through the seed. */
  readonly lastStartedS: number;
  /** Seconds from the last member's start to every member holding every other alive; null: not in 60 s. */
  readonly convergedAfterLastS: number | null;
}

export interface SimRun {
  readonly seed: number;
  /** Crash run: convergence, steady traffic, one crash. */
  readonly crash: SimReport;
  /** Detection over several crash runs (seeds seed, seed + 1, ...). */
  readonly detection: SimDetection;
  /** Idle run: convergence, then nothing but steady traffic to the end (the bytes to compare with an idle window). */
  readonly idle: SimReport;
  /** Loss run: the same cluster with uniform loss on every link for the whole run, no faults. */
  readonly loss: SimReport;
  readonly leave: SimLeave;
  /** The real cold start's arrivals replayed; null when there was no real run. */
  readonly arrivals: SimArrivals | null;
  /** The same with the host CPU model (src/sim/cpu.ts) on this machine's cores. */
  readonly arrivalsWithCpu: SimArrivals | null;
}

const seconds = (ms: number): number => Math.round(ms) / 1000;

function memberSim(members: number, seed: number, drainMs = 0, cpu: HostCpu | null = null): Simulator {
  const figures = new MemberFigures();
  const model = cpu === null ? { drainMs } : { drainMs, cpu, tableDebounce: DEFAULT_TABLE_DEBOUNCE };
  return new Simulator({ seed, config: profileConfig('lan'), createCore: memberCoreFactory(figures, model), capacity: members, ...(cpu === null ? {} : { cpu }) });
}

/**
 * A converged cluster, then its last member leaves the way the agent does on SIGTERM: it stops serving at
 * once (a meta update, gossiped) and announces the leave after the default drain.
 */
export function simulateLeave(members: number, seed: number): SimLeave {
  const drainMs = Number(OPTIONS.drainMs.default);
  const sim = memberSim(members, seed, drainMs);
  const nodes = Array.from({ length: members }, () => sim.addNode());
  for (const node of nodes) sim.join(node, nodes.slice(0, SEEDS));
  sim.runFor(120_000, () => sim.observer.isConverged());
  sim.runFor(5_000);
  const leaver = nodes[members - 1]!;
  const signalAt = sim.now;
  sim.leave(leaver);
  sim.runFor(drainMs + 30_000, () => !Number.isNaN(sim.observer.everyoneSawAt(leaver.name, 'left')));
  const all = sim.observer.everyoneSawAt(leaver.name, 'left');
  const first = sim.observer.firstSeenAt(leaver.name, 'left');
  return {
    drainS: drainMs / 1000,
    allLeftS: Number.isNaN(all) ? null : seconds(all - signalAt),
    firstLeftS: Number.isNaN(first) ? null : seconds(first - signalAt),
  };
}

/**
 * The real cold start's membership part, replayed: the seed starts at 0, every other member at its real
 * start (its "member started" line) and joins through the seed. Without `cpu` the simulator leaves out the
 * CPU: a real member's start and its table builds compete for the cores, and the packets wait for them.
 */
export function simulateArrivals(startsMs: readonly number[], seed: number, cpu: HostCpu | null = null): SimArrivals {
  const sim = memberSim(startsMs.length + 1, seed, 0, cpu);
  const seedNode = sim.addNode({ startedUp: true });
  sim.join(seedNode, []);
  const order = [...startsMs].sort((a, b) => a - b);
  const nodes: SimNode[] = [seedNode];
  // With the CPU model, each start-up's CPU runs on the shared cores just before the member's real start.
  if (cpu !== null) for (const at of order) sim.at(Math.max(0, at - cpu.costs.startMs), () => cpu.load(sim.now, cpu.costs.startMs));
  for (const at of order) {
    sim.runUntil(Math.max(sim.now, at));
    const node = sim.addNode({ startedUp: true });
    sim.join(node, [seedNode]);
    nodes.push(node);
  }
  const last = sim.now;
  sim.observer.resetConvergence(last);
  sim.runFor(60_000, () => sim.observer.isConverged());
  return { lastStartedS: seconds(last), convergedAfterLastS: sim.observer.isConverged() ? seconds(sim.now - last) : null };
}

const medianOf = (xs: readonly (number | null)[]): number | null => {
  const v = xs.filter((x): x is number => x !== null).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mid = v.length >> 1;
  return v.length % 2 === 1 ? v[mid]! : Math.round(((v[mid - 1]! + v[mid]!) / 2) * 1000) / 1000;
};

export interface SimPlan {
  readonly members: number;
  readonly lossPercent: number;
  readonly lossWindowS: number;
  readonly idleWindowS: number;
  readonly seed: number;
  /** Crash runs for the detection figures. @default 5 */
  readonly crashRuns?: number;
  /** The real members' starts (ms after the seed's), when there was a real run. */
  readonly startsMs?: readonly number[];
}

export function runSim(plan: SimPlan): SimRun {
  const { members, seed } = plan;
  const base = { members, seed, profile: 'lan' as const, pauseCount: 0, pauseSeconds: 0, seedCount: SEEDS };
  const crash = runScenario({ ...base, loss: 0, crash: 1, durationS: 120 });
  const seeds = Array.from({ length: Math.max(1, plan.crashRuns ?? 5) }, (_, i) => seed + i);
  const runs = seeds.map((s) => (s === seed ? crash : runScenario({ ...base, seed: s, loss: 0, crash: 1, durationS: 120 })));
  const firstSuspectS = runs.map((r) => r.detection_first_suspect_s);
  const allDeadS = runs.map((r) => r.detection_all_dead_s);
  // Push-pull rounds come every 30 s per member (longer above 32 members): several of them per member
  // make the RPC figure an average, not a count of the few rounds that fell in the window.
  const idle = runScenario({ ...base, loss: 0, crash: 0, durationS: 60 + Math.max(plan.idleWindowS, 600) });
  // Converging under loss takes longer than without; the window the real run holds loss for is added on top.
  const loss = runScenario({ ...base, loss: plan.lossPercent / 100, crash: 0, durationS: 60 + plan.lossWindowS });
  return {
    seed,
    crash,
    detection: { seeds, firstSuspectS, allDeadS, firstSuspectMedianS: medianOf(firstSuspectS), allDeadMedianS: medianOf(allDeadS) },
    idle,
    loss,
    leave: simulateLeave(members, seed),
    arrivals: plan.startsMs === undefined ? null : simulateArrivals(plan.startsMs, seed),
    arrivalsWithCpu: plan.startsMs === undefined ? null : simulateArrivals(plan.startsMs, seed, new HostCpu({ ...AGENT_CPU_COSTS, cores: availableParallelism() })),
  };
}
