// `swimring sim`: a deterministic many-member simulation (virtual clock, virtual network), printed as
// a table or one JSON object. docs/sim.md documents the flags and every report field.
import { parseArgs } from 'node:util';
import { getHeapStatistics } from 'node:v8';
import type { ProfileName } from '../core/config.js';
import { formatReport } from '../sim/format.js';
import type { FleetOperation } from '../sim/fleet.js';
import { runScenario, type ScenarioOptions } from '../sim/scenario.js';
import { AGENT_CPU_COSTS } from '../sim/cpu.js';

export const SIM_USAGE = `usage: swimring sim --members N --seed S [--loss P] [--crash K] [--pause K:SECONDS]
                    [--isolate K:SECONDS | --split A:B:SECONDS]
                    [--rolling-update | --drain K | --statefulset-restart]
                    [--claims RATE [--clock-skew MS] [--clock-offsets MS,MS,...]]
                    [--duration SECONDS] [--start cold|converged] [--cpu CORES]
                    [--profile lan|local|wan] [--json]
  --members N          members started at once (1..20000); the first 3 are the seeds
  --seed S             integer 0..4294967295; the same seed gives the same report
  --loss P             uniform UDP packet loss on every link, 0 <= P < 1 (default 0)
  --crash K            crash K random members after convergence (default 0)
  --pause K:SECONDS    pause K random members for SECONDS after convergence (default none)
  --isolate K:SECONDS  cut K random members off from all others for SECONDS after convergence, then heal
  --split A:B:SECONDS  cut A random members from the B others (A + B = N) for SECONDS, then heal
  --rolling-update     once settled, roll a Deployment of the members at Kubernetes semantics: one new
                       pod (new name and address) at a time, an old pod deleted (preStop leave, drain,
                       SIGTERM) once the new one is available (maxSurge 1, maxUnavailable 0)
  --drain K            once settled, delete K pods at once (a node drain) and start K replacements
  --statefulset-restart
                       once settled, restart the members as a StatefulSet: highest ordinal first, same
                       name on a new address, the next only once the previous is Ready
                       (the three run alone; the run lasts until the operation is done plus 30 s)
  --duration SECONDS   simulated time in total (default 120; with a fleet operation a minimum)
  --start MODE         cold (default): every member joins through the seeds; converged: every member
                       starts joined, holding every other alive, nothing queued (converged and settled at 0 s)
  --cpu CORES          model the host's CPU: the members share CORES cores and pay the agent's CPU to
                       start, to handle each input and to build each table (docs/sim.md); a member
                       whose work waits handles nothing meanwhile. Cold start only, not with --pause
  --claims RATE        members claim random ids, RATE attempts per simulated second over the
                       cluster, from convergence on; the report gains a claims part
  --clock-skew MS      each member's wall clock off by a random amount in [-MS/2, MS/2] (claims)
  --clock-offsets LIST wall-clock offsets in ms of the first members, in order, e.g. 60000,-2000
  --profile NAME       timing profile: lan, local or wan (default lan)
  --json               print one JSON object instead of a table
`;

export interface SimIo {
  out: (text: string) => void;
  err: (text: string) => void;
}

const defaultIo: SimIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

const MAX_MEMBERS = 20_000;
const MAX_CPU_CORES = 1024;
const MAX_DURATION_S = 86_400;
/**
 * V8 heap one simulated (member, member) pair may cost at its peak, a cold start with every broadcast
 * queue full (docs/sim.md, Limits): slots in the table, queue and probe order, plus the join replies in
 * flight. The typed arrays beside them (about as much again) live outside the V8 heap.
 */
const HEAP_BYTES_PER_PAIR = 50;

class UsageError extends Error {}

function integer(flag: string, raw: string, min: number, maxValue: number): number {
  if (!/^\d+$/.test(raw)) throw new UsageError(`--${flag} must be a whole number (got "${raw}")`);
  const value = Number(raw);
  if (value < min || value > maxValue) throw new UsageError(`--${flag} must be between ${min} and ${maxValue} (got ${raw})`);
  return value;
}

function decimal(flag: string, raw: string): number {
  if (!/^\d+(\.\d+)?$/.test(raw)) throw new UsageError(`--${flag} must be a non-negative number (got "${raw}")`);
  return Number(raw);
}

