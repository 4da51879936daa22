// The scale bench's own logic (bench/scale): the memory check that keeps it from starting on a machine
// that cannot hold N sidecars, and the side-by-side table of real and simulated figures.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { memAvailableBytes, memoryShortfall } from '../../bench/scale/preflight.js';
import { fromLogs } from '../../bench/scale/coldstart.js';
import { compare, renderMarkdown } from '../../bench/scale/report.js';
import type { RealRun } from '../../bench/scale/real.js';
import { runSim } from '../../bench/scale/sim.js';

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

test('compare puts real and simulated figures side by side with their ratio, and the table flags misses', () => {
  const sim = runSim(8, 5, 10, 1);
  const real: RealRun = {
    members: 8,
    shards: '262144',
    setupMs: {},
    coldStartS: 30,
    lastServingS: 25,
    servingToViewS: (sim.crash.convergence_s ?? 1) * 2,
    coldStart: {
      samples: [{ atS: 15, load1: 9.5, answered: 8, cpuS: 12.5, mainThreadCpuS: 7, builds: 24, suspicionsRaised: 3, refutations: 2, suspectEvents: 17, deadEvents: 1, lagMaxMs: 340 }],
      agents: [],
      summary: { 'builds per agent median': 3 },
    },
    idle: { windowS: 60, udpBytesPerMemberPerS: sim.crash.bytes_per_member_per_s ?? 1, udpPacketsPerMemberPerS: 2, rpcBytesPerMemberPerS: 0, rssMbSum: 960, rssMbMedian: 120, cpuPercentSum: 8, cpuPercentMedian: 1 },
    crash: { victim: 'm7', firstS: 1, lastS: sim.crash.detection_all_dead_s, firstSuspectS: 0.5, observers: 7, missed: 0 },
    leave: { victim: 'm6', firstS: 0.1, lastS: 0.4, firstSuspectS: null, observers: 6, missed: 0 },
    loss: { percent: 5, windowS: 10, falseSuspicions: 0, falseDeaths: 0 },
  };
  const rows = compare(real, sim);
  const byName = new Map(rows.map((r) => [r.figure, r]));
  assert.equal(byName.get('cold start: last member serving to one view')?.ratio, 0.5);
  assert.equal(byName.get('cold start: spawn to one view')?.ratio, null);
  assert.equal(byName.get('UDP bytes / member / s')?.ratio, 1);
  assert.equal(byName.get('crash: dead everywhere (last observer)')?.ratio, 1);
  assert.equal(byName.get('leave: left in every view')?.ratio, Math.round(((sim.leave.allLeftS ?? 0) / 0.4) * 100) / 100);
  assert.ok((sim.leave.allLeftS ?? 0) >= sim.leave.drainS, 'the simulated leave waits out the drain as the agent does');
  assert.equal(byName.get('RSS sum')?.compared, false);
  assert.equal(byName.get('RSS sum')?.sim, null);
  const md = renderMarkdown({ meta: { members: 8 }, real, sim, rows });
  assert.match(md, /\| cold start: last member serving to one view \| s \| [\d.]+ \| [\d.]+ \| 0\.5 \| OUTSIDE 20 % \|/);
  assert.match(md, /\| UDP bytes \/ member \/ s \| B\/s \| [\d.]+ \| [\d.]+ \| 1 \| within 20 % \|/);
  assert.match(md, /\| RSS sum \| MB \| 960 \| – \| n\/a \| real only \|/);
  assert.match(md, /## Cold start: what the agents did while the cluster formed\n\n- builds per agent median: 3\n/);
  assert.match(md, /\| 15 \| 9\.5 \| 8 \| 12\.5 \| 7 \| 24 \| 3 \| 2 \| 17 \| 1 \| 340 \|/);
});

test('the simulated half is deterministic: same seed, same reports apart from wall-clock fields', () => {
  const strip = (r: object): string => JSON.stringify(r, (k, v: unknown) => (/^(wall|steady_wall|cpu|steady_cpu)/.test(k) ? undefined : v));
  const a = runSim(6, 5, 5, 7);
  const b = runSim(6, 5, 5, 7);
  assert.equal(strip(a), strip(b));
  assert.equal(a.loss.loss, 0.05);
  assert.equal(a.crash.crash, 1);
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
