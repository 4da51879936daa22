// swimring and HashiCorp Serf side by side, same scenarios, same addresses and ports, one system
// after the other: on loopback (127.0.0.10..) and in network namespaces (one per agent, on a bridge).
// Needs root (nftables, namespaces), `serf` on PATH and a built dist/.
// Run: node --import tsx bench/cluster/run.ts [--quick] [--sizes 10,30] [--netns-sizes 10] [--nets loopback,netns]
//        [--systems swimring,serf] [--skip-loss] [--only-loss] [--append] [--converge-timeout S] [--out DIR]
//        [--logs DIR] [--snapshot-at ISO] [--swimring-args="--shards 4096"] [--render]
//        [--only-cold-start [--reps R] [--before DIR] [--cpu-prof-dir DIR]]
// --append adds to an existing DIR/cluster.json (to finish a run cut short) instead of starting afresh.
// --render only rewrites the report from DIR/cluster.json; --logs keeps every agent's raw log there.
// --only-cold-start repeats the cold start alone (coldrun.ts); --before DIR adds the build in DIR/dist beside it.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { hostsSkipReason, removeStaleNamespaces } from '../../test/hosts/netns.js';
import { ClusterUnderTest } from './cluster.js';
import { LoopbackNetwork, NamespaceNetwork, type NetKind, type Network } from './network.js';
import { nftAvailable, removeAllTables } from './nft.js';
import { killAllStarted } from './proc.js';
import { renderReport } from './report.js';
import { loadResults, netOf, saveResults, type Entry, type ResultsFile } from './results.js';
import { coldStart, crash, idle, leave, loss, setConvergeTimeout } from './scenarios.js';
import { DEFAULT_DRAIN, NO_DRAIN, serf, setSwimringExtraArgs, swimring, swimringAt, type SystemDriver } from './systems.js';
import { runColdStarts, type ColdSystem } from './coldrun.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    sizes: { type: 'string' },
    'netns-sizes': { type: 'string' },
    nets: { type: 'string', default: 'loopback,netns' },
    'snapshot-at': { type: 'string' },
    'swimring-args': { type: 'string' },
    systems: { type: 'string', default: 'swimring,serf' },
    'skip-loss': { type: 'boolean', default: false },
    out: { type: 'string' },
    render: { type: 'boolean', default: false },
    logs: { type: 'string' },
    append: { type: 'boolean', default: false },
    'only-loss': { type: 'boolean', default: false },
    'converge-timeout': { type: 'string', default: '120' },
    'only-cold-start': { type: 'boolean', default: false },
    reps: { type: 'string', default: '3' },
    before: { type: 'string' },
    'cpu-prof-dir': { type: 'string' },
  },
});

const quick = values.quick;
const outDir = values.out ?? (quick ? '/tmp/swimring-cluster-quick' : join(ROOT, 'bench/results'));
const jsonPath = join(outDir, 'cluster.json');
const logDir = values.logs ?? null;
if (logDir) mkdirSync(logDir, { recursive: true });
const nets = new Set(values.nets.split(',') as NetKind[]);
const plan = {
  sizes: nets.has('loopback') ? (values.sizes ?? (quick ? '5' : '10,30')).split(',').map(Number) : [],
  netnsSizes: nets.has('netns') ? (values['netns-sizes'] ?? (quick ? '5' : '10')).split(',').map(Number) : [],
  lossSize: quick ? 5 : 10,
  idleWindowS: quick ? 10 : 60,
  settleS: quick ? 2 : 5,
  crashReps: quick ? 2 : 5,
  leaveReps: quick ? 1 : 3,
  lossPercents: [10, 30],
  lossWindowS: quick ? 15 : 120,
  repSettleS: 2,
};
const drivers: SystemDriver[] = values.systems.split(',').map((s) => (s === 'serf' ? serf : swimring));

if (values.render) {
  renderReport(loadResults(jsonPath), outDir);
  console.error(`rendered ${outDir}`);
  process.exit(0);
}

