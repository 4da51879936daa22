// The cold start of bench/cluster through the simulator with its host CPU model (src/sim/cpu.ts): one
// seed up and settled, then N-1 members spawned at once on the same cores, joining through it, as
// scenarios.ts coldStart does with real agents. Its figures sit next to the real ones, so the model's
// costs can be checked against what the agents spent.
import { profileConfig } from '../../src/core/config.js';
import { DEFAULT_TABLE_DEBOUNCE } from '../../src/runtime/table-debounce.js';
import { AGENT_CPU_COSTS, HostCpu, type CpuCosts } from '../../src/sim/cpu.js';
import { MemberFigures, memberCoreFactory, Simulator } from '../../src/sim/index.js';

export interface SimColdStart {
  readonly seed: number;
  /** Joiners' spawn → every member holding every other alive, ms; null: not within the bound. */
  readonly spawnToAllMs: number | null;
  /** Joiners' spawn → the last one's start-up CPU run. */
  readonly lastStartedMs: number;
  /** CPU the model charged from the spawn to every view complete, ms (all members). */
  readonly cpuMs: number;
  readonly tableBuilds: number;
}

const BOUND_MS = 120_000;

export function simulateColdStart(members: number, seed: number, costs: CpuCosts = AGENT_CPU_COSTS): SimColdStart {
  const cpu = new HostCpu(costs);
  const figures = new MemberFigures();
  const sim = new Simulator({
    seed,
    config: profileConfig('lan'),
    createCore: memberCoreFactory(figures, { cpu, tableDebounce: DEFAULT_TABLE_DEBOUNCE }),
    capacity: members,
    cpu,
  });
  const seedNode = sim.addNode();
  sim.join(seedNode, []);
  // The seed alone until it is quiet (the bench waits for it to run before spawning the rest).
  sim.runFor(5_000);
  const charged = (): number => Object.values(cpu.charged).reduce((a, b) => a + b, 0);
  const spawnAt = sim.now;
  const cpuBefore = charged();
  const buildsBefore = cpu.charged.build;
  for (let i = 1; i < members; i++) sim.join(sim.addNode(), [seedNode]);
  sim.observer.resetConvergence(spawnAt);
  const converged = sim.runFor(BOUND_MS, () => sim.observer.isConverged());
  return {
    seed,
    spawnToAllMs: converged ? Math.round(sim.now - spawnAt) : null,
    lastStartedMs: Math.round(cpu.lastStartedAt - spawnAt),
    cpuMs: Math.round(charged() - cpuBefore),
    tableBuilds: Math.round((cpu.charged.build - buildsBefore) / costs.tableBuildMs),
  };
}
