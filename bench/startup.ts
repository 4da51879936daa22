// Start-up cost of one agent alone, bootstrapping a cluster of one: spawn → the app API answers
// (GET /v1/members 200), spawn → /readyz 200, and the resident memory 5 s after spawn (VmRSS, and VmHWM:
// the peak so far, which covers the first table build), and the CPU time the process used until its API
// answered (from /proc: on a loaded machine it moves much less than the wall-clock times do). Each run is a fresh process started exactly as
// the package's bin runs it (`node dist/main.cjs agent`, no environment added), or with --as image as the
// container image runs it (node --v8-pool-size=1, NODE_ENV=production, MALLOC_MMAP_THRESHOLD_=131072).
// The only arguments are the listen addresses, on a per-run loopback address so runs never collide.
// Several entry points (--main a.js,b.js: say a copy of an older build) run alternately, round after
// round, so a change in machine load hits every variant alike; medians per variant at the end.
// --floor adds, in the same rounds, the floor: a bare `node` that answers HTTP (spawn → 200 and its CPU,
// measured like the agent) and `node -e 0` (spawn → exit).
// Every child gets this process's environment without NODE_EXTRA_CA_CERTS (--keep-extra-ca-certs keeps
// it): node reads and parses the certificates it names before any JavaScript runs, a cost of the machine
// the bench runs on that a sidecar's pod does not pay, and which hides what the agent itself costs.
// Run: node --import tsx bench/startup.ts [--runs 15] [--main dist/main.cjs[,other/dist/main.js]] [--as bin|image] [--floor] [--keep-extra-ca-certs] [--json]
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { procSample } from './cluster/procstat.js';
import { loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { median } from './cluster/stats.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '15' },
    main: { type: 'string', default: 'dist/main.cjs' },
    as: { type: 'string', default: 'bin' },
    'rss-at': { type: 'string', default: '5' },
    json: { type: 'boolean', default: false },
    floor: { type: 'boolean', default: false },
    'keep-extra-ca-certs': { type: 'boolean', default: false },
  },
});
/** The children's environment: this one's, without NODE_EXTRA_CA_CERTS unless asked to keep it. */
const CHILD_ENV: NodeJS.ProcessEnv = values['keep-extra-ca-certs']
  ? process.env
  : Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_EXTRA_CA_CERTS'));
const DROPPED_EXTRA_CA_CERTS = !values['keep-extra-ca-certs'] && process.env['NODE_EXTRA_CA_CERTS'] !== undefined;
const RUNS = Number(values.runs);
/** The floor's stand-in for an agent: node's http module answering 200 on every path, nothing else. */
const FLOOR = 'floor';
const FLOOR_SERVER = "const [h,p]=process.argv.slice(-2);require('node:http').createServer((q,s)=>s.end('{}')).listen(+p,h)";
const MAINS = [...values.main.split(','), ...(values.floor ? [FLOOR] : [])];
const RSS_AT_MS = Number(values['rss-at']) * 1000;
const AS_IMAGE = values.as === 'image';
if (!AS_IMAGE && values.as !== 'bin') throw new Error('--as is bin or image');
/** deploy/Dockerfile: ENV lines and the ENTRYPOINT's node flag. */
const IMAGE_ENV: Record<string, string> = { NODE_ENV: 'production', MALLOC_MMAP_THRESHOLD_: '131072' };
const IMAGE_NODE_FLAGS = ['--v8-pool-size=1'];
const GIVE_UP_MS = 30_000;

interface RunResult {
  apiMs: number;
  apiCpuMs: number;
  readyMs: number;
  rssMiB: number;
  peakMiB: number;
}

/** CPU time (user + system) the process has used so far: what a start costs, whatever else runs beside it. */
function cpuMs(pid: number): number {
  const sample = procSample(pid);
  if (sample === null) throw new Error(`agent ${pid} is gone: no CPU time to read`);
  return sample.cpuSeconds * 1000;
}

function statusKb(pid: number, field: string): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
}

async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}