/** Turns argv into scenario options, or throws a UsageError saying what is wrong. */
export function parseSimArgs(argv: readonly string[]): { options: ScenarioOptions; json: boolean } | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        members: { type: 'string' },
        seed: { type: 'string' },
        loss: { type: 'string' },
        crash: { type: 'string' },
        pause: { type: 'string' },
        isolate: { type: 'string' },
        split: { type: 'string' },
        'rolling-update': { type: 'boolean' },
        drain: { type: 'string' },
        'statefulset-restart': { type: 'boolean' },
        duration: { type: 'string' },
        start: { type: 'string' },
        cpu: { type: 'string' },
        claims: { type: 'string' },
        'clock-skew': { type: 'string' },
        'clock-offsets': { type: 'string' },
        profile: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  const v = parsed.values;
  if (v.help === true) return 'help';
  if (v.members === undefined) throw new UsageError('--members is required');
  if (v.seed === undefined) throw new UsageError('--seed is required');
  const members = integer('members', v.members, 1, MAX_MEMBERS);
  const seed = integer('seed', v.seed, 0, 4_294_967_295);
  const loss = v.loss === undefined ? 0 : decimal('loss', v.loss);
  if (loss >= 1) throw new UsageError(`--loss must be below 1 (got ${v.loss})`);
  const crash = v.crash === undefined ? 0 : integer('crash', v.crash, 0, MAX_MEMBERS);
  let pauseCount = 0;
  let pauseSeconds = 0;
  if (v.pause !== undefined) {
    const m = /^(\d+):(\d+(?:\.\d+)?)$/.exec(v.pause);
    if (m === null) throw new UsageError(`--pause must look like K:SECONDS, e.g. 2:5 (got "${v.pause}")`);
    pauseCount = integer('pause', m[1] ?? '', 0, MAX_MEMBERS);
    pauseSeconds = Number(m[2]);
    if (!(pauseSeconds > 0)) throw new UsageError('--pause SECONDS must be above 0');
  }
  if (crash + pauseCount >= members) {
    throw new UsageError(`--crash plus --pause members (${crash + pauseCount}) must leave at least one of the ${members} members untouched`);
  }
  const cut = parseCut(v.isolate, v.split, members);
  if (cut !== null && (crash > 0 || pauseCount > 0)) throw new UsageError('--isolate and --split run alone: no --crash or --pause with them');
  const fleet = parseFleet(v['rolling-update'] === true, v.drain, v['statefulset-restart'] === true, members);
  if (fleet !== null && (crash > 0 || pauseCount > 0 || cut !== null)) {
    throw new UsageError('--rolling-update, --drain and --statefulset-restart run alone: no --crash, --pause, --isolate or --split with them');
  }
  const durationS = v.duration === undefined ? 120 : decimal('duration', v.duration);
  if (!(durationS > 0) || durationS > MAX_DURATION_S) throw new UsageError(`--duration must be above 0 and at most ${MAX_DURATION_S}`);
  const start = v.start ?? 'cold';
  if (start !== 'cold' && start !== 'converged') throw new UsageError(`--start must be cold or converged (got "${start}")`);
  const cpu = v.cpu === undefined ? null : { ...AGENT_CPU_COSTS, cores: integer('cpu', v.cpu, 1, MAX_CPU_CORES) };
  if (cpu !== null && (start === 'converged' || pauseCount > 0)) throw new UsageError('--cpu models a cold start: not with --start converged or --pause');
  const profile = v.profile ?? 'lan';
  if (profile !== 'lan' && profile !== 'local' && profile !== 'wan') {
    throw new UsageError(`--profile must be lan, local or wan (got "${profile}")`);
  }
  return {
    options: { members, seed, loss, crash, pauseCount, pauseSeconds, durationS, profile: profile as ProfileName, ...(start === 'converged' ? { start } : {}), ...(cpu === null ? {} : { cpu }), ...(cut ?? {}), ...(fleet === null ? {} : { fleet }), ...parseClaims(v, members) },
    json: v.json === true,
  };
}

const MAX_CLAIMS_RATE = 100_000;
const MAX_CLOCK_OFFSET_MS = 86_400_000;

/** --claims RATE, --clock-skew MS, --clock-offsets LIST (the clocks only with claims: nothing else reads them). */
function parseClaims(
  v: { claims?: string | undefined; 'clock-skew'?: string | undefined; 'clock-offsets'?: string | undefined },
  members: number,
): Pick<ScenarioOptions, 'claimsRate' | 'clockSkewMs' | 'clockOffsetsMs'> {
  const skew = v['clock-skew'];
  const offsets = v['clock-offsets'];
  if (v.claims === undefined) {
    if (skew !== undefined || offsets !== undefined) throw new UsageError('--clock-skew and --clock-offsets need --claims (only claims read the wall clock)');
    return {};
  }
  const claimsRate = decimal('claims', v.claims);
  if (claimsRate > MAX_CLAIMS_RATE) throw new UsageError(`--claims must be at most ${MAX_CLAIMS_RATE} (got ${v.claims})`);
  const out: Pick<ScenarioOptions, 'claimsRate' | 'clockSkewMs' | 'clockOffsetsMs'> = { claimsRate };
  if (skew !== undefined) out.clockSkewMs = integer('clock-skew', skew, 0, MAX_CLOCK_OFFSET_MS);
  if (offsets !== undefined) {
    const list = offsets.split(',');
    if (list.length > members) throw new UsageError(`--clock-offsets names ${list.length} offsets for ${members} members`);
    out.clockOffsetsMs = list.map((raw) => {
      if (!/^-?\d+$/.test(raw)) throw new UsageError(`--clock-offsets must be whole milliseconds separated by commas, e.g. 60000,-2000 (got "${offsets}")`);
      const value = Number(raw);
      if (Math.abs(value) > MAX_CLOCK_OFFSET_MS) throw new UsageError(`--clock-offsets values must be within ±${MAX_CLOCK_OFFSET_MS} (got ${raw})`);
      return value;
    });
  }
  return out;
}

