// HTTP benchmark: the app API under autocannon, against a no-op route in the same server.
//   node --import tsx bench/http.ts [--duration S] [--rounds N] [--connections 1,32,128] [--no-batch]
//                                   [--batch-duration S] [--json] [--check] [--v8-default] [--no-pin]
// The server runs in a child process pinned to one core, autocannon in this one pinned to the other
// (taskset, unless --no-pin), so neither steals the other's core and the scheduler does not move them
// between runs; the server runs with the agent's node flags (npm start, deploy/Dockerfile). Each GET case
// alternates no-op and route runs and compares them.
// Server CPU per request is reported beside throughput: on a shared machine it is the steadier number.
// A third GET route answers a fixed body as large as a real answer, to tell response size from work.
// The AgentView answers routes with the runtime's own RouteIndex (XXH64 + jump hash, pre-encoded
// per-shard answers) over a buildTable of 10 members at the default shard count.
// The server's lookup and answer writer are the agent's (src/placement/fast-path.ts): the wasm module;
// SWIMRING_WASM=0 in this process's environment (the server inherits it) measures the JS code alone.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import type { PlacementTable } from '../src/placement/index.js';
import type { AgentView, HealthView, MemberView, TableView } from '../src/runtime/view.js';
import { recordsOf } from '../test/runtime/member-records.js';
import { shipped } from './shipped.js';
import { median } from './cluster/stats.js';

// The server runs the built code (./shipped.ts says why).
const { buildAppApi } = await shipped<typeof import('../src/http/index.js')>('http/index.js');
const { fastPathDescription } = await shipped<typeof import('../src/placement/fast-path.js')>('placement/fast-path.js');
const { createMetrics } = await shipped<typeof import('../src/metrics.js')>('metrics.js');
const { buildTable, DEFAULT_REPLICAS, DEFAULT_SHARDS } = await shipped<typeof import('../src/placement/index.js')>('placement/index.js');
const { tuneHeapForAgent } = await shipped<typeof import('../src/runtime/heap-tuning.js')>('runtime/heap-tuning.js');
const { RouteIndex } = await shipped<typeof import('../src/runtime/route-index.js')>('runtime/route-index.js');

const MEMBERS = 10;
const BATCH_KEYS = 10_000;

/** The runtime's own route answers: a RouteIndex (pre-encoded per-shard answers) over a real table. */
function benchView(table: PlacementTable, names: readonly string[]): AgentView {
  const records = recordsOf(names);
  const index = new RouteIndex(table, records);
  const ok: HealthView = { ok: true, reasons: [] };
  const members: MemberView[] = names.map((name, i) => ({
    name,
    state: 'alive',
    incarnation: 1,
    serving: true,
    addresses: { gossip: `10.0.0.${i}:7946`, grpc: `10.0.0.${i}:7947`, app: `10.0.0.${i}:8080` },
    tags: {},
    self: false,
  }));
  return {
    name: names[0] ?? 'm0',
    route: (key) => index.route(key),
    routeMany: (keys) => keys.map((k) => index.route(k)),
    routeEncoder: () => index,
    members: () => ({ version: table.version, members }),
    table: (): TableView => ({ shards: table.shards, replicas: table.replicas, version: table.version, members: names.length, shardsPerMember: {} }),
    subscribe: () => () => {},
    leave: async () => {},
    readiness: () => ok,
    liveness: () => ok,
  };
}

async function serve(): Promise<void> {
  // The agent's heap sizing (src/runtime/heap-tuning.ts), unless asked to compare with V8's defaults.
  if (!process.argv.includes('--v8-default')) tuneHeapForAgent();
  const names = Array.from({ length: MEMBERS }, (_, i) => `member-${i}`);
  const view = benchView(buildTable(names, { shards: DEFAULT_SHARDS, replicas: DEFAULT_REPLICAS }), names);
  const app = buildAppApi(view, { metrics: createMetrics() });
  // The baseline: a route in the same instance (same router, hooks and error handling) doing nothing.
  app.get('/noop/:key', () => ({ ok: true }));
  // A second, informative baseline: no work either, but a body as large as a real answer, which
  // separates the cost of the bigger response from the cost of the lookup and serialization.
  // Sent as a string, as the route sends its answers (src/http/serialize.ts says why).
  const sized = JSON.stringify(view.route('user-0'.padEnd(16, 'x')));
  app.get('/static/:key', (_request, reply) => reply.type('application/json; charset=utf-8').send(sized));
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  process.send?.({ port });
  process.on('message', () => {
    const u = process.cpuUsage();
    process.send?.({ cpuUs: u.user + u.system });
  });
  process.on('disconnect', () => void app.close().then(() => process.exit(0)));
}

