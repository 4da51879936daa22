// The cold start alone, repeated (`--only-cold-start`): each repetition starts a fresh cluster of every system in
// turn (swimring, optionally a second swimring build given by `--before DIR`, Serf), so the systems share the
// machine's load as evenly as one run allows. For swimring it also reads the agents' own logs into phases: spawn →
// member started (process start-up), → joined (the join exchange), → the last joiner known to every member (its
// gossip), → every view complete; plus the table builds during it. Medians over the repetitions go to stdout and
// DIR/coldstart.md, the raw samples to DIR/coldstart.json.
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ClusterUnderTest } from './cluster.js';
import { LoopbackNetwork } from './network.js';
import { procSample } from './procstat.js';
import { coldStart } from './scenarios.js';
import type { SystemDriver } from './systems.js';
import { simulateColdStart, type SimColdStart } from './coldsim.js';
import { AGENT_CPU_COSTS } from '../../src/sim/cpu.js';

export interface ColdSystem {
  readonly label: string;
  readonly driver: SystemDriver;
}

/** One swimring cold start read from the agents' logs; times in ms after the joiners' spawn. */
export interface ColdPhases {
  readonly spawnToAllMs: number;
  readonly lastStartedMs: number;
  readonly lastJoinedMs: number;
  readonly lastRunningMs: number;
  /** The member that started last: when the last observer first held it alive. */
  readonly lastJoinerKnownMs: number;
  readonly joinAttempts: number;
  readonly joinedVia: Record<string, number>;
  readonly tableBuilds: number;
  readonly tableBuildMsSum: number;
  /** Table builds logged before the last view became complete. */
  readonly tableBuildsBeforeComplete: number;
  /** Of those, built in a worker thread (each agent's first one started the worker: an isolate of its own). */
  readonly workerBuildsBeforeComplete: number;
  /** Agents that had built in a worker by then. */
  readonly agentsWithWorker: number;
  /** Of the builds before every view was complete, those of several owners (the table of one is a fill). */
  readonly severalOwnerBuildsBeforeComplete: number;
  /** Suspicions logged by all agents (one per observer), and refutations, before every view was complete. */
  readonly suspectsBeforeComplete: number;
  readonly refutesBeforeComplete: number;
  /** CPU of all agents (sampled every 100 ms) up to each one's `member started`, and from there to every view complete, ms. */
  readonly cpuToStartedMs?: number;
  readonly cpuStartedToCompleteMs?: number;
}

/** CPU seconds of one agent at a time (ms since epoch): the last sample at or before it. */
export type CpuAt = (agent: string, at: number) => number;

interface LogRecord {
  readonly at: number;
  readonly rec: Record<string, unknown>;
}

function readAgentLog(path: string): LogRecord[] {
  const out: LogRecord[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const space = line.indexOf(' ');
    const text = line.slice(space + 1);
    if (!text.startsWith('{')) continue;
    try {
      const rec = JSON.parse(text) as Record<string, unknown>;
      out.push({ at: typeof rec['time'] === 'number' ? rec['time'] : Number(line.slice(0, space)), rec });
    } catch {
      // A line cut short by the kill at the end: not news.
    }
  }
  return out;
}