function seconds(flag: string, raw: string): number {
  const value = decimal(flag, raw);
  if (!(value > 0)) throw new UsageError(`--${flag} SECONDS must be above 0`);
  return value;
}

/** --isolate K:SECONDS or --split A:B:SECONDS (not both), checked against the member count. */
function parseCut(isolate: string | undefined, split: string | undefined, members: number): Pick<ScenarioOptions, 'isolate' | 'split'> | null {
  if (isolate !== undefined && split !== undefined) throw new UsageError('--isolate and --split cannot be combined');
  if (isolate !== undefined) {
    const m = /^(\d+):([\d.]+)$/.exec(isolate);
    if (m === null) throw new UsageError(`--isolate must look like K:SECONDS, e.g. 1:30 (got "${isolate}")`);
    const count = integer('isolate', m[1] ?? '', 1, members - 1);
    return { isolate: { count, seconds: seconds('isolate', m[2] ?? '') } };
  }
  if (split !== undefined) {
    const m = /^(\d+):(\d+):([\d.]+)$/.exec(split);
    if (m === null) throw new UsageError(`--split must look like A:B:SECONDS, e.g. 3:7:60 (got "${split}")`);
    const a = integer('split', m[1] ?? '', 1, members - 1);
    const b = integer('split', m[2] ?? '', 1, members - 1);
    if (a + b !== members) throw new UsageError(`--split A + B must be the member count ${members} (got ${a} + ${b})`);
    return { split: { a, b, seconds: seconds('split', m[3] ?? '') } };
  }
  return null;
}

/** At most one fleet operation; a drain leaves at least one pod untouched. */
function parseFleet(rolling: boolean, drain: string | undefined, statefulSet: boolean, members: number): FleetOperation | null {
  if (Number(rolling) + Number(drain !== undefined) + Number(statefulSet) > 1) {
    throw new UsageError('--rolling-update, --drain and --statefulset-restart cannot be combined');
  }
  if (rolling) return { kind: 'rolling-update' };
  if (statefulSet) return { kind: 'statefulset-restart' };
  if (drain !== undefined) {
    if (members < 2) throw new UsageError('--drain needs at least 2 members');
    return { kind: 'drain', pods: integer('drain', drain, 1, members - 1) };
  }
  return null;
}

export async function runSim(argv: string[], io: SimIo = defaultIo): Promise<number> {
  let args;
  try {
    args = parseSimArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.err(`swimring sim: ${err.message}\n${SIM_USAGE}`);
    return 2;
  }
  if (args === 'help') {
    io.out(SIM_USAGE);
    return 0;
  }
  // Every core holds a record per member: refuse a run that would die of heap exhaustion halfway.
  const needed = args.options.members ** 2 * HEAP_BYTES_PER_PAIR;
  const limit = getHeapStatistics().heap_size_limit;
  if (needed > 0.9 * limit) {
    const gb = (b: number): string => (b / 1e9).toFixed(1);
    io.err(
      `swimring sim: ${args.options.members} members need about ${gb(needed)} GB of heap (every member keeps a record of every other); ` +
        `this process may use ${gb(limit)} GB. Run node with --max-old-space-size=${Math.ceil((needed * 1.25) / 1e6)} on a machine with that much free memory, or simulate fewer members.\n`,
    );
    return 2;
  }
  // Long runs report progress on stderr (stdout stays one clean table or JSON object).
  let nextNote = 10;
  const report = runScenario({
    ...args.options,
    progress: (p) => {
      if (p.wallS < nextNote) return;
      nextNote = p.wallS + 10;
      io.err(`swimring sim: ${p.phase}, ${p.simS.toFixed(0)} s simulated in ${p.wallS.toFixed(0)} s\n`);
    },
  });
  io.out(args.json ? `${JSON.stringify(report)}\n` : formatReport(report));
  return 0;
}
