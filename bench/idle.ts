// Idle cost of a sidecar: 10 real processes on 127.0.0.10-19 with the LAN profile and the default shard
// count; after a settle period, RSS and CPU of each process sampled from /proc over a fixed window, plus
// UDP bytes and packets per second from /metrics, and each process's peak RSS so far (VmHWM: the
// start-up and the table builds while the cluster formed). At the end, what the RSS is made of (median over the
// processes): file-backed pages (the node binary and libraries, shared between processes), the V8 heap
// (from the agents' own nodejs_* metrics), memory outside it (ArrayBuffers: ownership tables), the rest
// of the anonymous memory (malloc: libuv, OpenSSL, gRPC, thread stacks), and the thread count (a live
// table worker shows as an extra thread).
// The agents get the allocator setting the deploy files and `npm start` give them (see MALLOC_ENV);
// --glibc-default leaves it and --v8-pool-size=1 out, to see what a bare `node dist/main.js agent` costs.
// Run: node --import tsx bench/idle.ts [--members 10] [--window 60] [--settle 60] [--shards N] [--glibc-default] [--main DIR/dist/main.js] [--serf]
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { DEFAULT_SHARDS } from '../src/placement/index.js';
import { Cluster, metricValue, waitFor } from '../test/integration/harness.js';
import { AgentProcess } from '../test/support/agent-process.js';
import { median } from './cluster/stats.js';

const { values } = parseArgs({
  options: {
    members: { type: 'string', default: '10' },
    window: { type: 'string', default: '60' },
    // Idle is measured a minute after the start-up burst, not during it: 10 s after the last table
    // build the builder ends its worker and compacts the heap, and V8's memory reducer finishes over
    // the next tens of seconds (bench/README.md compares settle times).
    settle: { type: 'string', default: '60' },
    shards: { type: 'string', default: String(DEFAULT_SHARDS) },
    'glibc-default': { type: 'boolean', default: false },
    // Node flags for the agents (NODE_OPTIONS) instead of the start commands' --v8-pool-size=1, to compare settings.
    'node-options': { type: 'string', default: '' },
    // Another build's dist/main.js (e.g. a checkout of main), to compare two builds one after the other.
    main: { type: 'string' },
    // The same window over HashiCorp Serf agents (`serf` on PATH, LAN profile) instead, for the ratios.
    serf: { type: 'boolean', default: false },
  },
});
const N = Number(values.members);
const WINDOW_S = Number(values.window);
const SETTLE_S = Number(values.settle);
const SHARDS = Number(values.shards);
const CLK_TCK = 100;
/**
 * What deploy/Dockerfile, the Kubernetes manifests and `npm start` set (docs/operations.md, "Memory"):
 * a fixed glibc mmap threshold, so big freed buffers go back to the kernel instead of staying in malloc's
 * arenas (~20 MB per idle sidecar at the default shard count).
 */
const MALLOC_ENV: Record<string, string> = { MALLOC_MMAP_THRESHOLD_: '131072' };
/** What the same start commands pass to node: one V8 background thread (docs/operations.md, "Memory"). */
const START_NODE_OPTIONS = '--v8-pool-size=1';
const AGENT_ENV: Record<string, string> = {
  ...(values['glibc-default'] ? {} : MALLOC_ENV),
  NODE_OPTIONS: values['node-options'] || (values['glibc-default'] ? '' : START_NODE_OPTIONS),
};

interface ProcSample {
  cpuTicks: number;
  rssBytes: number;
  /** VmHWM: the largest RSS since the process started (start-up and every table build included). */
  peakBytes: number;
  anonBytes: number;
  fileBytes: number;
  threads: number;
  /** Proportional set size: file-backed pages shared with the other agents count a share each, not whole. */
  pssBytes: number;
  /** The main thread's context switches so far (voluntary: it slept and woke up): wake-ups, less disturbed by load than CPU time. */
  mainWakeups: number;
}

function procStat(pid: number): ProcSample {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpuTicks = Number(fields[11]) + Number(fields[12]);
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string): number => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) * 1024;
  const mainStatus = readFileSync(`/proc/${pid}/task/${pid}/status`, 'utf8');
  const mainWakeups = Number(/\nvoluntary_ctxt_switches:\s+(\d+)/.exec(mainStatus)?.[1] ?? 0);
  const pssBytes = Number(/\nPss:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0) * 1024;
  return { mainWakeups, pssBytes, cpuTicks, rssBytes: kb('VmRSS'), peakBytes: kb('VmHWM'), anonBytes: kb('RssAnon'), fileBytes: kb('RssFile') + kb('RssShmem'), threads: Number(/Threads:\s+(\d+)/.exec(status)?.[1] ?? 0) };
}


