// Turns cluster.json into cluster.md (the table) and three SVG charts beside it. Anything written by
// hand about the numbers lives in cluster-notes.md in the same folder and is included verbatim.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Entry, ResultsFile } from './results.js';
import type { ColdStartResult, CrashRep, IdleResult, LeaveRep, LossResult } from './scenarios.js';
import { median, minMax } from './stats.js';
import { chartSvg, COLORS, type ChartPanel, type ChartRow } from './svg.js';
import type { SystemName } from './systems.js';

type Pick<S extends Entry['scenario']> = Extract<Entry, { scenario: S }>['data'];

function find<S extends Entry['scenario']>(r: ResultsFile, system: SystemName, n: number, scenario: S): Pick<S>[] {
  return r.entries.filter((e) => e.system === system && e.n === n && e.scenario === scenario).map((e) => e.data as Pick<S>);
}

interface Metric {
  readonly scenario: string;
  readonly unit: string;
  readonly digits: number;
  /** The samples whose median is reported, and the samples whose min-max is the spread. */
  readonly samples: (r: ResultsFile, system: SystemName, n: number) => { value: number[]; spread: number[]; note?: string } | null;
}

const s = (ms: number | null): number => (ms === null ? Number.NaN : ms / 1000);
const finite = (xs: number[]): number[] => xs.filter(Number.isFinite);

function crashMetric(label: string, pick: (rep: CrashRep) => number | null): Metric {
  return {
    scenario: label,
    unit: 's',
    digits: 2,
    samples: (r, sys, n) => {
      const reps = find(r, sys, n, 'crash').flat();
      if (!reps.length) return null;
      const vals = reps.map((rep) => s(pick(rep)));
      const missed = reps.reduce((a, rep) => a + rep.missed, 0);
      return { value: finite(vals), spread: finite(vals), note: `${reps.length} reps${missed ? `, ${missed} observer(s) never saw dead` : ''}` };
    },
  };
}

function idleMetric(label: string, unit: string, digits: number, pick: (d: IdleResult) => number[]): Metric {
  return {
    scenario: label,
    unit,
    digits,
    samples: (r, sys, n) => {
      const d = find(r, sys, n, 'idle')[0];
      if (!d) return null;
      const vals = finite(pick(d));
      const unsettled = find(r, sys, n, 'cold-start')[0]?.timedOut === true;
      return { value: vals, spread: vals, note: `${Math.round(d.windowS)} s window${unsettled ? ', cluster NOT converged' : ''}` };
    },
  };
}

const bytesPerAgent = (d: IdleResult): number[] => d.udpBytesPerS.map((b) => b + d.tcpBytesPerSPerAgent);
const packetsPerAgent = (d: IdleResult): number[] => d.udpPacketsPerS.map((p) => p + d.tcpPacketsPerSPerAgent);

const METRICS: readonly Metric[] = [
  {
    scenario: 'cold-start join: spawn of N-1 agents → every view complete',
    unit: 's',
    digits: 2,
    samples: (r, sys, n) => {
      const d = find(r, sys, n, 'cold-start')[0];
      if (!d) return null;
      return { value: [s(d.spawnToAllMs)], spread: d.perObserverMs.map((ms) => ms / 1000), note: d.timedOut ? 'NOT seen converged within the bench bound (value: when it did converge, by the agents\' clocks, if it did)' : 'spread: first..last member complete' };
    },
  },
  {
    scenario: 'cold-start join: last agent up → every view complete',
    unit: 's',
    digits: 2,
    samples: (r, sys, n) => {
      const d: ColdStartResult | undefined = find(r, sys, n, 'cold-start')[0];
      return d ? { value: [s(d.fromLastUpMs)], spread: [] } : null;
    },
  },
  crashMetric('crash (kill -9): first suspicion', (rep) => rep.firstSuspicionMs),
  crashMetric('crash (kill -9): first member marks dead', (rep) => rep.firstDeadMs),
  crashMetric('crash (kill -9): dead on every member', (rep) => rep.allDeadMs),
  {
    scenario: 'graceful leave: left on every member',
    unit: 's',
    digits: 2,
    samples: (r, sys, n) => {
      const reps: LeaveRep[] = find(r, sys, n, 'leave').flat();
      if (!reps.length) return null;
      const vals = finite(reps.map((rep) => s(rep.allLeftMs)));
      return { value: vals, spread: vals, note: `${reps.length} reps` };
    },
  },
  idleMetric('idle RSS per agent', 'MB', 1, (d) => d.rssMb),
  idleMetric('idle CPU per agent', '% of a core', 2, (d) => d.cpuPct),
  idleMetric('bytes sent per agent per second (UDP + TCP share)', 'B/s', 0, bytesPerAgent),
  idleMetric('packets sent per agent per second (UDP + TCP share)', 'pkt/s', 1, packetsPerAgent),
  idleMetric('  of which UDP gossip bytes per agent per second', 'B/s', 0, (d) => d.udpBytesPerS),
];

