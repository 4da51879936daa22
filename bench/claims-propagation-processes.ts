// Claim -> known by every member, with every member a real sidecar in its own process
// (`node dist/main.js agent` on 127.0.0.160 and up, --profile lan): no member shares an event loop or
// warms up another's code, unlike the in-process mode of bench/claims-propagation.ts.
//
// Per size N: N + 1 sidecars join one cluster; the extra one is the hung peer. Once every member sees
// all N + 1 alive and is ready, the bench follows `GET /v1/watch?claims=all` on each of the N members,
// stops the hung peer with SIGSTOP (its sockets stay open and take connections, nothing answers, until
// SWIM suspects it), and makes claims with `POST /v1/claims` at --rate per second on the members in
// turn for --seconds. A claim's latency runs from sending its POST to the arrival, in this process, of
// the last of the N members' watch events naming its claimant. Then the hung peer is continued and
// every sidecar killed, each by its PID; an interrupt or a failure does the same.
//
// Needs `npm run build` first (it runs dist/main.js) and about 150 MB of memory per sidecar.
// Run: node --import tsx bench/claims-propagation.ts --processes [--sizes 10,50] [--rate 50] [--seconds 20]
//        [--shards 16384] [--settle-s 30] [--start-timeout-s 240]
import { mkdirSync } from 'node:fs';
import { request, type IncomingMessage } from 'node:http';
import { freemem, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Cluster, converged, waitFor, type SidecarProcess } from '../test/integration/harness.js';
import { takeSseEvents } from '../test/support/sse-client.js';
import { deadEverywhere, tablesSettled, type HungPhase } from './claims-propagation-phases.js';
import { callCounts, countsBetween, cpuSecondsOf, cpuSecondsOfAll, monotonicUs, summarizeProfiles } from './claims-propagation-measure.js';

export interface ProcessBenchOptions {
  readonly sizes: readonly number[];
  readonly rate: number;
  readonly seconds: number;
  readonly shards: number;
  /** Longest wait, after the last claim, for every member to know every claim. */
  readonly settleS: number;
  /** Longest wait for the cluster to form and every member to be ready. */
  readonly startTimeoutS: number;
  /** Seconds the formed cluster idles, its CPU measured, before the hung peer stops and claims start. */
  readonly idleS: number;
  /** The sidecars' dist/main.js: this worktree's unless given (to measure another build with this bench). */
  readonly main?: string;
  /** Write V8 CPU profiles of the first `cpuProfMembers` members here and summarize the claims window. */
  readonly cpuProfDir?: string;
  readonly cpuProfMembers: number;
  /**
   * dead: claims start once the stopped peer is dead in every view and the tables have settled again
   * (the queues at steady state, no rebuild in the window); stopped: claims start right after the
   * SIGSTOP (the peer alive, then suspect, then dead, with its rebuilds, within the window).
   */
  readonly hungPhase: HungPhase;
  /** Claims each member makes before the window (not measured), so that owners know which peers relay. */
  readonly warmClaims: number;
}

/** First member's address is 127.0.0.HOST_BASE; the hung peer takes the address after the last member. */
const HOST_BASE = 160;
const MAX_MEMBERS = 255 - HOST_BASE - 1;
const BYTES_PER_SIDECAR = 150 * 1024 * 1024;

interface ClaimSeen {
  readonly sentAt: number;
  /** Members whose watch named the claimant. */
  readonly members: Set<string>;
  doneAt: number | null;
}