/** Phases of one swimring cold start from its agents' logs in `dir` (the seed's included, its own start before t0). */
export function phasesOf(dir: string, t0: number, spawnToAllMs: number, cpuAt?: CpuAt): ColdPhases {
  const files = readdirSync(dir).filter((f) => f.endsWith('.log'));
  const logs = files.map((f) => readAgentLog(join(dir, f)));
  const rel = (at: number | undefined): number => (at === undefined ? Number.NaN : at - t0);
  const first = (recs: LogRecord[], msg: string): number | undefined => recs.find((r) => r.rec['msg'] === msg)?.at;
  const joiners = logs.filter((recs) => (first(recs, 'member started') ?? 0) >= t0);
  const startedAt = joiners.map((recs) => ({ recs, at: first(recs, 'member started') ?? t0 }));
  const last = startedAt.reduce((a, b) => (b.at > a.at ? b : a));
  const lastName = last.recs.find((r) => r.rec['msg'] === 'member started')?.rec['name'];
  const knownAt = logs
    .filter((recs) => recs !== last.recs)
    .map((recs) => recs.find((r) => r.rec['msg'] === 'membership change' && r.rec['member'] === lastName && r.rec['to'] === 'alive')?.at ?? Number.NaN);
  const joinedVia: Record<string, number> = {};
  for (const recs of joiners) {
    const joined = recs.find((r) => r.rec['msg'] === 'joined the cluster');
    const via = joined ? (String(joined.rec['via']) === 'gossip' ? 'gossip' : 'seed answer') : 'not logged';
    joinedVia[via] = (joinedVia[via] ?? 0) + 1;
  }
  const completeAt = t0 + spawnToAllMs;
  const isBuild = (r: LogRecord): boolean => r.rec['msg'] === 'ownership table rebuilt' && r.at >= t0;
  const inWorker = (r: LogRecord): boolean => isBuild(r) && r.rec['builtIn'] === 'worker' && r.at <= completeAt;
  const builds = logs.flatMap((recs) => recs.filter(isBuild));
  return {
    spawnToAllMs,
    lastStartedMs: rel(last.at),
    lastJoinedMs: Math.max(...joiners.map((recs) => rel(first(recs, 'joined the cluster')))),
    lastRunningMs: Math.max(...joiners.map((recs) => rel(first(recs, 'swimring is running')))),
    lastJoinerKnownMs: Math.max(...knownAt) - t0,
    joinAttempts: joiners.reduce((s, recs) => s + recs.filter((r) => r.rec['msg'] === 'joining through seeds').length, 0),
    joinedVia,
    tableBuilds: builds.length,
    tableBuildMsSum: builds.reduce((s, r) => s + (typeof r.rec['buildMs'] === 'number' ? r.rec['buildMs'] : 0), 0),
    tableBuildsBeforeComplete: builds.filter((r) => r.at <= completeAt).length,
    workerBuildsBeforeComplete: builds.filter(inWorker).length,
    agentsWithWorker: logs.filter((recs) => recs.some(inWorker)).length,
    severalOwnerBuildsBeforeComplete: builds.filter((r) => r.at <= completeAt && typeof r.rec['owners'] === 'number' && r.rec['owners'] > 1).length,
    suspectsBeforeComplete: countBefore(logs, completeAt, (r) => r.rec['msg'] === 'membership change' && r.rec['to'] === 'suspect'),
    refutesBeforeComplete: countBefore(logs, completeAt, (r) => r.rec['msg'] === 'refuted an accusation about this member'),
    ...(cpuAt ? cpuSplit(files, logs, completeAt, cpuAt) : {}),
  };
}

function countBefore(logs: readonly LogRecord[][], at: number, match: (r: LogRecord) => boolean): number {
  return logs.reduce((n, recs) => n + recs.filter((r) => r.at <= at && match(r)).length, 0);
}

/** The cluster's CPU before each agent's `member started` (process start-up) and after it, up to every view complete. */
function cpuSplit(files: readonly string[], logs: readonly LogRecord[][], completeAt: number, cpuAt: CpuAt): { cpuToStartedMs: number; cpuStartedToCompleteMs: number } {
  let before = 0;
  let after = 0;
  files.forEach((file, i) => {
    const name = file.replace(/\.log$/, '').split('-n')[1]?.replace(/^\d+-/, '') ?? '';
    const started = logs[i]?.find((r) => r.rec['msg'] === 'member started')?.at ?? completeAt;
    const atStart = cpuAt(name, started);
    before += atStart;
    after += cpuAt(name, completeAt) - atStart;
  });
  return { cpuToStartedMs: before * 1000, cpuStartedToCompleteMs: after * 1000 };
}

interface ColdSample {
  readonly label: string;
  readonly n: number;
  readonly rep: number;
  readonly load1: number;
  readonly spawnToAllMs: number;
  readonly fromLastUpMs: number;
  readonly spawnToRunningMedianMs: number;
  /** CPU seconds of every agent (the seed's included) when every view was complete: the work a cold start costs. */
  readonly clusterCpuS: number;
  readonly timedOut: boolean;
  readonly phases?: ColdPhases;
}

const median = (xs: readonly number[]): number => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** Every swimring agent of the first repetition writes a V8 CPU profile here (`--cpu-prof-dir`). */
let cpuProfDir: string | null = null;

