// The real half of the scale bench: N sidecars of the hosts harness (one per network namespace on a
// bridge), driven through the scenarios the simulator runs too. Times come from each member's watch
// stream as the harness receives it; bytes from each agent's own /metrics; RSS and CPU from /proc.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { HostCluster, metricValue, type Life } from '../../test/hosts/cluster.js';
import { procSample } from '../cluster/procstat.js';
import { median } from '../cluster/stats.js';
import { watchColdStart, type ColdStartEvidence } from './coldstart.js';
import { coldStartTimes, detectionTimes, parseLog, type AgentLog } from './logtimes.js';
import { WatchViews } from './watch-views.js';

export interface ScalePlan {
  readonly members: number;
  /** Seconds allowed for one view after the last spawn, and for every observer to see a crash or leave. */
  readonly convergeTimeoutS: number;
  readonly settleS: number;
  /** Members killed one after the other (each a sample of detection), then one leaves. */
  readonly crashes: number;
  readonly idleWindowS: number;
  readonly lossPercent: number;
  readonly lossWindowS: number;
  /** Where each agent's last log lines are written at the end (none: not written). */
  readonly logDir?: string;
}

export interface IdleFigures {
  readonly windowS: number;
  readonly udpBytesPerMemberPerS: number;
  readonly udpPacketsPerMemberPerS: number;
  readonly rpcBytesPerMemberPerS: number;
  readonly rssMbSum: number;
  readonly rssMbMedian: number;
  readonly cpuPercentSum: number;
  readonly cpuPercentMedian: number;
}

export interface DetectionFigures {
  readonly victim: string;
  /** Seconds from the kill (or the leave signal) to the first and last observer's event; null: never. */
  readonly firstS: number | null;
  readonly lastS: number | null;
  readonly firstSuspectS: number | null;
  readonly observers: number;
  readonly missed: number;
  /** The same from the agents' own log lines (when each changed its state), seconds after the signal. */
  readonly log: { readonly firstSuspectS: number | null; readonly firstS: number | null; readonly lastS: number | null; readonly announcedS: number | null };
}

export interface LossFigures {
  readonly percent: number;
  readonly windowS: number;
  readonly falseSuspicions: number;
  readonly falseDeaths: number;
}

export interface RealRun {
  readonly members: number;
  readonly shards: string;
  readonly setupMs: Record<string, number>;
  /** Seconds from spawning members 1..N-1 (the seed already ready) to one view; null: timed out. */
  readonly coldStartS: number | null;
  /** Seconds from that spawn until the last member answered HTTP (Node start and table build). */
  readonly lastServingS: number | null;
  /** Seconds from the last member answering to one view: the membership part of the cold start. */
  readonly servingToViewS: number | null;
  /** What the agents did while the cluster formed (coldstart.ts). */
  readonly coldStart: ColdStartEvidence | null;
  /** The cold start's phases from the agents' logs (logtimes.ts), seconds; null where not reached. */
  readonly coldStartLog: ColdStartLog | null;
  /** CPU seconds the bench itself and the hub proxy used from the spawn to one view (load the bench adds). */
  readonly harnessCpuS: { readonly bench: number; readonly proxy: number } | null;
  readonly idle: IdleFigures | null;
  /** The first crash; `crashes` holds every one (--crashes). */
  readonly crash: DetectionFigures | null;
  readonly crashes?: readonly DetectionFigures[];
  readonly leave: DetectionFigures | null;
  readonly loss: LossFigures | null;
}

export interface ColdStartLog {
  /** Spawn to the last member's "member started" (process start-up, sockets bound; its join begins). */
  readonly lastStartedS: number | null;
  /** Last member started to every member alive in every view (the membership part). */
  readonly membershipS: number | null;
  /** Every view complete to the last table build before one view (the tables' part). */
  readonly tablesS: number | null;
  /** Each member's start, ms after the seed's own start (the seed first): the simulator replays them. */
  readonly startsMs: readonly number[];
}

const seconds = (ms: number): number => Math.round(ms) / 1000;
const sub = (a: number | null, b: number | null): number | null => (a === null || b === null ? null : seconds(a - b));

function agentLogs(c: HostCluster): AgentLog[] {
  return c.all().map((l) => ({ name: l.name, entries: parseLog(l.logs) }));
}

/** CPU seconds of every process in the hub namespace (the hub proxy). */
function hubCpuS(c: HostCluster): number {
  const pids = (spawnSync('ip', ['netns', 'pids', c.lab.hub], { encoding: 'utf8' }).stdout ?? '').split('\n').map(Number).filter((p) => p > 1);
  return pids.reduce((sum, p) => sum + (procSample(p)?.cpuSeconds ?? 0), 0);
}

const selfCpuS = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

/**
 * Members named as the simulator names them (member-N, not the host tests' mN): names travel in every
 * ping, ack and digest request, so equal lengths keep the byte figures comparable.
 */
class ScaleCluster extends HostCluster {
  override name(i: number): string {
    return `member-${i}`;
  }
}

/**
 * True when every running member answers with every member alive and all answers share one table version.
 * Asked only once the watch streams say so: a starved cluster is not sent N requests a second.
 */
