// What the processes mode of the claims-propagation bench measures besides latency: the CPU the
// sidecars spend (from /proc, so measuring costs the sidecars nothing), the control-plane calls they
// answered (their own /metrics, read once before and once after the claims), and, with --cpu-prof-dir,
// where the CPU of a few sidecars went while the claims flowed (their V8 profiles, cut to that window).
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SidecarProcess } from '../test/integration/harness.js';

/** User + system CPU seconds a process has used so far (Linux /proc), or NaN once it has gone. */
export function cpuSecondsOf(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of the whole line: 12 and 13 after the name and state.
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_S;
  } catch {
    return NaN;
  }
}

/** USER_HZ, the unit of /proc/<pid>/stat times: 100 on every Linux this runs on. */
const CLOCK_TICKS_PER_S = 100;

/** CPU seconds of every node, summed. */
export function cpuSecondsOfAll(nodes: readonly SidecarProcess[]): number {
  let sum = 0;
  for (const n of nodes) sum += cpuSecondsOf(n.child.pid);
  return sum;
}

/**
 * The sum over nodes of each `rpc` label of swimring_grpc_requests_total (calls answered), plus table
 * rebuilds, GC seconds, relay batches by kind and announced records dropped, and how many nodes did not answer (their calls are missing from the sums).
 * With `loopLagsMs`, each node's longest event-loop lag since its previous scrape is pushed there.
 */
export async function callCounts(nodes: readonly SidecarProcess[], loopLagsMs?: number[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const add = (key: string, v: number): void => {
    out.set(key, (out.get(key) ?? 0) + v);
  };
  await Promise.all(
    nodes.map(async (n) => {
      const text = await n.metrics().catch(() => {
        add('(members whose /metrics did not answer)', 1);
        return '';
      });
      for (const line of text.split('\n')) {
        const answered = /^swimring_grpc_requests_total\{[^}]*rpc="([^"]+)"[^}]*\} ([0-9.e+]+)$/.exec(line);
        if (answered?.[1] !== undefined) add(answered[1], Number(answered[2]));
        const rebuilt = /^swimring_table_rebuild_duration_seconds_count(?:\{[^}]*\})? ([0-9.e+]+)$/.exec(line);
        if (rebuilt?.[1] !== undefined) add('(table rebuilds)', Number(rebuilt[1]));
        const gcS = /^nodejs_gc_duration_seconds_sum(?:\{[^}]*\})? ([0-9.e+-]+)$/.exec(line);
        if (gcS?.[1] !== undefined) add('(GC seconds)', Number(gcS[1]));
        // Relay batches, those passed to the group directly (fallback), records forwarded for others.
        const relay = /^swimring_claim_relay_total\{[^}]*kind="([^"]+)"[^}]*\} ([0-9.e+]+)$/.exec(line);
        if (relay?.[1] !== undefined) add(`(relay ${relay[1]})`, Number(relay[2]));
        const dropped = /^swimring_claim_announcements_dropped_total(?:\{[^}]*\})? ([0-9.e+]+)$/.exec(line);
        if (dropped?.[1] !== undefined) add('(announced records dropped)', Number(dropped[1]));
        const lag = /^nodejs_eventloop_lag_max_seconds ([0-9.e+-]+)$/.exec(line);
        if (lag?.[1] !== undefined) loopLagsMs?.push(Number(lag[1]) * 1000);
      }
    }),
  );
  return out;
}

/** after - before, per key, keys that moved only. */
export function countsBetween(before: ReadonlyMap<string, number>, after: ReadonlyMap<string, number>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [k, v] of after) {
    const d = v - (before.get(k) ?? 0);
    if (d !== 0) out.set(k, d);
  }
  return out;
}

interface ProfileNode {
  readonly id: number;
  readonly children?: readonly number[];
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number; readonly columnNumber: number };
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** Monotonic microseconds, the clock V8 stamps its profile samples with. */
export function monotonicUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

/**
 * Self time per function (and per source file) over the V8 CPU profiles in `dir`, counting only the
 * samples taken between `fromUs` and `toUs` (monotonic). The top `top` lines of each, as text.
 */
