// What the agents did while the cluster formed: per agent, from its own /metrics and /proc, the table
// builds (count, time, where), CPU, the event loop's worst lag, the suspicions it raised and the
// refutations it made; summed over the cluster every few seconds, so a feedback loop (builds and starved
// probes begetting suspicions, suspicions begetting view changes and builds) shows as a time series.
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { metricValue, type HostCluster, type Life } from '../../test/hosts/cluster.js';
import { procSample } from '../cluster/procstat.js';

export interface AgentColdStart {
  readonly name: string;
  readonly cpuS: number;
  /** CPU of the main thread (the event loop that answers probes); the rest is mostly the table worker. */
  readonly mainThreadCpuS: number;
  readonly builds: number;
  readonly buildsInWorker: number;
  /** Wall time from table request to built table, summed over the builds, seconds. */
  readonly buildWallS: number;
  readonly tableChanges: number;
  /** Worst event loop lag since the previous scrape (prom-client resets it on each), ms. */
  readonly lagMaxMs: number;
  readonly suspicionsRaised: number;
  readonly refutations: number;
  readonly probesFailed: number;
  readonly alive: number;
}

export interface ColdStartSample {
  /** Seconds since the members were spawned. */
  readonly atS: number;
  readonly load1: number;
  /** Agents that answered the scrape. */
  readonly answered: number;
  readonly cpuS: number;
  readonly mainThreadCpuS: number;
  readonly builds: number;
  readonly suspicionsRaised: number;
  readonly refutations: number;
  /** Suspect and dead events seen on the watch streams so far (nobody crashed: all false). */
  readonly suspectEvents: number;
  readonly deadEvents: number;
  readonly lagMaxMs: number;
}

export interface ColdStartEvidence {
  readonly samples: ColdStartSample[];
  /** Per agent at the end of the cold start (converged or timed out). */
  readonly agents: AgentColdStart[];
  readonly summary: Record<string, number>;
}

const round = (x: number, digits = 1): number => Math.round(x * 10 ** digits) / 10 ** digits;
const sum = (xs: readonly number[]): number => xs.reduce((s, x) => s + x, 0);
const quantile = (xs: readonly number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};