function preflight(): { serfVersion: string; swimringVersion: string } {
  if (!existsSync(join(ROOT, 'dist/main.js'))) throw new Error('dist/main.js missing: run `npm run build` first');
  if (!nftAvailable()) throw new Error('nftables unavailable: needs root and `apt-get install -y nftables`');
  if (nets.has('netns')) {
    const why = hostsSkipReason();
    if (why) throw new Error(`namespaces requested but unavailable: ${why} (use --nets loopback)`);
    removeStaleNamespaces();
  }
  let serfVersion = 'not installed';
  try {
    serfVersion = execFileSync('serf', ['version'], { encoding: 'utf8' }).split('\n')[0] ?? '';
  } catch {
    if (drivers.some((d) => d.name === 'serf')) throw new Error('serf not found: `apt-get install -y serf`');
  }
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version?: string };
  return { serfVersion, swimringVersion: pkg.version ?? '?' };
}

/** The shard count and drain the built agents use when not told otherwise (they may change between runs). */
async function swimringDefaults(): Promise<{ shards: string; drainMs: string }> {
  const mod = (await import(pathToFileURL(join(ROOT, 'dist/config/options.js')).href)) as { OPTIONS?: Record<string, { default?: string }> };
  return { shards: mod.OPTIONS?.['shards']?.default ?? '?', drainMs: mod.OPTIONS?.['drainMs']?.default ?? '?' };
}

/** Namespace networks alive right now, removed on any exit. */
const liveNetworks = new Set<Network>();
const cleanup = (): void => {
  killAllStarted();
  removeAllTables();
  for (const net of liveNetworks) net.destroySync();
  liveNetworks.clear();
};
process.on('SIGINT', () => {
  cleanup();
  process.exit(130);
});
process.on('exit', cleanup);

setConvergeTimeout(Number(values['converge-timeout']) * 1000);
const swimringArgs = (values['swimring-args'] ?? '').split(' ').filter(Boolean);
setSwimringExtraArgs(swimringArgs);
const versions = preflight();
const previous = values.append && existsSync(jsonPath) ? loadResults(jsonPath) : null;
const results: ResultsFile = previous ?? {
  meta: {
    startedAt: new Date().toISOString(),
    finishedAt: null,
    machine: `${cpus().length} cores (${cpus()[0]?.model ?? '?'}), Linux, shared with other work`,
    ...versions,
    quick,
    loadAtStart: loadavg().map((l) => l.toFixed(2)).join(' '),
    ...(values['snapshot-at'] ? { snapshotAt: values['snapshot-at'] } : {}),
    ...(swimringArgs.length ? { swimringArgs: swimringArgs.join(' ') } : {}),
    swimringDefaults: await swimringDefaults(),
  },
  entries: [],
};

const sameSlot = (a: Entry, b: Entry): boolean =>
  a.system === b.system &&
  a.n === b.n &&
  netOf(a) === netOf(b) &&
  a.variant === b.variant &&
  a.scenario === b.scenario &&
  (a.scenario !== 'loss' || b.scenario !== 'loss' || a.data.percent === b.data.percent);

/** A re-run of a phase (with --append) replaces that phase's earlier entry rather than sitting beside it. */
function record(entry: Entry): void {
  const earlier = results.entries.findIndex((e) => sameSlot(e, entry));
  if (earlier >= 0) results.entries.splice(earlier, 1);
  results.entries.push(entry);
  saveResults(jsonPath, results);
  renderReport(results, outDir);
}

async function withCluster(driver: SystemDriver, net: Network, body: (c: ClusterUnderTest) => Promise<void>): Promise<void> {
  const c = new ClusterUnderTest(driver, net, logDir);
  try {
    await body(c);
  } catch (err) {
    console.error(`  ! ${driver.name} ${net.kind} N=${net.size} failed: ${String(err)}\n${c.dump()}`);
  } finally {
    await c.stopAll();
    await net.removeCounters().catch(() => undefined);
    await net.removeLoss().catch(() => undefined);
    await sleep(1000);
  }
}

/** A fresh network per phase: loopback needs nothing; namespaces are built once and shared by both systems. */
async function withNetwork(kind: NetKind, n: number, body: (net: Network) => Promise<void>): Promise<void> {
  const net = kind === 'netns' ? await NamespaceNetwork.create(n) : new LoopbackNetwork(n);
  liveNetworks.add(net);
  try {
    await body(net);
  } finally {
    net.destroySync();
    liveNetworks.delete(net);
  }
}

