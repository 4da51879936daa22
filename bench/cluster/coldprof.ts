// Reads the V8 CPU profiles of a cold start (`run.ts --only-cold-start --cpu-prof-dir P`) for the window this
// benchmark splits the cluster's CPU at: from each agent's member start to every view complete. Frames of the
// bundle are mapped to the sources through its source map (node:module's SourceMap, no dependency). Prints, over
// all agents, time per bucket (table, start-up, gRPC, gossip, ...), the top self and inclusive frames.
//
//   node --import tsx bench/cluster/coldprof.ts P/swimring-n10 OUT/coldstart-logs/swimring-n10-rep0 [dist/bundle] [TOP]
//
// The window: a profile carries no wall time, but its timestamps are the system's monotonic clock (µs), so they
// are put on the wall clock with this process's offset between the two. The member start of a profile is its
// first sample with a frame of src/member or src/shell (the member's code runs from sockets bound on); the
// end is the last first-time "alive" of a (member, observer) pair in the logs before any leave.
// Sample weights are wall time between samples: on a loaded machine they also count time the process waited
// for a core, so read shares, not milliseconds. And the profiler slows the agents: builds that start after
// the window in a plain run can fall inside it here (compare the logs' "ownership table rebuilt" lines).
import { readFileSync, readdirSync } from 'node:fs';
import { SourceMap, type SourceMapPayload } from 'node:module';
import { join } from 'node:path';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
  readonly columnNumber: number;
}
interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}
interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** First match wins, in this order: a sample under a table build is the table's, whatever runs it. */
const BUCKETS: ReadonlyArray<readonly [string, RegExp]> = [
  ['table', /src\/(placement|runtime\/table-)/],
  ['start-up', /src\/(cli|main|config|bin)|avvio|fastify|compileFunction|compileForInternalLoader|node:internal\/modules|bindPort/],
  ['metrics', /prom-client|src\/(metrics|ops-metrics)/],
  ['logging', /pino|sonic-boom/],
  ['anti-entropy', /src\/antientropy/],
  ['grpc', /grpc-js|src\/grpc/],
  ['gossip', /src\/(core|member|shell|transport|security|codec)/],
];

const [profDir, logDir, bundleDir = 'dist/bundle', topArg = '30'] = process.argv.slice(2);
if (!profDir || !logDir) {
  console.error('usage: coldprof.ts PROFILE_DIR LOG_DIR [BUNDLE_DIR] [TOP]');
  process.exit(2);
}
const map = new SourceMap(JSON.parse(readFileSync(join(bundleDir, 'main.cjs.map'), 'utf8')) as SourceMapPayload);

/** When every view was complete (wall ms), from the agents' logs. */
function completeAt(dir: string): number {
  const records: { time: number; msg: string; self?: string; member?: string; to?: string }[] = [];
  for (const f of readdirSync(dir)) {
    for (const line of readFileSync(join(dir, f), 'utf8').split('\n')) {
      const i = line.indexOf('{');
      if (i < 0) continue;
      try {
        records.push(JSON.parse(line.slice(i)) as (typeof records)[number]);
      } catch {
        // not a log record
      }
    }
  }
  const firstLeave = Math.min(...records.filter((r) => r.msg === 'leaving the cluster').map((r) => r.time));
  const seen = new Set<string>();
  let at = 0;
  for (const r of records) {
    if (r.msg !== 'membership change' || r.to !== 'alive' || r.time >= firstLeave) continue;
    const key = `${r.self ?? ''}>${r.member ?? ''}`;
    if (seen.has(key)) continue;
    seen.add(key);
    at = Math.max(at, r.time);
  }
  return at;
}

const names = new Map<string, string>();
function frameName(cf: CallFrame): string {
  const key = `${cf.url}:${cf.lineNumber}:${cf.columnNumber}:${cf.functionName}`;
  let name = names.get(key);
  if (name !== undefined) return name;
  if (cf.url.endsWith('main.cjs')) {
    const e = map.findEntry(cf.lineNumber, cf.columnNumber);
    const src = 'originalSource' in e ? e.originalSource.replace(/^.*?(src\/|node_modules\/)/, '$1') : '?';
    const line = 'originalLine' in e ? e.originalLine + 1 : 0;
    name = `${cf.functionName || '(anon)'} ${src}:${line}`;
  } else {
    name = `${cf.functionName || '(anon)'} ${cf.url.replace(/^.*node_modules\//, 'node_modules/')}${cf.url ? `:${cf.lineNumber + 1}` : ''}`;
  }
  names.set(key, name);
  return name;
}

const end = completeAt(logDir);
// Monotonic µs to wall ms: the same system-wide clock in every process.
const monoToWallMs = Date.now() - Number(process.hrtime.bigint() / 1000n) / 1000;
const self = new Map<string, number>();
const inclusive = new Map<string, number>();
const buckets = new Map<string, number>();
const add = (m: Map<string, number>, k: string, v: number): void => void m.set(k, (m.get(k) ?? 0) + v);
let total = 0;
for (const f of readdirSync(profDir).filter((x) => x.endsWith('.cpuprofile'))) {
  const p = JSON.parse(readFileSync(join(profDir, f), 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const stackOf = (id: number): string[] => {
    const out: string[] = [];
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) out.push(frameName(byId.get(at)!.callFrame));
    return out;
  };
  let t = p.startTime;
  let start = Number.POSITIVE_INFINITY;
  let inWindow = 0;
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i]!;
    const wall = t / 1000 + monoToWallMs;
    const stack = stackOf(p.samples[i]!);
    if (start === Number.POSITIVE_INFINITY && stack.some((s) => /src\/(member|shell)\//.test(s))) start = wall;
    if (wall < start || wall > end || stack[0]!.startsWith('(idle)')) continue;
    const ms = (p.timeDeltas[i + 1] ?? 0) / 1000;
    inWindow += ms;
    add(self, stack[0]!, ms);
    for (const s of new Set(stack)) add(inclusive, s, ms);
    const top = stack[0]!;
    const bucket = top.startsWith('(garbage') ? 'gc' : top.startsWith('(program') ? 'program' : (BUCKETS.find(([, re]) => stack.some((s) => re.test(s)))?.[0] ?? 'other');
    add(buckets, bucket, ms);
  }
  total += inWindow;
  console.log(`${f}: ${Math.round(inWindow)} ms sampled in the window`);
}
const show = (title: string, m: Map<string, number>): void => {
  console.log(`--- ${title}`);
  for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, Number(topArg))) {
    console.log(`${Math.round(v).toString().padStart(7)} ${((100 * v) / total).toFixed(1).padStart(5)} %  ${k}`);
  }
};
show('buckets', buckets);
show('self', self);
show('inclusive', inclusive);