/** One member's watch stream, each `claims` change handed over with its arrival time. */
function followClaims(node: SidecarProcess, onOwner: (id: string, owner: string, at: number) => void): Promise<{ close(): void }> {
  return new Promise((resolve, reject) => {
    let buffer = '';
    let res: IncomingMessage | null = null;
    const req = request(`${node.httpBase}/v1/watch?claims=all`, (r) => {
      clearTimeout(noAnswer);
      res = r;
      if (r.statusCode !== 200) reject(new Error(`${node.name}: GET /v1/watch?claims=all answered ${r.statusCode}`));
      r.setEncoding('utf8');
      r.on('data', (chunk: string) => {
        const at = performance.now();
        buffer = takeSseEvents(buffer + chunk, (e) => {
          if (e.event !== 'claims') return;
          const event = JSON.parse(e.data) as { changes: { id: string; owner: string | null }[] };
          for (const c of event.changes) if (c.owner !== null) onOwner(c.id, c.owner, at);
        });
      });
      resolve({ close: () => res?.destroy() });
    });
    const noAnswer = setTimeout(() => {
      req.destroy();
      reject(new Error(`${node.name}: GET /v1/watch?claims=all: no answer in ${WATCH_ANSWER_MS} ms`));
    }, WATCH_ANSWER_MS);
    req.on('error', reject);
    req.end();
  });
}

const WATCH_ANSWER_MS = 10_000;

async function postClaim(node: SidecarProcess, id: string): Promise<void> {
  const res = await fetch(`${node.httpBase}/v1/claims`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ids: [id], ttl_ms: null }),
    signal: AbortSignal.timeout(10_000),
  });
  const body = (await res.json()) as { results?: { status: string }[] };
  if (res.status !== 200 || body.results?.[0]?.status !== 'claimed') throw new Error(`${node.name}: POST /v1/claims ${id}: ${res.status} ${JSON.stringify(body).slice(0, 200)}`);
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/** Rejects as soon as one of `nodes` exits (a sidecar that cannot start ends the wait for the cluster). */
function firstExit(nodes: readonly SidecarProcess[]): Promise<never> {
  const exit = Promise.race(nodes.map((n) => n.exited.then(() => n)));
  return exit.then((n) => {
    throw new Error(`${n.name} exited (${n.exitCode ?? n.exitSignal}) before the cluster formed`);
  });
}

/** Profiled sidecars end with SIGTERM (a leave, then exit: V8 writes the profile); the wait for it is bounded. */
const PROFILED_EXIT_MS = 20_000;