interface Run {
  readonly requestsPerSec: number;
  readonly requests: number;
  readonly p99Ms: number;
  readonly errors: number;
  readonly non2xx: number;
  readonly bytesPerSec: number;
  /** CPU the server process spent during the run, microseconds. */
  readonly serverCpuUs: number;
  /** CPU this (client) process spent during the run, microseconds. */
  readonly clientCpuUs: number;
}

/**
 * The machine's CPU time so far (all CPUs, in clock ticks) and the part of it the hypervisor gave to other
 * guests (steal), from /proc/stat; null where there is none. Steal is the noise this bench cannot remove.
 */
function cpuTicks(): { steal: number; total: number } | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
    const fields = line.trim().split(/\s+/).slice(1, 9).map(Number); // user nice system idle iowait irq softirq steal
    if (!line.startsWith('cpu ') || fields.length < 8 || fields.some((f) => !Number.isFinite(f))) return null;
    return { steal: fields[7]!, total: fields.reduce((a, f) => a + f, 0) };
  } catch {
    return null;
  }
}

/** The agent's own node flags (package.json "start", deploy/Dockerfile), so the server is measured as shipped. */
const AGENT_NODE_FLAGS = ['--v8-pool-size=1'];

/**
 * Pins this process (autocannon) to CPU 0 and returns that and the CPU for the server; null leaves both
 * to the scheduler: with --no-pin, on a single CPU, or without taskset (util-linux).
 */
function pinToCores(args: readonly string[]): { server: number; client: number } | null {
  if (args.includes('--no-pin') || availableParallelism() < 2) return null;
  if (spawnSync('taskset', ['-V'], { stdio: 'ignore' }).status !== 0) return null;
  const last = availableParallelism() - 1;
  // -a: every thread of this process (libuv's pool, V8's), not only the main one.
  if (spawnSync('taskset', ['-a', '-p', '-c', '0', String(process.pid)], { stdio: 'ignore' }).status !== 0) return null;
  return { server: last, client: 0 };
}

function startServer(pinnedTo: number | null): Promise<{ child: ChildProcess; port: number }> {
  const serverArgs = [...process.execArgv, ...AGENT_NODE_FLAGS, fileURLToPath(import.meta.url), '--serve', ...(process.argv.includes('--v8-default') ? ['--v8-default'] : [])];
  const [command, args] = pinnedTo === null ? [process.execPath, serverArgs] : ['taskset', ['-c', String(pinnedTo), process.execPath, ...serverArgs]];
  const child = spawn(command, args, { stdio: ['inherit', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('message', (m: { port: number }) => resolve({ child, port: m.port }));
    child.once('exit', (code) => reject(new Error(`bench server exited with ${code}`)));
  });
}

/** The server's CPU time so far (user + system, µs), asked over IPC. */
function serverCpu(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    child.once('message', (m: { cpuUs: number }) => resolve(m.cpuUs));
    child.send('cpu');
  });
}

function ownCpu(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

async function cannon(child: ChildProcess, opts: autocannon.Options): Promise<Run> {
  const server0 = await serverCpu(child);
  const client0 = ownCpu();
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    autocannon(opts, (err, r) => (err ? reject(err) : resolve(r)));
  });
  const clientCpuUs = ownCpu() - client0;
  const serverCpuUs = (await serverCpu(child)) - server0;
  return {
    requestsPerSec: result.requests.average,
    requests: result.requests.total,
    p99Ms: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    bytesPerSec: result.throughput.average,
    serverCpuUs,
    clientCpuUs,
  };
}

function keyPaths(n: number): string[] {
  // 16-byte keys, distinct, URL-safe.
  return Array.from({ length: n }, (_, i) => `/${`user-${i.toString(36)}`.padEnd(16, 'x')}`);
}

function option(args: readonly string[], name: string, fallback: number): number {
  const i = args.indexOf(name);
  const v = i >= 0 ? Number(args[i + 1]) : NaN;
  return Number.isFinite(v) && v > 0 ? v : fallback;
}

const sum = (rs: readonly Run[], f: (r: Run) => number): number => rs.reduce((a, r) => a + f(r), 0);