async function oneRun(main: string, run: number): Promise<RunResult> {
  // A loopback address of its own per run (127.0.0.0/8): nothing else listens there.
  const host = `127.0.${100 + (run % 100)}.${10 + (process.pid % 200)}`;
  const args = main === FLOOR
    ? ['-e', FLOOR_SERVER, host, '7948']
    : [
        ...(AS_IMAGE ? IMAGE_NODE_FLAGS : []), main, 'agent',
        '--gossip-addr', `${host}:7946`, '--grpc-addr', `${host}:7947`, '--http-addr', `${host}:7948`,
        '--ops-addr', `${host}:7949`, '--advertise-host', host,
      ];
  const env = AS_IMAGE ? { ...CHILD_ENV, ...IMAGE_ENV } : CHILD_ENV;
  const t0 = performance.now();
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], env });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let gone = false;
  void exited.then(() => { gone = true; });
  try {
    const poll = async (url: string): Promise<number> => {
      while (!(await answers(url))) {
        if (gone) throw new Error(`agent exited before ${url} answered:\n${stderr}`);
        if (performance.now() - t0 > GIVE_UP_MS) throw new Error(`${url} did not answer in ${GIVE_UP_MS} ms`);
        await sleep(2);
      }
      return performance.now() - t0;
    };
    const apiMs = await poll(`http://${host}:7948/v1/members`);
    const apiCpuMs = cpuMs(child.pid!);
    const readyMs = main === FLOOR ? apiMs : await poll(`http://${host}:7949/readyz`);
    const wait = RSS_AT_MS - (performance.now() - t0);
    if (wait > 0) await sleep(wait);
    const rssMiB = statusKb(child.pid!, 'VmRSS') / 1024;
    const peakMiB = statusKb(child.pid!, 'VmHWM') / 1024;
    return { apiMs, apiCpuMs, readyMs, rssMiB, peakMiB };
  } finally {
    child.kill('SIGTERM');
    await Promise.race([exited, sleep(5000)]);
    if (!gone) child.kill('SIGKILL');
    await exited;
  }
}

/** spawn → exit of `node -e 0`. */
async function bareNodeMs(): Promise<number> {
  const t0 = performance.now();
  const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore', env: CHILD_ENV });
  await new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return performance.now() - t0;
}

const results = new Map<string, RunResult[]>(MAINS.map((m) => [m, []]));
const bareNode: number[] = [];
const loadBefore = loadavg();
for (let run = 0; run < RUNS; run++) {
  // Alternate the order too, so no variant always runs right after another one's exit.
  const order = run % 2 === 0 ? MAINS : [...MAINS].reverse();
  for (const main of order) results.get(main)!.push(await oneRun(main, run));
  if (values.floor) bareNode.push(await bareNodeMs());
  if (!values.json) process.stderr.write(`round ${run + 1}/${RUNS}\n`);
}
const loadAfter = loadavg();

const round = (x: number): number => +x.toFixed(1);
const summary = MAINS.map((main) => {
  const rs = results.get(main)!;
  return {
    main,
    as: values.as,
    runs: rs.length,
    apiMs: round(median(rs.map((r) => r.apiMs))),
    apiCpuMs: round(median(rs.map((r) => r.apiCpuMs))),
    readyMs: round(median(rs.map((r) => r.readyMs))),
    rssMiB: round(median(rs.map((r) => r.rssMiB))),
    peakMiB: round(median(rs.map((r) => r.peakMiB))),
  };
});
const load = { before: loadBefore.map(round), after: loadAfter.map(round) };
const bareNodeExitMs = bareNode.length > 0 ? round(median(bareNode)) : null;
if (values.json) {
  console.log(JSON.stringify({ summary, load, bareNodeExitMs, droppedExtraCaCerts: DROPPED_EXTRA_CA_CERTS, date: new Date().toISOString() }, null, 2));
} else {
  console.log(`load average before ${load.before.join(' ')}, after ${load.after.join(' ')}`);
  if (DROPPED_EXTRA_CA_CERTS) console.log('NODE_EXTRA_CA_CERTS is set here: left out of the children\'s environment (--keep-extra-ca-certs keeps it)');
  console.log('median of runs       | spawn→API ms | CPU to API ms | spawn→ready ms | RSS at 5 s MiB | peak MiB | entry');
  for (const s of summary) {
    console.log(`${s.as.padEnd(5)} ${String(s.runs).padStart(3)} runs       | ${String(s.apiMs).padStart(12)} | ${String(s.apiCpuMs).padStart(13)} | ${String(s.readyMs).padStart(14)} | ${String(s.rssMiB).padStart(14)} | ${String(s.peakMiB).padStart(8)} | ${s.main === FLOOR ? 'floor: bare node answering HTTP' : s.main}`);
  }
  if (bareNodeExitMs !== null) console.log(`node -e 0, spawn → exit: median ${bareNodeExitMs} ms`);
}