async function fullPhase(kind: NetKind, n: number): Promise<void> {
  await withNetwork(kind, n, async (net) => {
    for (const driver of drivers) {
      const slot = { system: driver.name, n, net: kind } as const;
      console.error(`== ${driver.name} ${kind} N=${n} (load ${loadavg()[0]?.toFixed(1)})`);
      await withCluster(driver, net, async (c) => {
        const cold = await coldStart(c);
        console.error(`  cold start: all views complete ${cold.spawnToAllMs} ms after spawn${cold.timedOut ? ' (TIMED OUT)' : ''}`);
        record({ ...slot, scenario: 'cold-start', data: cold });
        const idleResult = await idle(c, plan.settleS, plan.idleWindowS);
        console.error(`  idle: rss ${idleResult.rssMb.map((x) => x.toFixed(0)).join(',')} MB`);
        record({ ...slot, scenario: 'idle', data: idleResult });
        if (cold.timedOut) {
          // Crash and leave timings mean nothing in a cluster whose members do not all know each other yet.
          console.error('  skipping crash and leave: the cluster never converged');
          return;
        }
        await crash(c, plan.crashReps, plan.repSettleS, (sofar) => record({ ...slot, scenario: 'crash', data: sofar }));
        if (driver.name === 'swimring') {
          // Like with like: swimring's default leave first drains (--drain-ms, shards move away while it still
          // answers), which Serf has no equivalent of. Measure the default, then the same agents with no drain.
          // Each leaver is restarted with the next variant's setting, so the second pass finds it in place.
          const withDrain = await leave(c, { reps: plan.leaveReps, settleS: plan.repSettleS, restartWith: { drainMs: 0 } });
          record({ ...slot, variant: DEFAULT_DRAIN, scenario: 'leave', data: withDrain });
          const noDrain = await leave(c, { reps: plan.leaveReps, settleS: plan.repSettleS, restartWith: {} });
          record({ ...slot, variant: NO_DRAIN, scenario: 'leave', data: noDrain });
        } else {
          record({ ...slot, scenario: 'leave', data: await leave(c, { reps: plan.leaveReps, settleS: plan.repSettleS }) });
        }
      });
    }
  });
}

async function lossPhase(kind: NetKind, n: number): Promise<void> {
  await withNetwork(kind, n, async (net) => {
    for (const driver of drivers) {
      console.error(`== ${driver.name} ${kind} N=${n} under loss (load ${loadavg()[0]?.toFixed(1)})`);
      await withCluster(driver, net, async (c) => {
        const cold = await coldStart(c);
        if (cold.timedOut) throw new Error('did not converge before the loss scenarios');
        for (const pct of plan.lossPercents) {
          record({ system: driver.name, n, net: kind, scenario: 'loss', data: await loss(c, pct, plan.lossWindowS, plan.settleS) });
        }
      });
    }
  });
}

if (values['only-cold-start']) {
  // Cold starts alone, repeated, loopback only; `--before DIR` adds that checkout's build as a third system.
  const systems: ColdSystem[] = drivers.map((driver) => ({ label: driver.name, driver }));
  if (values.before) systems.splice(1, 0, { label: 'swimring-before', driver: swimringAt(join(values.before, 'dist/main.js')) });
  await runColdStarts(systems, plan.sizes, Number(values.reps), outDir, values['cpu-prof-dir'] ?? null);
  process.exit(0);
}

if (!values['only-loss']) {
  // Order: what this run adds first (namespaces, and loopback N=10 for the cold-start rerun), then the rest.
  const phases: [NetKind, number][] = [
    ...plan.sizes.filter((n) => n <= 10).map((n): [NetKind, number] => ['loopback', n]),
    ...plan.netnsSizes.map((n): [NetKind, number] => ['netns', n]),
    ...plan.sizes.filter((n) => n > 10).map((n): [NetKind, number] => ['loopback', n]),
  ];
  for (const [kind, n] of phases) await fullPhase(kind, n);
}

if (!values['skip-loss']) {
  if (plan.netnsSizes.length) await lossPhase('netns', plan.lossSize);
  if (plan.sizes.length) await lossPhase('loopback', plan.lossSize);
}

results.meta.finishedAt = new Date().toISOString();
results.meta.loadAtEnd = loadavg().map((l) => l.toFixed(2)).join(' ');
saveResults(jsonPath, results);
renderReport(results, outDir);
console.error(`wrote ${jsonPath} and the report beside it`);
