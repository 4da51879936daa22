// The scale bench's own logic (bench/scale): the memory check that keeps it from starting on a machine
// that cannot hold N sidecars, and the side-by-side table of real and simulated figures.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { memAvailableBytes, memoryShortfall } from '../../bench/scale/preflight.js';
import { fromLogs } from '../../bench/scale/coldstart.js';
import { compare, renderMarkdown } from '../../bench/scale/report.js';
import type { RealRun } from '../../bench/scale/real.js';
import { runSim, simulateLeave } from '../../bench/scale/sim.js';
import { coldStartTimes, detectionTimes, parseLog } from '../../bench/scale/logtimes.js';

test('memAvailableBytes reads MemAvailable from /proc/meminfo text', () => {
  const text = 'MemTotal:       24000000 kB\nMemFree:         1000 kB\nMemAvailable:   20971520 kB\n';
  assert.equal(memAvailableBytes(text), 20971520 * 1024);
  assert.throws(() => memAvailableBytes('MemTotal: 1 kB\n'), /MemAvailable/);
});

test('memoryShortfall refuses when N agents and the headroom do not fit, and allows when they do', () => {
  const gib = 2 ** 30;
  assert.equal(memoryShortfall(20 * gib, 100, 160), null);
  const refusal = memoryShortfall(8 * gib, 100, 160);
  assert.ok(refusal !== null);
  assert.match(refusal, /8192 MiB available, 18048 MiB needed/);
  assert.equal(memoryShortfall(8 * gib, 10, 160), null);
});

const noLog = { firstSuspectS: null, firstS: null, lastS: null, announcedS: null };

