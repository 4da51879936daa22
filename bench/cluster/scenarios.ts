// The cluster scenarios (bench/README.md, "Cluster vs Serf"), each run against one ClusterUnderTest. All waits are bounded; a timed-out
// wait is recorded (as `missed` or `timedOut`), never retried silently.
import { setTimeout as sleep } from 'node:timers/promises';
import type { ClusterUnderTest, ObservedEvent } from './cluster.js';
import { procSample, type ProcSample } from './procstat.js';
import type { AgentOptions } from './systems.js';

/** How long the cluster may take to (re)converge; `--converge-timeout` raises it on a starved host. */
let CONVERGE_TIMEOUT_MS = 120_000;
export function setConvergeTimeout(ms: number): void {
  CONVERGE_TIMEOUT_MS = ms;
}
const DETECT_TIMEOUT_MS = 90_000;

export interface ColdStartResult {
  readonly spawnToAllMs: number;
  readonly fromLastUpMs: number;
  readonly perObserverMs: number[];
  readonly timedOut: boolean;
  /** Spawn → the agent's "running" line, per non-seed agent: process start-up under the run's load. */
  readonly spawnToRunningMs?: number[];
  /** When the joiners were spawned (ms since epoch), for reading the agents' own logs against it. */
  readonly spawnedAt?: number;
}

export async function coldStart(c: ClusterUnderTest): Promise<ColdStartResult> {
  c.start(0);
  const seed = c.agent(0);
  const seedUp = await c.waitUntil('seed running', 60_000, () => c.isRunning(0) || !seed.running);
  if (!seedUp || !seed.running) throw new Error(`seed did not start:\n${c.dump()}`);
  const t0 = Date.now();
  for (let i = 1; i < c.n; i++) c.start(i);
  const ok = await c.waitUntil('cold-start convergence', CONVERGE_TIMEOUT_MS, () => c.allViewsComplete());
  const done = c.completionTimes(t0);
  const perObserverMs = c.names.map((name) => done.get(name)).filter((t): t is number => t !== undefined).map((t) => Math.max(0, t - t0));
  const lastUp = Math.max(...c.names.slice(1).map((_, i) => c.upAt(i + 1) ?? t0));
  const all = perObserverMs.length ? Math.max(...perObserverMs) : Number.NaN;
  const spawnToRunningMs = c.names.slice(1).map((_, i) => c.upAt(i + 1)).filter((t): t is number => t !== undefined).map((t) => t - t0);
  return { spawnToAllMs: all, fromLastUpMs: all - (lastUp - t0), perObserverMs, timedOut: !ok, spawnToRunningMs, spawnedAt: t0 };
}

export interface IdleResult {
  readonly windowS: number;
  readonly rssMb: number[];
  readonly cpuPct: number[];
  readonly udpBytesPerS: number[];
  readonly udpPacketsPerS: number[];
  /** Cluster-wide TCP on the systems' own ports, divided by N (see nft.ts for why not per agent on loopback). */
  readonly tcpBytesPerSPerAgent: number;
  readonly tcpPacketsPerSPerAgent: number;
  /** Each agent's own TCP, where the network can tell them apart (namespaces). */
  readonly tcpBytesPerS?: number[];
  readonly tcpPacketsPerS?: number[];
}

export async function idle(c: ClusterUnderTest, settleS: number, windowS: number): Promise<IdleResult> {
  await c.waitUntil('tables settled before idle', CONVERGE_TIMEOUT_MS, () => c.tablesSettled());
  await sleep(settleS * 1000);
  const pids = c.names.map((_, i) => c.agent(i).pid);
  await c.net.installCounters(c.driver.tcpPorts);
  const t0 = Date.now();
  const before = pids.map(procSample);
  const rss: number[][] = pids.map(() => []);
  while (Date.now() - t0 < windowS * 1000) {
    pids.forEach((pid, i) => {
      const s = procSample(pid);
      if (s) rss[i]!.push(s.rssBytes);
    });
    await sleep(1000);
  }
  const after = pids.map(procSample);
  const traffic = await c.net.readCounters();
  const elapsedS = (Date.now() - t0) / 1000;
  await c.net.removeCounters();
  const cpu = (a: ProcSample | null, b: ProcSample | null): number => (a && b ? ((b.cpuSeconds - a.cpuSeconds) / elapsedS) * 100 : Number.NaN);
  const sortedMedian = (xs: number[]): number => {
    const s = [...xs].sort((x, y) => x - y);
    return s.length ? s[s.length >> 1]! : Number.NaN;
  };
  return {
    windowS: elapsedS,
    rssMb: rss.map((s) => sortedMedian(s) / 1e6),
    cpuPct: pids.map((_, i) => cpu(before[i] ?? null, after[i] ?? null)),
    udpBytesPerS: traffic.udpBytes.map((b) => b / elapsedS),
    udpPacketsPerS: traffic.udpPackets.map((p) => p / elapsedS),
    tcpBytesPerSPerAgent: traffic.tcpBytesTotal / elapsedS / c.n,
    tcpPacketsPerSPerAgent: traffic.tcpPacketsTotal / elapsedS / c.n,
    ...(traffic.tcpBytes && traffic.tcpPackets
      ? { tcpBytesPerS: traffic.tcpBytes.map((b) => b / elapsedS), tcpPacketsPerS: traffic.tcpPackets.map((p) => p / elapsedS) }
      : {}),
  };
}