async function runSize(size: number, opts: ProcessBenchOptions, clusters: Set<Cluster>): Promise<void> {
  const cluster = new Cluster(undefined, { hostBase: HOST_BASE, namePrefix: 'c', shards: opts.shards });
  clusters.add(cluster);
  const streams: { close(): void }[] = [];
  let hung: SidecarProcess | null = null;
  const profiled: SidecarProcess[] = [];
  const profileDir = opts.cpuProfDir === undefined ? undefined : `${opts.cpuProfDir}/${size}-${Date.now()}`;
  if (profileDir !== undefined) mkdirSync(profileDir, { recursive: true });
  const spec = (i: number, name?: string): ReturnType<Cluster['spec']> => {
    // Member 0 is the seed; members 1..cpuProfMembers are profiled (never the hung peer).
    const profile = profileDir !== undefined && i >= 1 && i <= opts.cpuProfMembers && i < size;
    return cluster.spec(i, {
      profile: 'lan',
      ...(name === undefined ? {} : { name }),
      ...(opts.main === undefined ? {} : { main: opts.main }),
      ...(profile ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] } : {}),
    });
  };
  try {
    const seed = cluster.start(spec(0));
    await cluster.withLogsOnFailure(() => waitFor('the first member ready', 60_000, async () => (await seed.json('/readyz').catch(() => ({ status: 0 }))).status === 200, 250));
    for (let i = 1; i <= size; i++) {
      const node = cluster.start(spec(i, i === size ? 'hung' : undefined));
      if (profileDir !== undefined && i <= opts.cpuProfMembers && i < size) profiled.push(node);
    }
    const nodes = cluster.nodes;
    hung = nodes[size] ?? null;
    const members = nodes.slice(0, size);
    const startedAt = performance.now();
    await cluster.withLogsOnFailure(() =>
      Promise.race([
        waitFor(`${size + 1} members alive in every view, every member ready`, opts.startTimeoutS * 1000, async () => {
          if (!(await converged(nodes).catch(() => false))) return false;
          for (const n of nodes) if ((await n.json('/readyz')).status !== 200) return false;
          return true;
        }, 1000),
        firstExit(nodes),
      ]),
    );
    console.log(`members ${size} (+1 hung): cluster formed in ${((performance.now() - startedAt) / 1000).toFixed(1)} s${opts.main === undefined ? '' : ` (${opts.main})`}`);
    const settledS = await tablesSettled(nodes, 'after the cluster formed', opts.startTimeoutS * 1000);
    console.log(`  every member's table settled ${settledS.toFixed(1)} s later`);

    const seen = new Map<string, ClaimSeen>();
    const owners = new Map<string, string>();
    for (const m of members) {
      streams.push(
        await followClaims(m, (id, owner, at) => {
          const s = seen.get(id);
          if (s === undefined || owners.get(id) !== owner || s.members.has(m.name)) return;
          s.members.add(m.name);
          if (s.members.size === size && s.doneAt === null) s.doneAt = at;
        }),
      );
    }
    if (hung === null || hung.child.pid === undefined) throw new Error('the hung peer did not start');

    // Idle: what the formed cluster costs with nothing to announce (watch streams open, hung peer running).
    const idleCpuFrom = cpuSecondsOfAll(members);
    const idleFrom = performance.now();
    await sleep(opts.idleS * 1000);
    const idleCpuPerS = (cpuSecondsOfAll(members) - idleCpuFrom) / ((performance.now() - idleFrom) / 1000);

    hung.signal('SIGSTOP');
    if (opts.hungPhase === 'dead') {
      const deadS = await deadEverywhere(members, 'hung', opts.startTimeoutS * 1000);
      const againS = await tablesSettled(members, 'after the hung peer died', opts.startTimeoutS * 1000);
      console.log(`  the stopped peer was dead in every view ${deadS.toFixed(1)} s after SIGSTOP; tables settled ${againS.toFixed(1)} s later; claims start`);
    }
    if (opts.warmClaims > 0) {
      const warmCalls = await callCounts(members);
      // An owner learns which peers relay from their acks: its first claim goes to every peer directly.
      // Each member claims first, so the window measures owners that know their relays.
      const warmIds: string[] = [];
      const warmRefused: string[] = [];
      for (let round = 0; round < opts.warmClaims; round++) {
        for (const m of members) {
          const id = `warm-${size}-${round}-${m.name}`;
          warmIds.push(id);
          owners.set(id, m.name);
          seen.set(id, { sentAt: performance.now(), members: new Set(), doneAt: null });
        }
        await Promise.all(
          members.map((m) =>
            postClaim(m, `warm-${size}-${round}-${m.name}`).catch((err: unknown) => {
              warmRefused.push(err instanceof Error ? err.message : String(err));
            }),
          ),
        );
      }
      const warmBy = performance.now() + opts.settleS * 1000;
      while (performance.now() < warmBy && warmIds.some((id) => seen.get(id)?.doneAt === null)) await sleep(100);
      const lateIds = warmIds.filter((id) => seen.get(id)?.doneAt === null);
      const late = lateIds.length;
      // How far the late ones got: members holding each, and the members missing most of them.
      const reach = lateIds.map((id) => seen.get(id)?.members.size ?? 0).sort((a, b) => a - b);
      const missing = new Map<string, number>();
      for (const id of lateIds) for (const m of members) if (seen.get(id)?.members.has(m.name) !== true) missing.set(m.name, (missing.get(m.name) ?? 0) + 1);
      const mostMissing = [...missing].sort((a, b) => b[1] - a[1]).slice(0, 3).map(([n, c]) => `${n} ${c}`).join(', ');
      const warmTimes = warmIds
        .map((id) => seen.get(id))
        .flatMap((c) => (c === undefined || c.doneAt === null ? [] : [c.doneAt - c.sentAt]))
        .sort((a, b) => a - b);
      for (const id of warmIds) seen.delete(id);
      const relayCounts = [...countsBetween(warmCalls, await callCounts(members))].filter(([k]) => k.startsWith('(relay ') || k.startsWith('(announced'));
      console.log(
        `  warm-up: ${opts.warmClaims} claim(s) per member; ${warmRefused.length} refused${warmRefused.length > 0 ? ` (first: ${warmRefused[0]})` : ''}; known by every member p50 ${percentile(warmTimes, 50).toFixed(1)} ms, p99 ${percentile(warmTimes, 99).toFixed(1)} ms; ${late} of ${warmIds.length} not everywhere within ${opts.settleS} s${late > 0 ? ` (held by ${reach[0]}-${reach[reach.length - 1]} members; missing most: ${mostMissing})` : ''}; ` +
          `${relayCounts.map(([k, v]) => `${k} ${v}`).join(', ') || 'no relay batches'}`,
      );
    }
    const callsBefore = await callCounts(members);
    const total = Math.round(opts.rate * opts.seconds);
    const cpuFrom = cpuSecondsOfAll(members);
    const cpuFromEach = members.map((m) => cpuSecondsOf(m.child.pid));
    const driverCpuFrom = process.cpuUsage();
    const loadFrom = loadavg()[0] ?? NaN;
    const windowFromUs = monotonicUs();
    const start = performance.now();
    const posts: Promise<void>[] = [];
    let failedPosts = 0;
    for (let n = 0; n < total; n++) {
      const wait = start + (n * 1000) / opts.rate - performance.now();
      if (wait > 0) await sleep(wait);
      const id = `cart-${size}-${n}`;
      const claimant = members[n % size];
      if (claimant === undefined) continue;
      owners.set(id, claimant.name);
      seen.set(id, { sentAt: performance.now(), members: new Set(), doneAt: null });
      posts.push(postClaim(claimant, id).catch((err: unknown) => {
        failedPosts++;
        if (failedPosts <= 3) console.error(err instanceof Error ? err.message : String(err));
      }));
    }
    await Promise.all(posts);
    const settleBy = performance.now() + opts.settleS * 1000;
    while (performance.now() < settleBy && [...seen.values()].some((s) => s.doneAt === null)) await sleep(100);
    const claimsS = (performance.now() - start) / 1000;
    const windowToUs = monotonicUs();
    const cpu = cpuSecondsOfAll(members) - cpuFrom;
    // Relays forward for every owner of their group: how unevenly the members' CPU is spread shows it.
    const cpuEach = members.map((m, i) => ({ name: m.name, s: cpuSecondsOf(m.child.pid) - (cpuFromEach[i] ?? NaN) })).sort((a, b) => a.s - b.s);
    const driverCpu = process.cpuUsage(driverCpuFrom);
    const loadTo = loadavg()[0] ?? NaN;
    const lagsMs: number[] = [];
    const calls = countsBetween(callsBefore, await callCounts(members, lagsMs));
    lagsMs.sort((a, b) => a - b);

    const latencies = [...seen.values()].flatMap((s) => (s.doneAt === null ? [] : [s.doneAt - s.sentAt])).sort((a, b) => a - b);
    // A member too busy to answer in time leaves the state unknown rather than failing the run.
    const view = await members[0]?.json<{ members: { name: string; state: string }[] }>('/v1/members').catch(() => undefined);
    const hungState = view?.body.members.find((m) => m.name === 'hung')?.state ?? 'unknown';
    console.log(
      `members ${size} (+1 hung, separate processes), ${total} claims at ${opts.rate}/s: known by every member ` +
        `p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms, ` +
        `max ${(latencies[latencies.length - 1] ?? NaN).toFixed(1)} ms; never everywhere within ${opts.settleS} s ${total - latencies.length}; ` +
        `refused POSTs ${failedPosts}; the hung peer is ${hungState} in ${members[0]?.name ?? '?'}'s view at the end`,
    );
    const netCpu = cpu - idleCpuPerS * claimsS;
    const announced = (calls.get('AnnounceOwnership') ?? 0) + (calls.get('AnnounceExpiry') ?? 0);
    console.log(
      `  CPU of the ${size} members: idle ${idleCpuPerS.toFixed(2)} cores (over ${opts.idleS} s); while claims flowed ${(cpu / claimsS).toFixed(2)} cores ` +
        `(${cpu.toFixed(1)} s over ${claimsS.toFixed(1)} s), above idle ${((1000 * netCpu) / Math.max(1, total)).toFixed(1)} ms per claim, ` +
        `${((1000 * netCpu) / Math.max(1, total) / size).toFixed(2)} ms per claim per member; ` +
        `the bench driver ${((driverCpu.user + driverCpu.system) / 1e6).toFixed(1)} s; load average ${loadFrom.toFixed(1)} -> ${loadTo.toFixed(1)} (machine-wide)`,
    );
    console.log(
      `  calls the members answered meanwhile: ${[...calls].map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}; ` +
        `announcements per claim ${(announced / Math.max(1, total)).toFixed(1)} (a claim has ${size - 1} members besides its claimant to reach)`,
    );
    const busiest = cpuEach.slice(-3).reverse();
    console.log(
      `  CPU per member while claims flowed: median ${(percentile(cpuEach.map((c) => c.s), 50) / claimsS).toFixed(3)} cores, ` +
        `busiest ${busiest.map((c) => `${c.name} ${(c.s / claimsS).toFixed(3)}`).join(', ')}`,
    );
    console.log(
      `  longest event-loop lag of each member over the claims window: median ${percentile(lagsMs, 50).toFixed(0)} ms, ` +
        `worst ${(lagsMs[lagsMs.length - 1] ?? NaN).toFixed(0)} ms (${lagsMs.length} members answered)`,
    );
    if (profileDir !== undefined) {
      // Profiles are written as their process exits: end the profiled members first, each by its PID.
      await Promise.all(profiled.map(async (n) => {
        n.signal('SIGTERM');
        await Promise.race([n.exited, sleep(PROFILED_EXIT_MS)]);
      }));
      console.log(`  V8 profiles of ${profiled.map((n) => n.name).join(', ')} in ${profileDir}, claims window only (monotonic ${windowFromUs}..${windowToUs} us):`);
      console.log(summarizeProfiles(profileDir, windowFromUs, windowToUs).replace(/^/gm, '    '));
    }
  } finally {
    for (const s of streams) s.close();
    hung?.signal('SIGCONT');
    await cluster.stopAll();
    clusters.delete(cluster);
  }
}