function lossMetric(percent: number): Metric {
  return {
    scenario: `false deaths under ${percent}% loss ((observer, member) pairs)`,
    unit: 'count',
    digits: 0,
    samples: (r, sys, n) => {
      const d: LossResult | undefined = find(r, sys, n, 'loss').find((x) => x.percent === percent);
      return d ? { value: [d.falseDeaths], spread: [], note: `${Math.round(d.windowS)} s; ${d.membersFalselyDead} distinct member(s)${d.convergedAfter ? '' : '; not reconverged 60 s after'}` } : null;
    },
  };
}

function fmt(v: number, digits: number): string {
  return Number.isFinite(v) ? v.toFixed(digits) : 'n/a';
}

function withUnit(v: number, digits: number, unit: string): string {
  return Number.isFinite(v) && unit !== 'count' ? `${fmt(v, digits)} ${unit}` : fmt(v, digits);
}

function spreadText(xs: number[], digits: number): string {
  if (xs.length < 2) return '';
  const [lo, hi] = minMax(xs);
  return `${fmt(lo, digits)}–${fmt(hi, digits)}`;
}

function tableRows(r: ResultsFile): string[] {
  const sizes = [...new Set(r.entries.filter((e) => e.scenario !== 'loss').map((e) => e.n))].sort((a, b) => a - b);
  const lossSizes = [...new Set(r.entries.filter((e) => e.scenario === 'loss').map((e) => e.n))];
  const lossPercents = [...new Set(r.entries.flatMap((e) => (e.scenario === 'loss' ? [e.data.percent] : [])))].sort((a, b) => a - b);
  const rows: string[] = [];
  const emit = (m: Metric, n: number): void => {
    const sw = m.samples(r, 'swimring', n);
    const sf = m.samples(r, 'serf', n);
    if (!sw && !sf) return;
    const swMed = sw ? median(sw.value) : Number.NaN;
    const sfMed = sf ? median(sf.value) : Number.NaN;
    const ratio = Number.isFinite(swMed) && Number.isFinite(sfMed) && sfMed !== 0 ? `${(swMed / sfMed).toFixed(2)}×` : '—';
    const spread = [sw && spreadText(sw.spread, m.digits), sf && spreadText(sf.spread, m.digits)];
    const notes = [sw?.note && `swimring: ${sw.note}`, sf?.note && `Serf: ${sf.note}`].filter(Boolean).join('; ');
    rows.push(
      `| ${m.scenario.trim()} | ${n} | ${withUnit(swMed, m.digits, m.unit)} | ${withUnit(sfMed, m.digits, m.unit)} | ${ratio} | ${spread[0] || '—'} ; ${spread[1] || '—'} | ${notes} |`,
    );
  };
  for (const n of sizes) for (const m of METRICS) emit(m, n);
  for (const n of lossSizes) for (const p of lossPercents) emit(lossMetric(p), n);
  return rows;
}

function rowsFor(r: ResultsFile, label: string, pick: (system: SystemName, n: number) => number[]): ChartRow[] {
  const sizes = [...new Set(r.entries.map((e) => e.n))].sort((a, b) => a - b);
  const out: ChartRow[] = [];
  for (const n of sizes) {
    for (const sys of ['swimring', 'serf'] as const) {
      const values = pick(sys, n);
      if (values.length) out.push({ label: `${sys === 'serf' ? 'Serf' : 'swimring'} N=${n} ${label}`.trim(), values, color: COLORS[sys] });
    }
  }
  return out;
}

function charts(r: ResultsFile, outDir: string, subtitle: string): void {
  const crashPanels: ChartPanel[] = [
    {
      title: 'Time to dead, every (crash, observer) pair',
      unit: 'seconds after kill -9',
      rows: rowsFor(r, '', (sys, n) => find(r, sys, n, 'crash').flat().flatMap((rep) => rep.perObserverDeadMs.map((ms) => ms / 1000))),
    },
    {
      title: 'Time to first suspicion, per crash',
      unit: 'seconds after kill -9',
      rows: rowsFor(r, '', (sys, n) => finite(find(r, sys, n, 'crash').flat().map((rep) => s(rep.firstSuspicionMs)))),
    },
  ];
  writeFileSync(join(outDir, 'cluster-crash.svg'), chartSvg('Crash detection: swimring vs Serf (LAN profile, loopback)', subtitle, crashPanels));
  const idleOf = (sys: SystemName, n: number): IdleResult | undefined => find(r, sys, n, 'idle')[0];
  writeFileSync(
    join(outDir, 'cluster-idle.svg'),
    chartSvg('Idle cost per agent: swimring vs Serf', subtitle, [
      { title: 'RSS per agent (median over the window)', unit: 'MB', rows: rowsFor(r, '', (sys, n) => finite(idleOf(sys, n)?.rssMb ?? [])) },
      { title: 'CPU per agent', unit: '% of one core', rows: rowsFor(r, '', (sys, n) => finite(idleOf(sys, n)?.cpuPct ?? [])) },
    ]),
  );
  writeFileSync(
    join(outDir, 'cluster-bandwidth.svg'),
    chartSvg('Idle network cost per agent: swimring vs Serf', subtitle, [
      { title: 'Bytes sent per agent per second (UDP + share of TCP)', unit: 'bytes/s', rows: rowsFor(r, '', (sys, n) => { const d = idleOf(sys, n); return d ? bytesPerAgent(d) : []; }) },
      { title: 'Packets sent per agent per second (UDP + share of TCP)', unit: 'packets/s', rows: rowsFor(r, '', (sys, n) => { const d = idleOf(sys, n); return d ? packetsPerAgent(d) : []; }) },
    ]),
  );
}