export interface CrashRep {
  readonly victim: string;
  readonly firstSuspicionMs: number | null;
  readonly firstDeadMs: number | null;
  readonly allDeadMs: number | null;
  readonly perObserverDeadMs: number[];
  readonly missed: number;
}

function since(c: ClusterUnderTest, mark: number): ObservedEvent[] {
  return c.events.slice(mark);
}

/** First time each observer put `subject` in `state`, from events after `mark`. */
function firstPerObserver(c: ClusterUnderTest, mark: number, subject: string, state: 'dead' | 'left'): Map<string, number> {
  const out = new Map<string, number>();
  for (const { observer, event } of since(c, mark)) {
    if (event.kind === 'view' && event.subject === subject && event.state === state && !out.has(observer)) out.set(observer, event.at);
  }
  return out;
}

async function restartAndConverge(c: ClusterUnderTest, i: number, options?: AgentOptions): Promise<void> {
  c.start(i, options);
  await c.waitUntil(`${c.names[i]} rejoined everywhere`, CONVERGE_TIMEOUT_MS, () => c.allViewsComplete());
}

/** `onRep` sees the repetitions so far after each one, so a run cut short keeps what it measured. */
export async function crash(c: ClusterUnderTest, reps: number, settleS: number, onRep: (sofar: CrashRep[]) => void = () => {}): Promise<CrashRep[]> {
  const out: CrashRep[] = [];
  for (let r = 0; r < reps; r++) {
    const v = 1 + (r % (c.n - 1));
    const victim = c.names[v]!;
    await c.waitUntil('converged before crash', CONVERGE_TIMEOUT_MS, () => c.allViewsComplete());
    await c.waitUntil('tables settled before crash', CONVERGE_TIMEOUT_MS, () => c.tablesSettled());
    await sleep(settleS * 1000);
    const observers = c.liveNames().filter((n) => n !== victim);
    const mark = c.events.length;
    const killAt = Date.now();
    c.agent(v).signal('SIGKILL');
    await c.waitUntil(`${victim} dead everywhere`, DETECT_TIMEOUT_MS, () => {
      const dead = firstPerObserver(c, mark, victim, 'dead');
      return observers.every((o) => dead.has(o));
    });
    const dead = firstPerObserver(c, mark, victim, 'dead');
    const suspicions = since(c, mark)
      .filter(({ event }) => (event.kind === 'suspicion' || (event.kind === 'view' && event.state === 'suspect')) && 'subject' in event && event.subject === victim)
      .map(({ event }) => event.at);
    const perObserverDeadMs = observers.map((o) => dead.get(o)).filter((t): t is number => t !== undefined).map((t) => t - killAt);
    const missed = observers.length - perObserverDeadMs.length;
    out.push({
      victim,
      firstSuspicionMs: suspicions.length ? Math.min(...suspicions) - killAt : null,
      firstDeadMs: perObserverDeadMs.length ? Math.min(...perObserverDeadMs) : null,
      allDeadMs: missed === 0 && perObserverDeadMs.length ? Math.max(...perObserverDeadMs) : null,
      perObserverDeadMs,
      missed,
    });
    const last = out[out.length - 1]!;
    console.error(`  crash ${r + 1}/${reps} ${victim}: suspicion ${last.firstSuspicionMs} ms, all dead ${last.allDeadMs} ms, missed ${missed}`);
    onRep([...out]);
    await c.agent(v).exited;
    await restartAndConverge(c, v);
  }
  return out;
}