async function oneView(c: HostCluster, expected: number, streams: WatchViews): Promise<boolean> {
  if (!streams.oneView(expected)) return false;
  const views = await Promise.all(c.all().filter((l) => l.running).map((l) => c.members(l).catch(() => null)));
  const versions = new Set<string>();
  for (const v of views) {
    if (v === null) return false;
    if (v.members.length !== expected || v.members.some((m) => m.state !== 'alive')) return false;
    versions.add(v.version);
  }
  return versions.size === 1;
}

async function until(what: string, timeoutS: number, check: () => Promise<boolean> | boolean, everyMs = 500): Promise<boolean> {
  const deadline = Date.now() + timeoutS * 1000;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await sleep(everyMs);
  }
  console.error(`  ! ${what}: not reached in ${timeoutS} s`);
  return false;
}

interface AgentCounters {
  readonly udp: number;
  readonly packets: number;
  readonly rpc: number;
  readonly cpu: number;
}

async function counters(c: HostCluster, lives: readonly Life[]): Promise<AgentCounters[]> {
  return Promise.all(
    lives.map(async (l) => {
      const text = await c.metrics(l);
      return {
        udp: metricValue(text, 'swimring_bytes_sent_total'),
        packets: metricValue(text, 'swimring_packets_sent_total'),
        // Both directions of the digest RPCs a member called: each exchange is counted once, by its caller.
        rpc: metricValue(text, 'swimring_antientropy_bytes_total'),
        cpu: procSample(l.child.pid ?? 0)?.cpuSeconds ?? Number.NaN,
      };
    }),
  );
}

async function idleWindow(c: HostCluster, plan: ScalePlan): Promise<IdleFigures> {
  await sleep(plan.settleS * 1000);
  const lives = c.all().filter((l) => l.running);
  const t0 = Date.now();
  const before = await counters(c, lives);
  await sleep(plan.idleWindowS * 1000);
  const after = await counters(c, lives);
  const windowS = (Date.now() - t0) / 1000;
  const rssMb = lives.map((l) => (procSample(l.child.pid ?? 0)?.rssBytes ?? Number.NaN) / 2 ** 20);
  const cpuPct = after.map((a, i) => ((a.cpu - before[i]!.cpu) / windowS) * 100);
  const perMember = (pick: (x: AgentCounters) => number): number =>
    after.reduce((s, a, i) => s + pick(a) - pick(before[i]!), 0) / lives.length / windowS;
  const sum = (xs: number[]): number => xs.reduce((s, x) => s + x, 0);
  return {
    windowS: Math.round(windowS * 10) / 10,
    udpBytesPerMemberPerS: Math.round(perMember((x) => x.udp)),
    udpPacketsPerMemberPerS: Math.round(perMember((x) => x.packets) * 100) / 100,
    rpcBytesPerMemberPerS: Math.round(perMember((x) => x.rpc) * 10) / 10,
    rssMbSum: Math.round(sum(rssMb)),
    rssMbMedian: Math.round(median(rssMb) * 10) / 10,
    cpuPercentSum: Math.round(sum(cpuPct) * 10) / 10,
    cpuPercentMedian: Math.round(median(cpuPct) * 10) / 10,
  };
}

/** Signals `victim`, then waits until every other running member reported it `state`. */
async function detection(c: HostCluster, plan: ScalePlan, victim: Life, sig: NodeJS.Signals, state: 'dead' | 'left'): Promise<DetectionFigures> {
  const observers = c.all().filter((l) => l.running && l !== victim).map((l) => l.name);
  const at = Date.now();
  victim.signal(sig);
  const seen = (to: string): Map<string, number> => {
    const first = new Map<string, number>();
    for (const e of c.memberEvents(at, (x) => x.name === victim.name && x.to === to && x.observer !== victim.name)) {
      if (!first.has(e.observer)) first.set(e.observer, e.at - at);
    }
    return first;
  };
  await until(`every observer sees ${victim.name} ${state}`, plan.convergeTimeoutS, () => observers.every((o) => seen(state).has(o)));
  const times = [...seen(state).values()];
  const suspects = [...seen('suspect').values()];
  await victim.exited;
  // The agents' lines reach the harness through pipes, after the watch events that told it.
  await sleep(1000);
  // Only the members running at the signal observe it (an earlier victim's lines would be missing).
  const watching = new Set([...observers, victim.name]);
  const fromLogs = detectionTimes(agentLogs(c).filter((l) => watching.has(l.name)), victim.name, at, state);
  const s = (ms: number | null): number | null => (ms === null ? null : seconds(ms));
  return {
    victim: victim.name,
    firstS: times.length ? seconds(Math.min(...times)) : null,
    lastS: times.length === observers.length ? seconds(Math.max(...times)) : null,
    firstSuspectS: suspects.length ? seconds(Math.min(...suspects)) : null,
    observers: observers.length,
    missed: observers.length - times.length,
    log: { firstSuspectS: s(fromLogs.firstSuspectMs), firstS: s(fromLogs.firstMs), lastS: s(fromLogs.lastMs), announcedS: s(fromLogs.announcedMs) },
  };
}