async function drive(): Promise<void> {
  const args = process.argv.slice(2);
  /** Seconds per side (no-op, route) and connection count, split over `rounds` alternating runs. */
  // 32 rounds of 1 s per side: single rounds' route/no-op ratios spread from ~0.6 to ~1.5 on this shared
  // machine, and the median of 8 or 16 of them moved by ±0.05 between runs minutes apart.
  const duration = option(args, '--duration', 32);
  const rounds = Math.round(option(args, '--rounds', 32));
  const batchDuration = option(args, '--batch-duration', 5);
  const casesArg = args.indexOf('--connections');
  const getConnections = casesArg >= 0 ? (args[casesArg + 1] ?? '').split(',').map(Number).filter((n) => n > 0) : [1, 32, 128];
  const runBatch = !args.includes('--no-batch');
  const loadBefore = loadavg()[0] ?? 0;
  const ticksBefore = cpuTicks();
  const pinned = pinToCores(args);
  const { child, port } = await startServer(pinned?.server ?? null);
  const base = `http://127.0.0.1:${port}`;
  const keys = keyPaths(1024);
  const get = (prefix: string): autocannon.Request[] => keys.map((k) => ({ method: 'GET', path: `${prefix}${k}` }));
  const results: Record<string, unknown> = { members: MEMBERS, shards: DEFAULT_SHARDS, replicas: DEFAULT_REPLICAS, durationS: duration, rounds, pinned };
  const lines: string[] = [];
  let allPass = true;
  try {
    // Warm both paths up (JIT) before measuring.
    for (const prefix of ['/noop', '/v1/route']) await cannon(child, { url: base, connections: 32, duration: 2, requests: get(prefix) });
    for (const connections of getConnections) {
      const runs: Record<'noop' | 'static' | 'route', Run[]> = { noop: [], static: [], route: [] };
      const prefixes = { noop: '/noop', static: '/static', route: '/v1/route' } as const;
      // Short alternating runs, so drift (other tenants of the machine) hits every side alike.
      for (let round = 0; round < rounds; round++) {
        const order = round % 2 === 0 ? (['noop', 'static', 'route'] as const) : (['route', 'static', 'noop'] as const);
        for (const which of order) {
          runs[which].push(await cannon(child, { url: base, connections, duration: duration / rounds, requests: get(prefixes[which]) }));
        }
      }
      const rps = (rs: Run[]): number => sum(rs, (r) => r.requestsPerSec) / rs.length;
      const cpuPerRequest = (rs: Run[]): number => sum(rs, (r) => r.serverCpuUs) / Math.max(1, sum(rs, (r) => r.requests));
      const bad = sum([...runs.noop, ...runs.static, ...runs.route], (r) => r.errors + r.non2xx);
      const noop = rps(runs.noop);
      const sized = rps(runs.static);
      const route = rps(runs.route);
      // Per round, route and no-op ran back to back: the median of those paired ratios is steadier against
      // the machine's drift than the ratio of the averages (bench/placement.ts pairs its rounds the same way).
      const pairs = runs.route.map((r, i) => r.requestsPerSec / Math.max(1, runs.noop[i]!.requestsPerSec));
      const pairedRatio = median(pairs);
      const ratio = pairedRatio;
      const ratioOfMeans = route / noop;
      const cpuRatio = cpuPerRequest(runs.noop) / cpuPerRequest(runs.route);
      const pass = ratio >= 0.9 && bad === 0;
      allPass &&= pass;
      results[`get_c${connections}`] = {
        noopRps: Math.round(noop),
        routeRps: Math.round(route),
        ratio: Number(ratio.toFixed(3)),
        ratioOfMeans: Number(ratioOfMeans.toFixed(3)),
        pairedRatios: pairs.map((p) => Number(p.toFixed(3))),
        staticRps: Math.round(sized),
        ratioToStatic: Number((route / sized).toFixed(3)),
        staticServerCpuUsPerReq: Number(cpuPerRequest(runs.static).toFixed(1)),
        noopServerCpuUsPerReq: Number(cpuPerRequest(runs.noop).toFixed(1)),
        routeServerCpuUsPerReq: Number(cpuPerRequest(runs.route).toFixed(1)),
        cpuRatio: Number(cpuRatio.toFixed(3)),
        errors: bad,
      };
      lines.push(
        `GET /v1/route/:key  c=${String(connections).padStart(3)}  route ${Math.round(route).toString().padStart(6)} req/s  noop ${Math.round(noop).toString().padStart(6)} req/s  ratio ${ratio.toFixed(3)} (median of ${rounds} paired rounds; of the means ${ratioOfMeans.toFixed(3)}) (target >= 0.9) ${pass ? 'PASS' : 'FAIL'}` +
          `  | same-size static body ${Math.round(sized)} req/s (route/static ${(route / sized).toFixed(3)})` +
          `  | server CPU/req route ${cpuPerRequest(runs.route).toFixed(1)} us, static ${cpuPerRequest(runs.static).toFixed(1)} us, noop ${cpuPerRequest(runs.noop).toFixed(1)} us`,
      );
      // The spread behind the median (single rounds range from ~0.6 to ~1.5 here).
      const sorted = [...pairs].sort((a, b) => a - b);
      lines.push(`                    c=${String(connections).padStart(3)}  paired ratios, sorted: ${sorted.map((p) => p.toFixed(2)).join(' ')}`);
    }
    const batches = Array.from({ length: runBatch ? 8 : 0 }, (_, b) =>
      JSON.stringify({ keys: Array.from({ length: BATCH_KEYS }, (_, i) => `batch${b}-key-${i}`.padEnd(16, 'x')) }),
    );
    // Both answer layouts (docs/http.md): full answers, and ?format=compact (members named once).
    const post = (path: string): autocannon.Request[] =>
      batches.map((body) => ({ method: 'POST' as const, path, headers: { 'content-type': 'application/json' }, body }));
    const formats = { full: post('/v1/route'), compact: post('/v1/route?format=compact') };
    if (runBatch) for (const requests of Object.values(formats)) await cannon(child, { url: base, connections: 1, duration: 2, requests });
    for (const connections of runBatch ? [1, 2] : []) {
      for (const [format, requests] of Object.entries(formats)) {
        const run = await cannon(child, { url: base, connections, duration: batchDuration, requests });
        const keysPerSec = run.requestsPerSec * BATCH_KEYS;
        const serverMsPerBatch = run.serverCpuUs / 1000 / Math.max(1, run.requests);
        const clientMsPerBatch = run.clientCpuUs / 1000 / Math.max(1, run.requests);
        const pass = keysPerSec >= 1_000_000 && run.errors === 0 && run.non2xx === 0;
        allPass &&= pass;
        results[`batch_${format}_c${connections}`] = {
          requestsPerSec: Number(run.requestsPerSec.toFixed(1)),
          keysPerSec: Math.round(keysPerSec),
          p99Ms: run.p99Ms,
          responseMBps: Number((run.bytesPerSec / 1e6).toFixed(1)),
          serverCpuMsPerBatch: Number(serverMsPerBatch.toFixed(2)),
          clientCpuMsPerBatch: Number(clientMsPerBatch.toFixed(2)),
          serverKeysPerCpuSecond: Math.round(BATCH_KEYS / (serverMsPerBatch / 1000)),
        };
        lines.push(
          `POST /v1/route x${BATCH_KEYS} ${format.padEnd(7)} c=${connections}  ${run.requestsPerSec.toFixed(1)} req/s = ${Math.round(keysPerSec).toLocaleString('en-US')} keys/s  p99 ${run.p99Ms} ms  (target >= 1,000,000 keys/s) ${pass ? 'PASS' : 'FAIL'}` +
            `  | server CPU ${serverMsPerBatch.toFixed(2)} ms/batch (${Math.round(BATCH_KEYS / (serverMsPerBatch / 1000)).toLocaleString('en-US')} keys per CPU-second), client CPU ${clientMsPerBatch.toFixed(2)} ms/batch, ${(run.bytesPerSec / Math.max(1, run.requestsPerSec) / 1e6).toFixed(2)} MB/answer`,
        );
      }
    }
  } finally {
    child.disconnect();
  }
  const loadAfter = loadavg()[0] ?? 0;
  const ticksAfter = cpuTicks();
  const stealPercent = ticksBefore && ticksAfter ? (100 * (ticksAfter.steal - ticksBefore.steal)) / Math.max(1, ticksAfter.total - ticksBefore.total) : null;
  results['loadavg1'] = [Number(loadBefore.toFixed(2)), Number(loadAfter.toFixed(2))];
  results['stealPercent'] = stealPercent === null ? null : Number(stealPercent.toFixed(1));
  results['pass'] = allPass;
  if (args.includes('--json')) console.log(JSON.stringify(results));
  else {
    const placement = pinned === null ? 'not pinned' : `server on CPU ${pinned.server}, autocannon on CPU ${pinned.client}`;
    console.log(`placement: src/placement buildTable + shardOf (lookup: ${fastPathDescription()}); ${MEMBERS} members, ${DEFAULT_SHARDS} shards, ${DEFAULT_REPLICAS} replicas; ${cpus().length} cores (${placement}), 1-min load ${loadBefore.toFixed(2)} before, ${loadAfter.toFixed(2)} after${stealPercent === null ? '' : `, CPU time stolen by the host ${stealPercent.toFixed(1)}%`}`);
    for (const l of lines) console.log(l);
  }
  if (args.includes('--check') && !allPass) process.exitCode = 1;
}

if (process.argv.includes('--serve')) await serve();
else await drive();