export async function runColdStarts(systems: readonly ColdSystem[], sizes: readonly number[], reps: number, outDir: string, profileDir: string | null = null): Promise<void> {
  cpuProfDir = profileDir;
  mkdirSync(outDir, { recursive: true });
  const samples: ColdSample[] = [];
  for (const n of sizes) {
    for (let rep = 0; rep < reps; rep++) {
      for (const { label, driver } of systems) {
        const logDir = join(outDir, 'coldstart-logs', `${label}-n${n}-rep${rep}`);
        rmSync(logDir, { recursive: true, force: true });
        mkdirSync(logDir, { recursive: true });
        const profiled = cpuProfDir !== null && driver.hasTables && rep === 0 ? withCpuProfile(driver, join(cpuProfDir, `${label}-n${n}`)) : driver;
        const c = new ClusterUnderTest(profiled, new LoopbackNetwork(n), logDir);
        const load1 = loadavg()[0] ?? Number.NaN;
        try {
          const cpu = sampleCpu(c);
          const cold = await coldStart(c).finally(() => cpu.stop());
          const clusterCpuS = c.names.reduce((sum, _, i) => sum + (procSample(c.agent(i).pid)?.cpuSeconds ?? Number.NaN), 0);
          // With --cpu-prof the agents write their profiles on a clean exit; Serf and a plain run are just killed.
          await Promise.all(c.names.map((_, i) => c.agent(i).stop(cpuProfDir && driver.hasTables ? 'SIGINT' : 'SIGKILL', 15_000)));
          const running = cold.spawnToRunningMs ?? [];
          const phases = driver.hasTables && cold.spawnedAt !== undefined && !cold.timedOut ? phasesOf(logDir, cold.spawnedAt, cold.spawnToAllMs, cpu.at) : undefined;
          const sample: ColdSample = { label, n, rep, load1, spawnToAllMs: cold.spawnToAllMs, fromLastUpMs: cold.fromLastUpMs, spawnToRunningMedianMs: median(running), clusterCpuS, timedOut: cold.timedOut, ...(phases ? { phases } : {}) };
          samples.push(sample);
          console.error(`  ${label} N=${n} rep ${rep + 1}/${reps} (load ${load1.toFixed(1)}): every view complete ${cold.spawnToAllMs} ms after spawn${phases ? `, ${JSON.stringify(phases)}` : ''}`);
        } catch (err) {
          console.error(`  ! ${label} N=${n} rep ${rep + 1}: ${String(err)}`);
        } finally {
          await c.stopAll();
          await sleep(1000);
        }
      }
      writeFileSync(join(outDir, 'coldstart.json'), JSON.stringify(samples, null, 1) + '\n');
    }
  }
  const md = renderColdStarts(samples, systems.map((s) => s.label), sizes);
  writeFileSync(join(outDir, 'coldstart.md'), md);
  console.log(md);
}

type PhaseKey = Exclude<keyof ColdPhases, 'joinedVia'>;
const PHASE_ROWS: ReadonlyArray<readonly [string, PhaseKey]> = [
  ['spawn → last member started (sockets bound)', 'lastStartedMs'],
  ['spawn → last member joined', 'lastJoinedMs'],
  ['spawn → last joiner alive on every member', 'lastJoinerKnownMs'],
  ['spawn → last "swimring is running"', 'lastRunningMs'],
  ['join attempts (all joiners)', 'joinAttempts'],
  ['table builds (all agents, during the cold start)', 'tableBuildsBeforeComplete'],
  ['of those, built in a worker', 'workerBuildsBeforeComplete'],
  ['agents that started a worker during the cold start', 'agentsWithWorker'],
  ['of the builds, tables of several owners', 'severalOwnerBuildsBeforeComplete'],
  ['suspicions logged (all agents, during the cold start)', 'suspectsBeforeComplete'],
  ['refutations (all agents, during the cold start)', 'refutesBeforeComplete'],
  ['table build wall ms summed (all agents, whole rep)', 'tableBuildMsSum'],
  ['CPU of all agents up to each one\'s "member started", ms', 'cpuToStartedMs'],
  ['CPU of all agents from "member started" to every view complete, ms', 'cpuStartedToCompleteMs'],
];

