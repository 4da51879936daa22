// The simulated half of the scale bench: the same member count, profile and loss through `swimring sim`'s
// scenario (runScenario), so its predictions sit next to what the real sidecars did.
import { runScenario, type SimReport } from '../../src/sim/index.js';

export interface SimRun {
  readonly seed: number;
  /** Crash run: convergence, steady traffic, one crash. */
  readonly crash: SimReport;
  /** Loss run: the same cluster with uniform loss on every link for the whole run, no faults. */
  readonly loss: SimReport;
}

export function runSim(members: number, lossPercent: number, lossWindowS: number, seed: number): SimRun {
  const base = { members, seed, profile: 'lan' as const, pauseCount: 0, pauseSeconds: 0 };
  const crash = runScenario({ ...base, loss: 0, crash: 1, durationS: 120 });
  // Converging under loss takes longer than without; the window the real run holds loss for is added on top.
  const loss = runScenario({ ...base, loss: lossPercent / 100, crash: 0, durationS: 60 + lossWindowS });
  return { seed, crash, loss };
}