const mb = (bytes: number): number => +(bytes / 1e6).toFixed(1);

/**
 * RSS by mapping from /proc/PID/smaps, in kB: file-backed pages by file name, anonymous mappings by kind
 * (V8 reserves its heap and code space as large anonymous regions; malloc arenas are 64 MB reservations;
 * thread stacks sit next to their guard pages), to see which part of "other anonymous" is what.
 */
function smapsBreakdown(pid: number): Record<string, number> {
  const byName: Record<string, number> = {};
  let name = '';
  let size = 0;
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const header = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \d+\s*(.*)$/.exec(line);
    if (header !== null) {
      size = (parseInt(header[2]!, 16) - parseInt(header[1]!, 16)) / 1024;
      const path = header[3]!;
      name = path === '' ? (size >= 65536 - 1 && size <= 65536 ? 'anon 64MB (malloc arena)' : size <= 8192 + 4 && size >= 8000 ? 'anon ~8MB (thread stack)' : `anon ${size >= 1024 ? 'big' : 'small'}`) : path.replace(/.*\//, '');
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss !== null) byName[name] = (byName[name] ?? 0) + Number(rss[1]);
  }
  return Object.fromEntries(Object.entries(byName).filter(([, kb]) => kb >= 256).sort((a, b) => b[1] - a[1]));
}

/** /proc samples of `pids` over the window: at its start and end, and each one's RSS once a second (medians). */
async function sampleWindow(pids: readonly number[]): Promise<{ before: ProcSample[]; after: ProcSample[]; rssMb: number[]; elapsedS: number }> {
  const before = pids.map(procStat);
  const rssSamples: number[][] = pids.map(() => []);
  const t0 = Date.now();
  while (Date.now() - t0 < WINDOW_S * 1000) {
    pids.forEach((pid, i) => rssSamples[i]!.push(procStat(pid).rssBytes));
    await sleep(1000);
  }
  return { before, after: pids.map(procStat), rssMb: rssSamples.map((s) => median(s) / 1e6), elapsedS: (Date.now() - t0) / 1000 };
}

/** Index of the element closest to the median (the agent whose breakdown stands for the others). */
function medianIndex(values: readonly number[]): number {
  const m = median(values);
  let best = 0;
  values.forEach((v, i) => { if (Math.abs(v - m) < Math.abs(values[best]! - m)) best = i; });
  return best;
}