test('compare puts real and simulated figures side by side with their ratio, and the table flags misses', () => {
  const sim = runSim({ members: 8, lossPercent: 5, lossWindowS: 10, idleWindowS: 10, seed: 1, crashRuns: 3, startsMs: [400, 500, 500, 600, 700, 800, 900] });
  assert.ok(sim.arrivals?.convergedAfterLastS !== null && sim.arrivals !== null, 'the replayed arrivals converge');
  assert.ok(sim.arrivalsWithCpu !== null && sim.arrivalsWithCpu.convergedAfterLastS !== null, 'and converge with the CPU model');
  const membership = (sim.arrivals?.convergedAfterLastS ?? 1) * 2;
  const dead = sim.detection.allDeadMedianS ?? 1;
  const crash = (lastS: number | null) => ({ victim: 'member-7', firstS: 1, lastS, firstSuspectS: 0.5, observers: 7, missed: 0, log: { firstSuspectS: 0.5, firstS: 1, lastS, announcedS: null } });
  const real: RealRun = {
    members: 8,
    shards: '262144',
    setupMs: {},
    coldStartS: 30,
    lastServingS: 25,
    servingToViewS: 5,
    coldStart: {
      samples: [{ atS: 15, load1: 9.5, answered: 8, cpuS: 12.5, mainThreadCpuS: 7, builds: 24, suspicionsRaised: 3, refutations: 2, suspectEvents: 17, deadEvents: 1, lagMaxMs: 340 }],
      agents: [],
      summary: { 'builds per agent median': 3 },
    },
    coldStartLog: { lastStartedS: 20, membershipS: membership, tablesS: 3, startsMs: [] },
    harnessCpuS: { bench: 1.5, proxy: 0.5 },
    idle: { windowS: 60, udpBytesPerMemberPerS: sim.idle.bytes_per_member_per_s ?? 1, udpPacketsPerMemberPerS: 2, rpcBytesPerMemberPerS: 0, rssMbSum: 960, rssMbMedian: 120, cpuPercentSum: 8, cpuPercentMedian: 1 },
    // The median of the three real crashes is the middle one: the sim's median.
    crash: crash(dead / 2),
    crashes: [crash(dead / 2), crash(dead), crash(dead * 3)],
    leave: { victim: 'member-4', firstS: 2.1, lastS: 2.6, firstSuspectS: null, observers: 4, missed: 0, log: { ...noLog, firstS: 2.05, lastS: 2.5, announcedS: 2 } },
    loss: { percent: 5, windowS: 10, falseSuspicions: 0, falseDeaths: 0 },
  };
  const rows = compare(real, sim);
  const byName = new Map(rows.map((r) => [r.figure, r]));
  assert.equal(byName.get('cold start: last member started to every member alive everywhere')?.ratio, 0.5);
  assert.equal(byName.get('cold start: every view complete to one table version')?.ratio, null);
  assert.equal(byName.get('UDP bytes / member / s')?.ratio, 1);
  assert.equal(byName.get('crash: dead everywhere (median of 3 real, 3 sim)')?.ratio, 1);
  assert.equal(byName.get('leave: signal to the leave announced')?.ratio, 1);
  assert.equal(byName.get('leave: left in every view')?.ratio, Math.round(((sim.leave.allLeftS ?? 0) / 2.5) * 100) / 100);
  assert.ok((sim.leave.allLeftS ?? 0) >= sim.leave.drainS, 'the simulated leave waits out the drain as the agent does');
  assert.equal(byName.get('RSS sum')?.compared, false);
  assert.equal(byName.get('RSS sum')?.sim, null);
  const md = renderMarkdown({ meta: { members: 8 }, real, sim, rows });
  assert.match(md, /\| cold start: last member started to every member alive everywhere \| s \| [\d.]+ \| [\d.]+ \| 0\.5 \| OUTSIDE 20 % \|/);
  assert.match(md, /\| UDP bytes \/ member \/ s \| B\/s \| [\d.]+ \| [\d.]+ \| 1 \| within 20 % \|/);
  assert.match(md, /\| RSS sum \| MB \| 960 \| – \| n\/a \| real only \|/);
  assert.match(md, /## Cold start: what the agents did while the cluster formed\n\n- builds per agent median: 3\n/);
  assert.match(md, /\| 15 \| 9\.5 \| 8 \| 12\.5 \| 7 \| 24 \| 3 \| 2 \| 17 \| 1 \| 340 \|/);
  // One real crash missing an observer's line: no median claimed.
  const partial = compare({ ...real, crashes: [crash(dead), crash(null)] }, sim);
  assert.equal(partial.find((r) => r.figure.startsWith('crash: dead everywhere'))?.real, null);
});

test('the simulated half is deterministic: same seed, same reports apart from wall-clock fields', () => {
  const strip = (r: object): string => JSON.stringify(r, (k, v: unknown) => (/^(wall|steady_wall|cpu|steady_cpu)/.test(k) ? undefined : v));
  const plan = { members: 6, lossPercent: 5, lossWindowS: 5, idleWindowS: 5, seed: 7, crashRuns: 2, startsMs: [100, 200, 300, 400, 500] };
  const a = runSim(plan);
  const b = runSim(plan);
  assert.equal(strip(a), strip(b));
  assert.equal(a.loss.loss, 0.05);
  assert.equal(a.crash.crash, 1);
  assert.equal(a.idle.crash, 0);
  assert.deepEqual(a.detection.seeds, [7, 8]);
});

test('the simulated leave announces after the drain, and the first view holds it left before every view does', () => {
  const leave = simulateLeave(10, 3);
  assert.equal(leave.drainS, 2);
  assert.ok(leave.firstLeftS !== null && leave.allLeftS !== null);
  assert.ok(leave.firstLeftS >= leave.drainS && leave.allLeftS >= leave.firstLeftS, JSON.stringify(leave));
});

test('coldStartTimes and detectionTimes read the phases and the detection from the agents\' lines', () => {
  const line = (time: number, msg: string, extra: Record<string, unknown> = {}): string => JSON.stringify({ level: 30, time, msg, ...extra });
  const logs = [
    { name: 'member-0', entries: parseLog([line(10, 'member started'), line(120, 'membership change', { member: 'member-1', to: 'alive' }), line(150, 'ownership table rebuilt'), line(900, 'membership change', { member: 'member-1', to: 'suspect' }), line(950, 'membership change', { member: 'member-1', to: 'dead' })]) },
    { name: 'member-1', entries: parseLog([line(100, 'member started'), line(110, 'membership change', { member: 'member-0', to: 'alive' }), line(130, 'membership change', { member: 'member-1', to: 'alive' }), line(170, 'ownership table rebuilt'), 'not json', line(800, 'membership change', { member: 'member-1', to: 'left' })]) },
    { name: 'member-2', entries: parseLog([line(105, 'member started'), line(140, 'membership change', { member: 'member-0', to: 'alive' }), line(160, 'ownership table rebuilt'), line(980, 'membership change', { member: 'member-1', to: 'dead' })]) },
  ];
  const cold = coldStartTimes(logs, 500);
  assert.deepEqual(cold, { startedAt: { 'member-0': 10, 'member-1': 100, 'member-2': 105 }, lastStarted: 105, membershipAt: 140, tableAt: 170 });
  assert.deepEqual(detectionTimes(logs, 'member-1', 700, 'dead'), { firstSuspectMs: 200, firstMs: 250, lastMs: 280, announcedMs: 100 });
  // An observer without the line: no last time.
  assert.equal(detectionTimes(logs.slice(0, 2), 'member-2', 700, 'dead').lastMs, null);
});

test('fromLogs counts builds, failed probes, deaths, returns and refutations inside the window only', () => {
  const line = (time: number, msg: string, extra: Record<string, unknown> = {}): string => JSON.stringify({ level: 30, time, msg, ...extra });
  const lives = [
    {
      logs: [
        line(50, 'ownership table rebuilt', { buildMs: 1 }),
        line(100, 'ownership table rebuilt', { buildMs: 40 }),
        line(110, 'membership change', { from: 'alive', to: 'suspect', reason: 'probe-failed' }),
        line(120, 'membership change', { from: 'suspect', to: 'dead', reason: 'suspicion-timeout' }),
        line(130, 'membership change', { from: 'dead', to: 'alive', reason: 'gossip' }),
        'not json',
      ],
    },
    { logs: [line(105, 'ownership table rebuilt', { buildMs: 900 }), line(106, 'ownership table rebuilt', { buildMs: 20 }), line(107, 'refuted an accusation about this member'), line(999, 'ownership table rebuilt', { buildMs: 5 })] },
  ];
  assert.deepEqual(fromLogs(lives, 100, 200), {
    'logs: builds per agent median': 2,
    'logs: builds per agent max': 2,
    'logs: build wall ms median': 40,
    'logs: build wall ms max': 900,
    'logs: suspicions from failed probes': 1,
    'logs: marked dead (per observer)': 1,
    'logs: dead to alive again': 1,
    'logs: refutations': 1,
  });
});
