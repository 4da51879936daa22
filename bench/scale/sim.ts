// The simulated half of the scale bench: the same member count, profile and loss through `swimring sim`'s
// scenario (runScenario), so its predictions sit next to what the real sidecars did; plus a graceful
// leave, which the standard scenario has no step for.
import { OPTIONS } from '../../src/config/options.js';
import { profileConfig } from '../../src/core/config.js';
import { createSwimCore, runScenario, Simulator, type SimReport } from '../../src/sim/index.js';

export interface SimLeave {
  /** The agent's default drain (it announces the leave this long after the signal), in seconds. */
  readonly drainS: number;
  /** Seconds from the signal to the leave in every other view: drain + propagation; null: never. */
  readonly allLeftS: number | null;
}

export interface SimRun {
  readonly seed: number;
  /** Crash run: convergence, steady traffic, one crash. */
  readonly crash: SimReport;
  /** Loss run: the same cluster with uniform loss on every link for the whole run, no faults. */
  readonly loss: SimReport;
  readonly leave: SimLeave;
}

/** A converged cluster, then its last member leaves the way the agent does on SIGTERM. */
export function simulateLeave(members: number, seed: number): SimLeave {
  const drainMs = Number(OPTIONS.drainMs.default);
  const sim = new Simulator({ seed, config: profileConfig('lan'), createCore: createSwimCore, capacity: members });
  const nodes = Array.from({ length: members }, () => sim.addNode());
  for (const node of nodes) sim.join(node, nodes.slice(0, 3));
  sim.runFor(120_000, () => sim.observer.isConverged());
  sim.runFor(5_000);
  const leaver = nodes[members - 1]!;
  const signalAt = sim.now;
  sim.runFor(drainMs);
  sim.leave(leaver);
  sim.runFor(30_000, () => !Number.isNaN(sim.observer.everyoneSawAt(leaver.name, 'left')));
  const at = sim.observer.everyoneSawAt(leaver.name, 'left');
  return { drainS: drainMs / 1000, allLeftS: Number.isNaN(at) ? null : Math.round(at - signalAt) / 1000 };
}

export function runSim(members: number, lossPercent: number, lossWindowS: number, seed: number): SimRun {
  const base = { members, seed, profile: 'lan' as const, pauseCount: 0, pauseSeconds: 0 };
  const crash = runScenario({ ...base, loss: 0, crash: 1, durationS: 120 });
  // Converging under loss takes longer than without; the window the real run holds loss for is added on top.
  const loss = runScenario({ ...base, loss: lossPercent / 100, crash: 0, durationS: 60 + lossWindowS });
  return { seed, crash, loss, leave: simulateLeave(members, seed) };
}
