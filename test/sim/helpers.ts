// Shared set-up for the protocol tests: a cluster of real SwimCores in the simulator.
import { profileConfig, type ProfileName, type SwimConfig } from '../../src/core/config.js';
import type { MembershipEvent } from '../../src/core/types.js';
import type { NetworkOptions } from '../../src/sim/network.js';
import { Simulator, type SimNode } from '../../src/sim/simulator.js';
import { createSwimCore } from '../../src/sim/swim-factory.js';
import { WALL_CLOCK_FIELDS, runScenario, type ScenarioOptions, type SimReport } from '../../src/sim/scenario.js';

export interface ClusterOptions {
  seed: number;
  profile?: ProfileName;
  overrides?: Partial<SwimConfig>;
  network?: Partial<NetworkOptions>;
  onEvent?: (node: SimNode, event: MembershipEvent, now: number) => void;
}

export interface Cluster {
  sim: Simulator;
  nodes: SimNode[];
  seeds: SimNode[];
  config: SwimConfig;
}

/** n members started at time 0, all joining through the first three. */
export function startCluster(n: number, options: ClusterOptions): Cluster {
  const config = profileConfig(options.profile ?? 'lan', options.overrides);
  const sim = new Simulator({
    seed: options.seed,
    config,
    createCore: createSwimCore,
    capacity: n,
    ...(options.network === undefined ? {} : { network: options.network }),
    ...(options.onEvent === undefined ? {} : { onEvent: options.onEvent }),
  });
  const nodes: SimNode[] = [];
  for (let i = 0; i < n; i++) nodes.push(sim.addNode());
  const seeds = nodes.slice(0, 3);
  for (const node of nodes) sim.join(node, seeds);
  return { sim, nodes, seeds, config };
}

/** Runs until every live member sees every live member alive; throws if that takes longer than limitMs. */
export function converge(sim: Simulator, limitMs: number): number {
  const done = sim.runUntil(sim.now + limitMs, () => sim.observer.isConverged());
  if (!done) throw new Error(`cluster did not converge within ${limitMs} ms (at ${sim.now})`);
  return sim.now;
}

/**
 * Differences between what every live member believes and the truth: each other live member alive,
 * with its current lifeId and addresses, under exactly one record. Empty when all agree.
 */
export function viewProblems(sim: Simulator): string[] {
  const live = sim.nodes.filter((n) => n.live);
  const problems: string[] = [];
  for (const observer of live) {
    const records = observer.runningCore.members();
    const byName = new Map<string, number>();
    for (const r of records) byName.set(r.name, (byName.get(r.name) ?? 0) + 1);
    for (const [name, count] of byName) if (count > 1) problems.push(`${observer.name} holds ${count} records for ${name}`);
    for (const target of live) {
      if (target === observer) continue;
      const r = observer.runningCore.member(target.name);
      if (r === undefined) problems.push(`${observer.name} does not know ${target.name}`);
      else if (r.state !== 'alive') problems.push(`${observer.name} sees ${target.name} ${r.state}`);
      else if (r.lifeId !== target.lifeId) problems.push(`${observer.name} sees an old life of ${target.name}`);
      else if (r.gossipAddr !== target.gossipAddr || r.grpcAddr !== target.grpcAddr) problems.push(`${observer.name} has old addresses for ${target.name}`);
    }
  }
  return problems;
}

/** Names of the members some live member has declared dead while they were running (false deaths). */
export function falselyDead(sim: Simulator, exclude: readonly SimNode[] = []): string[] {
  return sim.nodes.filter((n) => !exclude.includes(n) && sim.observer.falseDeaths(n.name) > 0).map((n) => n.name);
}

/** A scenario's report as JSON without the fields that depend on the machine (same seed, same string). */
export function reportWithoutWallClock(options: ScenarioOptions): string {
  const report: Partial<SimReport> = runScenario(options);
  for (const field of WALL_CLOCK_FIELDS) delete report[field];
  return JSON.stringify(report);
}