async function lossWindow(c: HostCluster, plan: ScalePlan): Promise<LossFigures> {
  const running = c.all().filter((l) => l.running);
  // Loss on every member's ingress: each packet is lost with the same probability on any link, as the
  // simulator's uniform loss is.
  for (const l of running) await c.lab.lossInbound(l.index, plan.lossPercent);
  const at = Date.now();
  await sleep(plan.lossWindowS * 1000);
  const end = Date.now();
  await c.lab.clearLoss();
  const names = new Set(running.map((l) => l.name));
  const during = (to: string): number => c.memberEvents(at, (e) => e.to === to && names.has(e.name)).filter((e) => e.at <= end).length;
  return { percent: plan.lossPercent, windowS: plan.lossWindowS, falseSuspicions: during('suspect'), falseDeaths: during('dead') };
}

/** Runs every scenario on a fresh cluster; `onCluster` hands the cluster to the caller's cleanup hooks. */
export async function runReal(plan: ScalePlan, shardsLabel: string, onCluster: (c: HostCluster) => void): Promise<RealRun> {
  const c = new ScaleCluster(plan.members, 'lan', undefined, null);
  onCluster(c);
  try {
    await c.create();
    const spawned = Date.now();
    const cpuAt = { bench: selfCpuS(), proxy: hubCpuS(c) };
    const streams = new WatchViews(c);
    const watcher = watchColdStart(c, spawned);
    const converged = await until('one view', plan.convergeTimeoutS, () => oneView(c, plan.members, streams), 1000);
    const viewAt = Date.now();
    const harnessCpuS = { bench: Math.round((selfCpuS() - cpuAt.bench) * 10) / 10, proxy: Math.round((hubCpuS(c) - cpuAt.proxy) * 10) / 10 };
    const coldStart = await watcher.stop();
    console.error(`  cold start evidence: ${JSON.stringify(coldStart.summary)}`);
    const coldStartS = converged ? seconds(viewAt - spawned) : null;
    const serving = streams.firstSeen;
    const lastServing = serving.size === plan.members ? Math.max(...serving.values()) : null;
    const lastServingS = lastServing === null ? null : seconds(lastServing - spawned);
    const servingToViewS = converged && lastServing !== null ? seconds(viewAt - lastServing) : null;
    const times = coldStartTimes(agentLogs(c), viewAt);
    const seedStart = times.startedAt[c.name(0)];
    const coldStartLog: ColdStartLog = {
      lastStartedS: sub(times.lastStarted, spawned),
      membershipS: converged ? sub(times.membershipAt, times.lastStarted) : null,
      tablesS: converged ? sub(times.tableAt === null || times.membershipAt === null ? null : Math.max(times.tableAt, times.membershipAt), times.membershipAt) : null,
      startsMs: seedStart === undefined ? [] : c.all().slice(1).map((l) => (times.startedAt[l.name] ?? Number.NaN) - seedStart),
    };
    console.error(`  cold start: ${coldStartS ?? 'timed out'} s, last member serving at ${lastServingS} s (setup ${JSON.stringify(c.setupTimes)}); from the logs ${JSON.stringify({ ...coldStartLog, startsMs: undefined })}; harness CPU s ${JSON.stringify(harnessCpuS)}`);
    const empty = { members: plan.members, shards: shardsLabel, setupMs: c.setupTimes, coldStartS, lastServingS, servingToViewS, coldStart, coldStartLog, harnessCpuS, idle: null, crash: null, leave: null, loss: null };
    // Timings in a cluster whose members do not all know each other yet would mean nothing.
    if (!converged) return empty;
    const idle = await idleWindow(c, plan);
    console.error(`  idle: ${JSON.stringify(idle)}`);
    const crashes: DetectionFigures[] = [];
    for (let k = 0; k < plan.crashes; k++) {
      crashes.push(await detection(c, plan, c.life(plan.members - 1 - k), 'SIGKILL', 'dead'));
      console.error(`  crash: ${JSON.stringify(crashes.at(-1))}`);
      await sleep(plan.settleS * 1000);
    }
    const leave = await detection(c, plan, c.life(plan.members - 1 - plan.crashes), 'SIGTERM', 'left');
    console.error(`  leave: ${JSON.stringify(leave)}`);
    await sleep(plan.settleS * 1000);
    const loss = await lossWindow(c, plan);
    console.error(`  loss: ${JSON.stringify(loss)}`);
    return { ...empty, idle, crash: crashes[0] ?? null, crashes, leave, loss };
  } catch (err) {
    console.error(`  ! real run failed: ${String(err)}\n${c.dumpLogs(10)}`);
    throw err;
  } finally {
    if (plan.logDir !== undefined) writeLogs(c, plan.logDir);
    c.destroySync();
  }
}

/** Each life's last log lines (the harness keeps 2,000 per process), one file per life. */
function writeLogs(c: HostCluster, dir: string): void {
  mkdirSync(dir, { recursive: true });
  c.lives.forEach((l, i) => writeFileSync(join(dir, `${String(i).padStart(3, '0')}-${l.name}.log`), l.logs.join('\n') + '\n'));
}