export function renderReport(r: ResultsFile, outDir: string): void {
  const m = r.meta;
  const date = m.startedAt.slice(0, 10);
  const subtitle = `${date}, ${m.machine}; swimring ${m.swimringVersion}, serf ${m.serfVersion}`;
  charts(r, outDir, subtitle);
  const notesPath = join(outDir, 'cluster-notes.md');
  const notes = existsSync(notesPath) ? readFileSync(notesPath, 'utf8') : '';
  const lines = [
    '# swimring vs HashiCorp Serf: cluster scenarios (issue 9)',
    '',
    `- Run: ${m.startedAt} → ${m.finishedAt ?? '(unfinished: partial results)'}${m.quick ? ' — QUICK mode (short windows, not the reference run)' : ''}`,
    `- Machine: ${m.machine}. Load average at start: ${m.loadAtStart}.`,
    '- **Caveat: load from other work.** Other engineers\' builds, tests and benchmarks ran on the same two cores during this run, so absolute',
    '  times and CPU figures carry that noise; both systems were measured in the same run, one after the other, under the same kind of load.',
    `- Versions: swimring ${m.swimringVersion} (dist/), serf ${m.serfVersion} (Debian package, on memberlist).`,
    '- Both systems use the LAN timing profile (probe 1 s, probe timeout 500 ms, 3 indirect probes, suspicion multiplier 4, gossip 200 ms',
    '  to 3 members, push-pull 30 s), the same addresses (127.0.0.10..) and gossip port 7946. Reproduce: `node --import tsx bench/cluster/run.ts`.',
    '',
    '![Crash detection](cluster-crash.svg)',
    '',
    '| scenario | N | swimring median | Serf median | ratio (swimring / Serf) | spread min–max (swimring ; Serf) | samples |',
    '|---|---|---|---|---|---|---|',
    ...tableRows(r),
    '',
    'Ratio above 1 means swimring takes longer / uses more. Charts: [crash detection](cluster-crash.svg),',
    '[RSS and CPU per agent](cluster-idle.svg), [bandwidth](cluster-bandwidth.svg). Raw samples: [cluster.json](cluster.json).',
    '',
    '![RSS and CPU per agent](cluster-idle.svg)',
    '',
    '![Bandwidth per agent](cluster-bandwidth.svg)',
    '',
    '## How each number is measured',
    '',
    '- Membership news is read from each agent\'s own log: swimring\'s `membership change` records (with their own millisecond',
    '  timestamps); Serf\'s `EventMemberJoin/Failed/Leave` lines and memberlist\'s `Suspect X has failed` line, stamped on arrival at the',
    '  bench (Serf\'s log has one-second timestamps). Nothing polls the agents during a measurement.',
    '- Cold start: the seed (agent 0) is started and up first; then the other N-1 agents are spawned at once. "Every view complete" is',
    '  when every agent holds every other as alive. "Last agent up" starts the clock when the slowest agent reports it is running',
    '  (swimring: `swimring is running`; Serf: `Serf agent running!`), which takes out process start-up time.',
    '- Crash: kill -9 of a non-seed agent; "first suspicion" is the earliest suspicion of it anywhere (Serf logs only the prober\'s',
    '  own suspicion, swimring every member\'s, so the earliest is the prober in both); "dead on every member" is the last surviving',
    '  member to declare it dead (Serf: EventMemberFailed). The agent is then restarted under the same name and the cluster',
    '  re-converges before the next repetition.',
    '- Graceful leave: swimring gets SIGTERM, Serf SIGINT (its graceful-leave signal); time until every other member holds it as left.',
    '- Idle: after a settle period, RSS (median of 1 s samples) and CPU (utime+stime delta) of each agent process from /proc over the window.',
    '- Bandwidth: nftables counters in a table the bench creates and deletes. UDP is counted per agent (source address, port 7946).',
    '  TCP (Serf push-pull on 7946, swimring gRPC on 7947) is counted for the whole cluster and divided by N, because loopback TCP',
    '  clients leave from 127.0.0.1 whichever agent opened them. Bytes are IP packet lengths (headers included).',
    '- Loss: an nftables rule drops the given percentage (`numgen random mod 100`) of packets to the cluster\'s gossip ports (UDP and',
    '  the TCP ports above) for the window; a "false death" is any member declaring a live member dead during it.',
    '- Network namespaces (N=10): not run in this pass; see the notes.',
    '',
    notes,
  ];
  writeFileSync(join(outDir, 'cluster.md'), lines.join('\n'));
}
