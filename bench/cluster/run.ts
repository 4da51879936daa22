// Issue 9: swimring and HashiCorp Serf side by side, same scenarios, same loopback addresses and ports,
// one system after the other. Needs root (nftables), `serf` on PATH and a built dist/.
// Run: node --import tsx bench/cluster/run.ts [--quick] [--sizes 10,30] [--systems swimring,serf]
//        [--skip-loss] [--only-loss] [--append] [--converge-timeout S] [--out DIR] [--logs DIR] [--render]
// --append adds to an existing DIR/cluster.json (to finish a run cut short) instead of starting afresh.
// --render only rewrites the report from DIR/cluster.json; --logs keeps every agent's raw log there.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { ClusterUnderTest } from './cluster.js';
import { nftAvailable, removeAllTables } from './nft.js';
import { killAllStarted } from './proc.js';
import { renderReport } from './report.js';
import { loadResults, saveResults, type Entry, type ResultsFile } from './results.js';
import { coldStart, crash, idle, leave, loss, setConvergeTimeout } from './scenarios.js';
import { serf, swimring, type SystemDriver } from './systems.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    sizes: { type: 'string' },
    systems: { type: 'string', default: 'swimring,serf' },
    'skip-loss': { type: 'boolean', default: false },
    out: { type: 'string' },
    render: { type: 'boolean', default: false },
    logs: { type: 'string' },
    append: { type: 'boolean', default: false },
    'only-loss': { type: 'boolean', default: false },
    'converge-timeout': { type: 'string', default: '120' },
  },
});

const quick = values.quick;
const outDir = values.out ?? (quick ? '/tmp/swimring-cluster-quick' : join(ROOT, 'bench/results'));
const jsonPath = join(outDir, 'cluster.json');
const logDir = values.logs ?? null;
if (logDir) mkdirSync(logDir, { recursive: true });
const plan = {
  sizes: (values.sizes ?? (quick ? '5' : '10,30')).split(',').map(Number),
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
  let serfVersion = 'not installed';
  try {
    serfVersion = execFileSync('serf', ['version'], { encoding: 'utf8' }).split('\n')[0] ?? '';
  } catch {
    if (drivers.some((d) => d.name === 'serf')) throw new Error('serf not found: `apt-get install -y serf`');
  }
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version?: string };
  return { serfVersion, swimringVersion: pkg.version ?? '?' };
}

const cleanup = (): void => {
  killAllStarted();
  removeAllTables();
};
process.on('SIGINT', () => {
  cleanup();
  process.exit(130);
});
process.on('exit', cleanup);

setConvergeTimeout(Number(values['converge-timeout']) * 1000);
const versions = preflight();
const previous = values.append && existsSync(jsonPath) ? loadResults(jsonPath) : null;
const results: ResultsFile = previous ?? {
  meta: {
    startedAt: new Date().toISOString(),
    finishedAt: null,
    machine: `${cpus().length} cores (${cpus()[0]?.model ?? '?'}), Linux loopback, shared with other work`,
    ...versions,
    quick,
    loadAtStart: loadavg().map((l) => l.toFixed(2)).join(' '),
  },
  entries: [],
};

const sameSlot = (a: Entry, b: Entry): boolean =>
  a.system === b.system && a.n === b.n && a.scenario === b.scenario && (a.scenario !== 'loss' || b.scenario !== 'loss' || a.data.percent === b.data.percent);

/** A re-run of a phase (with --append) replaces that phase's earlier entry rather than sitting beside it. */
function record(entry: Entry): void {
  const earlier = results.entries.findIndex((e) => sameSlot(e, entry));
  if (earlier >= 0) results.entries.splice(earlier, 1);
  results.entries.push(entry);
  saveResults(jsonPath, results);
  renderReport(results, outDir);
}

async function withCluster(driver: SystemDriver, n: number, body: (c: ClusterUnderTest) => Promise<void>): Promise<void> {
  const c = new ClusterUnderTest(driver, n, logDir);
  try {
    await body(c);
  } catch (err) {
    console.error(`  ! ${driver.name} N=${n} failed: ${String(err)}\n${c.dump()}`);
  } finally {
    await c.stopAll();
    removeAllTables();
    await sleep(1000);
  }
}

for (const n of values['only-loss'] ? [] : plan.sizes) {
  for (const driver of drivers) {
    console.error(`== ${driver.name} N=${n} (load ${loadavg()[0]?.toFixed(1)})`);
    await withCluster(driver, n, async (c) => {
      const cold = await coldStart(c);
      console.error(`  cold start: all views complete ${cold.spawnToAllMs} ms after spawn${cold.timedOut ? ' (TIMED OUT)' : ''}`);
      record({ system: driver.name, n, scenario: 'cold-start', data: cold });
      const idleResult = await idle(c, plan.settleS, plan.idleWindowS);
      console.error(`  idle: rss ${idleResult.rssMb.map((x) => x.toFixed(0)).join(',')} MB`);
      record({ system: driver.name, n, scenario: 'idle', data: idleResult });
      if (cold.timedOut) {
        // Crash and leave timings mean nothing in a cluster whose members do not all know each other yet.
        console.error('  skipping crash and leave: the cluster never converged');
        return;
      }
      await crash(c, plan.crashReps, plan.repSettleS, (sofar) => record({ system: driver.name, n, scenario: 'crash', data: sofar }));
      record({ system: driver.name, n, scenario: 'leave', data: await leave(c, plan.leaveReps, plan.repSettleS) });
    });
  }
}

if (!values['skip-loss']) {
  for (const driver of drivers) {
    console.error(`== ${driver.name} N=${plan.lossSize} under loss`);
    await withCluster(driver, plan.lossSize, async (c) => {
      const cold = await coldStart(c);
      if (cold.timedOut) throw new Error('did not converge before the loss scenarios');
      for (const pct of plan.lossPercents) {
        record({ system: driver.name, n: plan.lossSize, scenario: 'loss', data: await loss(c, pct, plan.lossWindowS, plan.settleS) });
      }
    });
  }
}

results.meta.finishedAt = new Date().toISOString();
saveResults(jsonPath, results);
renderReport(results, outDir);
console.error(`wrote ${jsonPath} and the report beside it`);