export function summarizeProfiles(dir: string, fromUs: number, toUs: number, top = 25): string {
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  /** Time with the function anywhere on the stack (src/ functions only): what a task costs with all it calls. */
  const inclusive = new Map<string, number>();
  const where = new Where();
  let total = 0;
  let files = 0;
  for (const name of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))) {
    const profile = JSON.parse(readFileSync(join(dir, name), 'utf8')) as CpuProfile;
    files++;
    const frames = new Map<number, { fn: string; file: string }>();
    const parents = new Map<number, number>();
    for (const node of profile.nodes) {
      frames.set(node.id, where.of(node.callFrame));
      for (const child of node.children ?? []) parents.set(child, node.id);
    }
    let at = profile.startTime;
    for (let i = 0; i < profile.samples.length; i++) {
      const delta = profile.timeDeltas[i] ?? 0;
      at += delta;
      if (at < fromUs || at > toUs) continue;
      const frame = frames.get(profile.samples[i] ?? -1);
      if (frame === undefined) continue;
      const { fn, file } = frame;
      const onStack = new Set<string>();
      for (let id: number | undefined = profile.samples[i]; id !== undefined; id = parents.get(id)) {
        const f = frames.get(id);
        if (f !== undefined && f.file.startsWith('src/')) onStack.add(f.fn);
      }
      // A sample stands for the time until the next one.
      const us = profile.timeDeltas[i + 1] ?? delta;
      byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
      byFile.set(file, (byFile.get(file) ?? 0) + us);
      for (const f of onStack) inclusive.set(f, (inclusive.get(f) ?? 0) + us);
      total += us;
    }
  }
  const lines = [`${files} profiles, ${(total / 1e6).toFixed(2)} s of samples in the window`];
  const table = (title: string, m: Map<string, number>): void => {
    lines.push(title);
    for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) {
      lines.push(`  ${((100 * us) / Math.max(1, total)).toFixed(1).padStart(5)}%  ${(us / 1e3).toFixed(0).padStart(7)} ms  ${k}`);
    }
  };
  table('self time by source file:', byFile);
  table('self time by function:', byFunction);
  table('total time (with callees) by src/ function:', inclusive);
  return lines.join('\n');
}

/** Names a profile frame by its source: the bundle's frames through its source maps (src/ and node_modules/ lines). */
class Where {
  private readonly maps = new Map<string, SourceMap | null>();

  of(frame: ProfileNode['callFrame']): { fn: string; file: string } {
    if (frame.url === '') return { fn: `(${frame.functionName || 'native'})`, file: `(${frame.functionName || 'native'})` };
    const entry = this.mapFor(frame.url)?.findEntry(frame.lineNumber, frame.columnNumber);
    if (entry !== undefined && 'originalSource' in entry) {
      const file = shortUrl(entry.originalSource);
      return { fn: `${frame.functionName || '(anonymous)'} ${file}:${entry.originalLine + 1}`, file };
    }
    const file = shortUrl(frame.url);
    return { fn: `${frame.functionName || '(anonymous)'} ${file}:${frame.lineNumber + 1}`, file };
  }

  private mapFor(url: string): SourceMap | null {
    let map = this.maps.get(url);
    if (map !== undefined) return map;
    map = null;
    try {
      const path = url.startsWith('file://') ? fileURLToPath(url) : url;
      if (existsSync(`${path}.map`)) map = new SourceMap(JSON.parse(readFileSync(`${path}.map`, 'utf8')) as ConstructorParameters<typeof SourceMap>[0]);
    } catch {
      map = null;
    }
    this.maps.set(url, map);
    return map;
  }
}

function shortUrl(url: string): string {
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) return url.slice(nm + 'node_modules/'.length);
  for (const dir of ['/src/', '/dist/']) {
    const at = url.lastIndexOf(dir);
    if (at >= 0) return url.slice(at + 1);
  }
  return url.replace(/^file:\/\//, '').replace(/^(\.\.\/)+/, '');
}
