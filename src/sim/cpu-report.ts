// The CPU model in a scenario run (ScenarioOptions.cpu): which runs it fits, and what the report says of it.
import { HostCpu, type CpuCosts } from './cpu.js';
import type { ScenarioOptions } from './scenario.js';
import { round } from './stats.js';

/** The CPU model's costs and what it charged over the run (CPU seconds, all members). */
export interface CpuReport extends CpuCosts {
  /** When the last member had started (its start's CPU run), s. */
  last_started_s: number | null;
  /** From then to every member holding every other alive, s (the real cold start's "last start to one view"). */
  converged_after_last_start_s: number | null;
  charged_s: number;
  start_s: number;
  warmup_s: number;
  build_s: number;
  input_s: number;
}

export function cpuFor(options: ScenarioOptions): HostCpu | null {
  if (options.cpu === undefined) return null;
  if (options.pauseCount > 0) throw new Error('the CPU model holds members the way a pause does: run it without pauses');
  if (options.start === 'converged' || options.bareCores === true || options.createCore !== undefined) {
    throw new Error('the CPU model runs a cold start of whole members');
  }
  return new HostCpu(options.cpu);
}

export function cpuReport(cpu: HostCpu, convergedAt: number | null): CpuReport {
  const { start, warmup, build, input, load } = cpu.charged;
  const lastStarted = Number.isFinite(cpu.lastStartedAt) ? cpu.lastStartedAt : null;
  return {
    ...cpu.costs,
    last_started_s: lastStarted === null ? null : round(lastStarted / 1000, 3),
    converged_after_last_start_s: lastStarted === null || convergedAt === null ? null : round((convergedAt - lastStarted) / 1000, 3),
    charged_s: round((start + warmup + build + input + load) / 1000, 3) ?? 0,
    start_s: round(start / 1000, 3) ?? 0,
    warmup_s: round(warmup / 1000, 3) ?? 0, build_s: round(build / 1000, 3) ?? 0, input_s: round(input / 1000, 3) ?? 0,
  };
}