function renderColdStarts(samples: readonly ColdSample[], labels: readonly string[], sizes: readonly number[]): string {
  const lines: string[] = [];
  for (const n of sizes) {
    const of = (label: string): ColdSample[] => samples.filter((s) => s.n === n && s.label === label && !s.timedOut);
    lines.push(`### N=${n}, loopback, medians of ${Math.max(...labels.map((l) => of(l).length))} repetitions`, '');
    lines.push(`| | ${labels.join(' | ')} |`, `|---|${labels.map(() => '---:').join('|')}|`);
    const row = (name: string, pick: (s: ColdSample) => number | undefined): void => {
      lines.push(`| ${name} | ${labels.map((l) => fmt(median(of(l).map((s) => pick(s) ?? Number.NaN)))).join(' | ')} |`);
    };
    row('spawn of N-1 agents → every view complete, ms', (s) => s.spawnToAllMs);
    row('spawn → agent running (median agent), ms', (s) => s.spawnToRunningMedianMs);
    row('last agent running → every view complete, ms', (s) => s.fromLastUpMs);
    row('CPU of all agents at every view complete, ms', (s) => s.clusterCpuS * 1000);
    for (const [name, key] of PHASE_ROWS) row(name, (s) => s.phases?.[key]);
    const serf = labels.find((l) => l.startsWith('serf'));
    if (serf) {
      for (const l of labels.filter((x) => x !== serf)) {
        lines.push(`| ${l} / ${serf}, spawn → every view complete | ${labels.map((x) => (x === l ? (median(of(l).map((s) => s.spawnToAllMs)) / median(of(serf).map((s) => s.spawnToAllMs))).toFixed(2) : '')).join(' | ')} |`);
      }
    }
    lines.push('', `timed out: ${labels.map((l) => `${l} ${samples.filter((s) => s.n === n && s.label === l && s.timedOut).length}`).join(', ')}`, '');
    lines.push(...renderSimColdStart(n));
  }
  return lines.join('\n');
}

/** Every agent's CPU every 100 ms while the cold start runs (a /proc read per agent: negligible beside it). */
function sampleCpu(c: ClusterUnderTest): { stop: () => void; at: CpuAt } {
  const series = new Map<string, { at: number; cpuS: number }[]>();
  const timer = setInterval(() => {
    const now = Date.now();
    c.names.forEach((name, i) => {
      let pid: number;
      try {
        pid = c.agent(i).pid;
      } catch {
        return; // not spawned yet
      }
      const s = procSample(pid);
      if (!s) return;
      let list = series.get(name);
      if (!list) series.set(name, (list = []));
      list.push({ at: now, cpuS: s.cpuSeconds });
    });
  }, 100);
  return {
    stop: () => clearInterval(timer),
    at: (name, at) => {
      const list = series.get(name) ?? [];
      let v = 0;
      for (const p of list) if (p.at <= at) v = p.cpuS;
      return v;
    },
  };
}

function withCpuProfile(driver: SystemDriver, dir: string): SystemDriver {
  mkdirSync(dir, { recursive: true });
  return {
    ...driver,
    command: (spec) => {
      const own = driver.command(spec);
      // Node flags go before the script (NODE_OPTIONS may not carry --cpu-prof).
      return { ...own, args: ['--cpu-prof', `--cpu-prof-dir=${dir}`, ...own.args] };
    },
  };
}

const fmt = (x: number): string => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '–');

/** The same cold start through the simulator's CPU model (coldsim.ts), three seeds, beside the real one. */
function renderSimColdStart(n: number): string[] {
  const runs = [1, 2, 3].map((seed) => simulateColdStart(n, seed));
  const m = (pick: (r: SimColdStart) => number | null): string => fmt(median(runs.map((r) => pick(r) ?? Number.NaN)));
  const c = AGENT_CPU_COSTS;
  return [
    `Simulator, CPU model on ${c.cores} cores (start ${c.startMs} ms, warm-up ${c.warmupMs} ms, build ${c.tableBuildMs} ms, input ${c.inputMs} ms per member), medians of seeds 1-3:`,
    '',
    '| | simulator |',
    '|---|---:|',
    `| spawn of N-1 agents → every view complete, ms | ${m((r) => r.spawnToAllMs)} |`,
    `| spawn → last member started, ms | ${m((r) => r.lastStartedMs)} |`,
    `| CPU charged from the spawn to every view complete, ms | ${m((r) => r.cpuMs)} |`,
    `| table builds | ${m((r) => r.tableBuilds)} |`,
    '',
  ];
}
