// N real sidecars (default 100), one per network namespace on a bridge (the hosts harness),
// default shard count, LAN profile; then the same scenarios through the simulator, side by side.
// Needs root (namespaces, nftables) and a built dist/. Not part of `npm test`.
// Run: npm run bench:scale -- [--members N] [--out DIR] [--seed S] [--sim-only] [--converge-timeout S]
//        [--idle-window S] [--loss-window S] [--loss-percent P] [--crashes K] [--sim-crash-runs K]
//        [--mib-per-agent M] [--max-minutes M]
// Writes DIR/scale-N.json and DIR/scale-N.md (default DIR: bench/results).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_SHARDS } from '../../src/placement/constants.js';
import { CleanupHooks } from '../../test/hosts/cleanup-hooks.js';
import type { HostCluster } from '../../test/hosts/cluster.js';
import { hostsSkipReason, removeStaleNamespaces } from '../../test/hosts/netns.js';
import { memAvailableBytes, memoryShortfall, MAX_MEMBERS } from './preflight.js';
import { runReal, type RealRun, type ScalePlan } from './real.js';
import { compare, renderMarkdown, type ScaleReport } from './report.js';
import { runSim } from './sim.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const { values } = parseArgs({
  options: {
    members: { type: 'string', default: '100' },
    out: { type: 'string', default: join(ROOT, 'bench/results') },
    seed: { type: 'string', default: '1' },
    'sim-only': { type: 'boolean', default: false },
    'converge-timeout': { type: 'string', default: '300' },
    'idle-window': { type: 'string', default: '60' },
    'loss-window': { type: 'string', default: '60' },
    'loss-percent': { type: 'string', default: '5' },
    crashes: { type: 'string', default: '3' },
    'sim-crash-runs': { type: 'string', default: '5' },
    'mib-per-agent': { type: 'string', default: '160' },
    'max-minutes': { type: 'string', default: '30' },
  },
});

const members = Number(values.members);
if (!Number.isInteger(members) || members < 3 || members > MAX_MEMBERS) throw new Error(`--members must be an integer in 3..${MAX_MEMBERS}`);
const plan: ScalePlan = {
  members,
  convergeTimeoutS: Number(values['converge-timeout']),
  settleS: 5,
  crashes: Number(values.crashes),
  idleWindowS: Number(values['idle-window']),
  lossPercent: Number(values['loss-percent']),
  lossWindowS: Number(values['loss-window']),
  logDir: join(values.out, `scale-${members}-logs`),
};
const seed = Number(values.seed);
if (!Number.isInteger(plan.crashes) || plan.crashes < 1 || plan.crashes > members - 3) throw new Error('--crashes must be an integer in 1..members-3');

let cluster: HostCluster | null = null;
const hooks = new CleanupHooks(() => {
  cluster?.destroySync();
  cluster = null;
});

let real: RealRun | null = null;
if (!values['sim-only']) {
  if (!existsSync(join(ROOT, 'dist/main.js'))) throw new Error('dist/main.js missing: run `npm run build` first');
  const why = hostsSkipReason();
  if (why) throw new Error(`the scale bench runs real sidecars in namespaces: ${why} (or use --sim-only)`);
  const short = memoryShortfall(memAvailableBytes(), members, Number(values['mib-per-agent']));
  if (short) throw new Error(short);
  removeStaleNamespaces();
  hooks.install();
  // The whole run is bounded: past the budget the namespaces and processes go, whatever is running.
  const budget = setTimeout(() => {
    console.error(`! over the ${values['max-minutes']} minute budget: cleaning up`);
    process.exit(124);
  }, Number(values['max-minutes']) * 60_000);
  budget.unref();
  console.error(`== ${members} real sidecars (load ${loadavg()[0]?.toFixed(1)})`);
  try {
    real = await runReal(plan, String(DEFAULT_SHARDS), (c) => {
      cluster = c;
    });
  } finally {
    hooks.release();
  }
}

console.error(`== ${members} simulated members, seed ${seed}`);
const startsMs = real?.coldStartLog?.startsMs;
const sim = runSim({
  members,
  lossPercent: plan.lossPercent,
  lossWindowS: plan.lossWindowS,
  idleWindowS: plan.idleWindowS,
  seed,
  crashRuns: Number(values['sim-crash-runs']),
  ...(startsMs !== undefined && startsMs.length === members - 1 && startsMs.every(Number.isFinite) ? { startsMs } : {}),
});

const commit = (): string => {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
  } catch {
    return '?';
  }
};
const report: ScaleReport = {
  meta: {
    date: new Date().toISOString(),
    commit: commit(),
    command: `npm run bench:scale -- ${process.argv.slice(2).join(' ')}`.trim(),
    members,
    profile: 'lan',
    shards: `${DEFAULT_SHARDS} (default)`,
    machine: `${cpus().length} cores (${cpus()[0]?.model ?? '?'})`,
    'load at end': loadavg().map((l) => l.toFixed(2)).join(' '),
    'idle window s': plan.idleWindowS,
    'loss window s': plan.lossWindowS,
    'sim seed': seed,
    'real crashes': plan.crashes,
    'sim crash runs': Number(values['sim-crash-runs']),
  },
  real,
  sim,
  rows: compare(real, sim),
};
mkdirSync(values.out, { recursive: true });
const base = join(values.out, `scale-${members}${values['sim-only'] ? '-sim' : ''}`);
writeFileSync(`${base}.json`, JSON.stringify(report, null, 1) + '\n');
const md = renderMarkdown(report);
writeFileSync(`${base}.md`, md);
process.stdout.write(md);
console.error(`wrote ${base}.json and ${base}.md`);