/** The V8 heap by space (MB committed), from prom-client's nodejs_heap_space_size_total_bytes lines. */
function heapSpaces(metricsText: string): Record<string, number> {
  const spaces: Record<string, number> = {};
  for (const match of metricsText.matchAll(/^nodejs_heap_space_size_total_bytes\{space="([^"]+)"\} (\S+)$/gm)) spaces[match[1]!] = mb(Number(match[2]));
  return spaces;
}

/** Idle RSS and CPU of N Serf agents on 127.0.1.10.. over the same settle and window; every process ended by PID. */
async function serfIdle(): Promise<void> {
  const host = (i: number): string => `127.0.1.${10 + i}`;
  const agents = Array.from({ length: N }, (_, i) =>
    new AgentProcess('serf', ['agent', `-node=serf-${i}`, `-bind=${host(i)}:7946`, `-rpc-addr=${host(i)}:7373`, '-profile=lan', '-log-level=warn', ...(i === 0 ? [] : [`-join=${host(0)}:7946`])], {}, 50),
  );
  try {
    await sleep(SETTLE_S * 1000);
    const { before, after, rssMb, elapsedS } = await sampleWindow(agents.map((a) => a.child.pid!));
    const cpuS = after.map((a, i) => (a.cpuTicks - before[i]!.cpuTicks) / CLK_TCK);
    console.log(JSON.stringify({
      system: 'serf', members: N, settle_s: SETTLE_S, window_s: Math.round(elapsedS),
      rss_mb_median: +median(rssMb).toFixed(1),
      pss_mb_median: mb(median(after.map((a) => a.pssBytes))),
      cpu_pct_median: +median(cpuS.map((c) => (c / elapsedS) * 100)).toFixed(2),
      cpu_s_per_agent_median: +median(cpuS).toFixed(2),
      threads_median: median(after.map((a) => a.threads)),
    }));
  } finally {
    for (const a of agents) a.signal('SIGKILL');
    await Promise.all(agents.map((a) => a.exited));
  }
}

if (values.serf) {
  await serfIdle();
  process.exit(0);
}

const cluster = new Cluster();
try {
  for (let i = 0; i < N; i++) cluster.start(cluster.spec(i, { profile: 'lan', shards: SHARDS, env: AGENT_ENV, ...(values.main === undefined ? {} : { main: values.main }) }));
  await waitFor('all ready', 120_000, async () => {
    const ready = await Promise.all(cluster.nodes.map((n) => n.json('/readyz').then((r) => r.status === 200)));
    return ready.every(Boolean);
  });
  console.error(`${N} sidecars ready (${SHARDS} shards); settling ${SETTLE_S} s, then measuring ${WINDOW_S} s`);
  await sleep(SETTLE_S * 1000);
  const metricsBefore = await Promise.all(cluster.nodes.map((n) => n.metrics()));
  const { before, after, rssMb, elapsedS } = await sampleWindow(cluster.nodes.map((n) => n.child.pid!));
  const metricsAfter = await Promise.all(cluster.nodes.map((n) => n.metrics()));
  const cpuPct = after.map((a, i) => ((a.cpuTicks - before[i]!.cpuTicks) / CLK_TCK / elapsedS) * 100);
  const rate = (name: string): number[] => metricsAfter.map((m, i) => (metricValue(m, name) - metricValue(metricsBefore[i]!, name)) / elapsedS);
  const gauge = (name: string): number[] => metricsAfter.map((m) => metricValue(m, name));
  const bytesOut = rate('swimring_bytes_sent_total');
  const packetsOut = rate('swimring_packets_sent_total');
  const heapTotal = gauge('nodejs_heap_size_total_bytes');
  const heapUsed = gauge('nodejs_heap_size_used_bytes');
  const external = gauge('nodejs_external_memory_bytes');
  const otherAnon = after.map((a, i) => a.anonBytes - heapTotal[i]! - external[i]!);
  const report = {
    main: values.main ?? 'this worktree',
    members: N,
    shards: SHARDS,
    agent_env: AGENT_ENV,
    settle_s: SETTLE_S,
    window_s: Math.round(elapsedS),
    rss_mb_median: +median(rssMb).toFixed(1),
    rss_mb_max: +Math.max(...rssMb).toFixed(1),
    // The same at the window's end counting shared pages (the node binary's) as a share per agent.
    pss_mb_median: mb(median(after.map((a) => a.pssBytes))),
    peak_rss_mb_median: mb(median(after.map((a) => a.peakBytes))),
    peak_rss_mb_max: mb(Math.max(...after.map((a) => a.peakBytes))),
    cpu_pct_median: +median(cpuPct).toFixed(2),
    cpu_pct_max: +Math.max(...cpuPct).toFixed(2),
    cpu_s_per_agent_median: +median(after.map((a, i) => (a.cpuTicks - before[i]!.cpuTicks) / CLK_TCK)).toFixed(2),
    main_thread_wakeups_per_s_median: +median(after.map((a, i) => (a.mainWakeups - before[i]!.mainWakeups) / elapsedS)).toFixed(1),
    udp_bytes_out_per_s_median: +median(bytesOut).toFixed(0),
    udp_packets_out_per_s_median: +median(packetsOut).toFixed(1),
    attribution_mb_median: {
      file_backed: mb(median(after.map((a) => a.fileBytes))),
      anonymous: mb(median(after.map((a) => a.anonBytes))),
      v8_heap_total: mb(median(heapTotal)),
      v8_heap_used: mb(median(heapUsed)),
      external_and_array_buffers: mb(median(external)),
      other_anonymous: mb(median(otherAnon)),
    },
    threads_median: median(after.map((a) => a.threads)),
    // Where the median-RSS agent's pages are (kB, mappings of 256 kB or more), and its V8 heap by space.
    smaps_kb_of_median_agent: smapsBreakdown(cluster.nodes[medianIndex(rssMb)]!.child.pid!),
    heap_space_mb_of_median_agent: heapSpaces(metricsAfter[medianIndex(rssMb)]!),
    // Where the table builds since start ran (the worker's isolate is what lifts the peak).
    table_builds_inline_total: metricsAfter.reduce((s, m) => s + metricValue(m, 'swimring_table_rebuild_duration_seconds_count', 'where="inline"'), 0),
    table_builds_worker_total: metricsAfter.reduce((s, m) => s + metricValue(m, 'swimring_table_rebuild_duration_seconds_count', 'where="worker"'), 0),
    agents_that_used_the_worker: metricsAfter.filter((m) => metricValue(m, 'swimring_table_rebuild_duration_seconds_count', 'where="worker"') > 0).length,
  };
  console.log(JSON.stringify(report));
} finally {
  await cluster.stopAll();
}