export interface LeaveRep {
  readonly victim: string;
  readonly allLeftMs: number | null;
  readonly perObserverMs: number[];
  readonly missed: number;
  readonly exitMs: number;
  /** Signal → the leaver's own "announcing the leave" log line (swimring: after its drain). */
  readonly announceMs?: number | null;
  /** That announcement → left on every member: the propagation alone. */
  readonly announceToAllLeftMs?: number | null;
}

export interface LeavePlan {
  readonly reps: number;
  readonly settleS: number;
  /** Settings the leaver is restarted with after each rep (so a later variant finds them in place). */
  readonly restartWith?: AgentOptions;
}

/** Victims are agents N-1, N-2, ... in order, so a second call with the same reps reuses the same agents. */
export async function leave(c: ClusterUnderTest, plan: LeavePlan): Promise<LeaveRep[]> {
  const out: LeaveRep[] = [];
  for (let r = 0; r < plan.reps; r++) {
    const v = c.n - 1 - (r % (c.n - 1));
    const victim = c.names[v]!;
    await c.waitUntil('converged before leave', CONVERGE_TIMEOUT_MS, () => c.allViewsComplete());
    await c.waitUntil('tables settled before leave', CONVERGE_TIMEOUT_MS, () => c.tablesSettled());
    await sleep(plan.settleS * 1000);
    const observers = c.liveNames().filter((n) => n !== victim);
    const mark = c.events.length;
    const leaveAt = Date.now();
    const stopped = c.agent(v).stop(c.driver.leaveSignal, 15_000).then(() => Date.now() - leaveAt);
    await c.waitUntil(`${victim} left everywhere`, DETECT_TIMEOUT_MS, () => {
      const left = firstPerObserver(c, mark, victim, 'left');
      return observers.every((o) => left.has(o));
    });
    const left = firstPerObserver(c, mark, victim, 'left');
    const perObserverMs = observers.map((o) => left.get(o)).filter((t): t is number => t !== undefined).map((t) => t - leaveAt);
    const missed = observers.length - perObserverMs.length;
    const exitMs = await stopped;
    const announced = since(c, mark).find(({ observer, event }) => observer === victim && event.kind === 'leaving');
    const announceMs = announced ? announced.event.at - leaveAt : null;
    const allLeftMs = missed === 0 && perObserverMs.length ? Math.max(...perObserverMs) : null;
    const announceToAllLeftMs = allLeftMs !== null && announceMs !== null ? allLeftMs - announceMs : null;
    out.push({ victim, allLeftMs, perObserverMs, missed, exitMs, announceMs, announceToAllLeftMs });
    console.error(`  leave ${r + 1}/${plan.reps} ${victim}: all left ${allLeftMs} ms (announced at ${announceMs} ms), exit ${exitMs} ms, missed ${missed}`);
    await restartAndConverge(c, v, plan.restartWith);
  }
  return out;
}

export interface LossResult {
  readonly percent: number;
  readonly windowS: number;
  /** (observer, member) pairs in which a live member was declared dead. */
  readonly falseDeaths: number;
  /** Distinct live members declared dead by at least one observer. */
  readonly membersFalselyDead: number;
  readonly convergedAfter: boolean;
}

export async function loss(c: ClusterUnderTest, percent: number, windowS: number, settleS: number): Promise<LossResult> {
  await c.waitUntil('converged before loss', CONVERGE_TIMEOUT_MS, () => c.allViewsComplete());
  await c.waitUntil('tables settled before loss', CONVERGE_TIMEOUT_MS, () => c.tablesSettled());
  await sleep(settleS * 1000);
  const mark = c.events.length;
  const t0 = Date.now();
  await c.net.installLoss(c.driver.tcpPorts, percent);
  try {
    await sleep(windowS * 1000);
  } finally {
    await c.net.removeLoss();
  }
  const t1 = Date.now();
  const deaths = since(c, mark).filter(({ event }) => event.kind === 'view' && event.state === 'dead' && event.at >= t0 && event.at <= t1);
  const members = new Set(deaths.map(({ event }) => ('subject' in event ? event.subject : '')));
  const convergedAfter = await c.waitUntil('converged after loss', 60_000, () => c.allViewsComplete());
  const result = { percent, windowS: (t1 - t0) / 1000, falseDeaths: deaths.length, membersFalselyDead: members.size, convergedAfter };
  console.error(`  loss ${percent}%: ${result.falseDeaths} false deaths (${result.membersFalselyDead} members), converged after: ${convergedAfter}`);
  return result;
}