/** CPU seconds of one thread of `pid` (Linux /proc; 100 ticks a second). */
function threadCpuS(pid: number, tid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

/** Resolves to null after `ms`: a scrape of a starved cluster must not hold the bench up. */
function within<T>(ms: number, p: Promise<T>): Promise<T | null> {
  return Promise.race([p, new Promise<null>((r) => setTimeout(() => r(null), ms).unref())]);
}

async function scrape(c: HostCluster, l: Life): Promise<AgentColdStart | null> {
  const text = await within(10_000, c.metrics(l).catch(() => null));
  if (text === null) return null;
  const pid = l.child.pid ?? 0;
  const m = (name: string, filter = ''): number => metricValue(text, name, filter);
  return {
    name: l.name,
    cpuS: procSample(pid)?.cpuSeconds ?? Number.NaN,
    mainThreadCpuS: threadCpuS(pid, pid),
    builds: m('swimring_table_rebuild_duration_seconds_count'),
    buildsInWorker: m('swimring_table_rebuild_duration_seconds_count', 'where="worker"'),
    buildWallS: round(m('swimring_table_rebuild_duration_seconds_sum'), 2),
    tableChanges: m('swimring_table_version_changes_total'),
    lagMaxMs: round(m('nodejs_eventloop_lag_max_seconds') * 1000, 0),
    suspicionsRaised: m('swimring_suspicions_total'),
    refutations: m('swimring_refutations_total'),
    probesFailed: m('swimring_probes_failed_total'),
    alive: m('swimring_members', 'state="alive"'),
  };
}

interface LogLine {
  readonly time?: number;
  readonly msg?: string;
  readonly from?: string | null;
  readonly to?: string;
  readonly reason?: string;
  readonly buildMs?: number;
}

/**
 * The same story from the agents' own log lines (the harness keeps each one's stdout), which arrive even
 * when a starved agent cannot answer a scrape in time: builds and their wall time, failed probes that
 * raised a suspicion, deaths and returns, refutations, between `from` and `until` (agents' clock, ms).
 */
export function fromLogs(lives: readonly { readonly logs: readonly string[] }[], from: number, until: number): Record<string, number> {
  const perAgentBuilds: number[] = [];
  const buildMs: number[] = [];
  const counts = { probeFailed: 0, markedDead: 0, deadToAlive: 0, refutations: 0 };
  for (const l of lives) {
    let builds = 0;
    for (const line of l.logs) {
      let j: LogLine;
      try {
        j = JSON.parse(line) as LogLine;
      } catch {
        continue;
      }
      if (j.time === undefined || j.time < from || j.time > until) continue;
      if (j.msg === 'ownership table rebuilt') {
        builds++;
        buildMs.push(j.buildMs ?? Number.NaN);
      } else if (j.msg === 'refuted an accusation about this member') counts.refutations++;
      else if (j.msg === 'membership change') {
        if (j.reason === 'probe-failed') counts.probeFailed++;
        if (j.to === 'dead') counts.markedDead++;
        if (j.from === 'dead' && j.to === 'alive') counts.deadToAlive++;
      }
    }
    perAgentBuilds.push(builds);
  }
  return {
    'logs: builds per agent median': quantile(perAgentBuilds, 0.5),
    'logs: builds per agent max': Math.max(0, ...perAgentBuilds),
    'logs: build wall ms median': quantile(buildMs, 0.5),
    'logs: build wall ms max': Math.max(0, ...buildMs),
    'logs: suspicions from failed probes': counts.probeFailed,
    'logs: marked dead (per observer)': counts.markedDead,
    'logs: dead to alive again': counts.deadToAlive,
    'logs: refutations': counts.refutations,
  };
}

/** Samples the cluster every `everyS` seconds until stop() is called; stop() takes the final per-agent scrape. */
export function watchColdStart(c: HostCluster, spawnedAt: number, everyS = 15): { stop: () => Promise<ColdStartEvidence> } {
  const samples: ColdStartSample[] = [];
  let stopped = false;
  let last: AgentColdStart[] = [];
  const sample = async (): Promise<void> => {
    const lives = c.all().filter((l) => l.running);
    const got = (await Promise.all(lives.map((l) => scrape(c, l)))).filter((a): a is AgentColdStart => a !== null);
    last = got;
    const events = (to: string): number => c.memberEvents(spawnedAt, (e) => e.to === to).length;
    samples.push({
      atS: round((Date.now() - spawnedAt) / 1000),
      load1: round(loadavg()[0] ?? 0),
      answered: got.length,
      cpuS: round(sum(got.map((a) => a.cpuS))),
      mainThreadCpuS: round(sum(got.map((a) => a.mainThreadCpuS))),
      builds: sum(got.map((a) => a.builds)),
      suspicionsRaised: sum(got.map((a) => a.suspicionsRaised)),
      refutations: sum(got.map((a) => a.refutations)),
      suspectEvents: events('suspect'),
      deadEvents: events('dead'),
      lagMaxMs: Math.max(0, ...got.map((a) => a.lagMaxMs)),
    });
    console.error(`  cold start @${samples.at(-1)!.atS}s: ${JSON.stringify(samples.at(-1))}`);
  };
  const loop = (async () => {
    while (!stopped) {
      await new Promise((r) => setTimeout(r, everyS * 1000));
      if (!stopped) await sample();
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await within(30_000, loop.catch(() => undefined));
      await within(30_000, sample());
      const agents = last;
      const builds = agents.map((a) => a.builds);
      const cpu = agents.map((a) => a.cpuS);
      // The agents stamp their logs with Date.now(), as the harness does: one clock on one machine.
      const logs = fromLogs(c.all(), spawnedAt, Date.now());
      return {
        samples,
        agents,
        summary: {
          agents: agents.length,
          'builds per agent median': quantile(builds, 0.5),
          'builds per agent max': Math.max(0, ...builds),
          'builds sum': sum(builds),
          'build wall s per agent median': round(quantile(agents.map((a) => a.buildWallS), 0.5), 2),
          'cpu s per agent median': round(quantile(cpu, 0.5), 2),
          'cpu s sum': round(sum(cpu)),
          'main thread cpu s sum': round(sum(agents.map((a) => a.mainThreadCpuS))),
          'worker builds sum': sum(agents.map((a) => a.buildsInWorker)),
          'lag max ms (last interval)': Math.max(0, ...agents.map((a) => a.lagMaxMs)),
          'load at end': round(loadavg()[0] ?? 0),
          'suspicions raised sum': sum(agents.map((a) => a.suspicionsRaised)),
          'refutations sum': sum(agents.map((a) => a.refutations)),
          'suspect events (watch)': samples.at(-1)?.suspectEvents ?? 0,
          'dead events (watch)': samples.at(-1)?.deadEvents ?? 0,
          ...logs,
        },
      };
    },
  };
}