export async function runProcessBench(opts: ProcessBenchOptions): Promise<void> {
  for (const size of opts.sizes) {
    if (!Number.isInteger(size) || size < 2 || size > MAX_MEMBERS) throw new RangeError(`--sizes: each 2..${MAX_MEMBERS} (addresses 127.0.0.${HOST_BASE} and up), got ${size}`);
    const need = (size + 1) * BYTES_PER_SIDECAR;
    if (freemem() < need) throw new Error(`${size + 1} sidecars need about ${Math.round(need / 2 ** 20)} MiB free; ${Math.round(freemem() / 2 ** 20)} MiB are`);
  }
  const clusters = new Set<Cluster>();
  // An interrupt, or a size outrunning its bound, ends every sidecar this bench started (by PID,
  // Cluster.stopAll) before exiting.
  const endAll = (code: number): void => {
    for (const c of clusters) for (const n of c.nodes) n.signal('SIGCONT');
    void Promise.all([...clusters].map((c) => c.stopAll())).then(() => process.exit(code));
  };
  const onSignal = (): void => endAll(130);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  // Every wait in runSize is bounded; this bounds their sum, should one of them not be.
  const boundS = 60 + opts.startTimeoutS * (opts.hungPhase === 'dead' ? 4 : 2) + opts.idleS + opts.seconds + 10 + opts.settleS * (opts.warmClaims > 0 ? 2 : 1) + (opts.cpuProfDir === undefined ? 0 : PROFILED_EXIT_MS / 1000) + 60;
  try {
    for (const size of opts.sizes) {
      const watchdog = setTimeout(() => {
        console.error(`members ${size}: not done within ${boundS} s; ending every sidecar`);
        endAll(2);
      }, boundS * 1000);
      try {
        await runSize(size, opts, clusters);
      } finally {
        clearTimeout(watchdog);
      }
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
