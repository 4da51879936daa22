// Turns cluster.json into cluster.md (the table) and three SVG charts beside it. Anything written by
// hand about the numbers lives in cluster-notes.md in the same folder and is included verbatim.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NetKind } from './network.js';
import { netOf, type Entry, type ResultsFile } from './results.js';
import type { ColdStartResult, CrashRep, IdleResult, LeaveRep, LossResult } from './scenarios.js';
import { median, minMax } from './stats.js';
import { chartSvg, COLORS, type ChartPanel, type ChartRow } from './svg.js';
import { DEFAULT_DRAIN, NO_DRAIN, type SystemName } from './systems.js';

type Pick<S extends Entry['scenario']> = Extract<Entry, { scenario: S }>['data'];

/** One cluster setting of the run: its size and where its agents lived. */
interface Slot {
  readonly n: number;
  readonly net: NetKind;
}

/** `variant` undefined: every entry of the slot; otherwise only entries whose variant passes. */
function find<S extends Entry['scenario']>(r: ResultsFile, system: SystemName, slot: Slot, scenario: S, variant?: (v: string | undefined) => boolean): Pick<S>[] {
  return r.entries
    .filter((e) => e.system === system && e.n === slot.n && netOf(e) === slot.net && e.scenario === scenario && (!variant || variant(e.variant)))
    .map((e) => e.data as Pick<S>);
}

const slotLabel = (slot: Slot): string => (slot.net === 'netns' ? `${slot.n} netns` : String(slot.n));

function slotsOf(r: ResultsFile, loss: boolean): Slot[] {
  const seen = new Map<string, Slot>();
  for (const e of r.entries) {
    if ((e.scenario === 'loss') !== loss) continue;
    const slot = { n: e.n, net: netOf(e) };
    seen.set(`${slot.net}/${slot.n}`, slot);
  }
  return [...seen.values()].sort((a, b) => (a.net === b.net ? a.n - b.n : a.net === 'loopback' ? -1 : 1));
}

interface Metric {
  /** A function where the label depends on the run (e.g. swimring's default drain). */
  readonly scenario: string | ((r: ResultsFile) => string);
  readonly unit: string;
  readonly digits: number;
  /** The samples whose median is reported, and the samples whose min-max is the spread. */
  readonly samples: (r: ResultsFile, system: SystemName, slot: Slot) => { value: number[]; spread: number[]; note?: string } | null;
}

const s = (ms: number | null): number => (ms === null ? Number.NaN : ms / 1000);
const finite = (xs: number[]): number[] => xs.filter(Number.isFinite);

function crashMetric(label: string, pick: (rep: CrashRep) => number | null): Metric {
  return {
    scenario: label,
    unit: 's',
    digits: 2,
    samples: (r, sys, slot) => {
      const reps = find(r, sys, slot, 'crash').flat();
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
    samples: (r, sys, slot) => {
      const d = find(r, sys, slot, 'idle')[0];
      if (!d) return null;
      const vals = finite(pick(d));
      const unsettled = find(r, sys, slot, 'cold-start')[0]?.timedOut === true;
      return { value: vals, spread: vals, note: `${Math.round(d.windowS)} s window${unsettled ? ', cluster NOT converged' : ''}` };
    },
  };
}

/** Each agent's own TCP where it was counted per agent (namespaces), else the cluster's TCP shared out. */
const bytesPerAgent = (d: IdleResult): number[] => d.udpBytesPerS.map((b, i) => b + (d.tcpBytesPerS?.[i] ?? d.tcpBytesPerSPerAgent));
const packetsPerAgent = (d: IdleResult): number[] => d.udpPacketsPerS.map((p, i) => p + (d.tcpPacketsPerS?.[i] ?? d.tcpPacketsPerSPerAgent));

/** Runs before the defaults were recorded used 2,000 ms. */
const drainText = (r: ResultsFile): string => `${r.meta.swimringDefaults?.drainMs ?? '2000'} ms`;

/** swimring's leave with its default drain; entries from before the variants existed had the default too. */
const withDrain = (v: string | undefined): boolean => v === undefined || v === DEFAULT_DRAIN;
const noDrain = (v: string | undefined): boolean => v === NO_DRAIN;

function leaveMetric(label: (r: ResultsFile) => string, swimringVariant: ((v: string | undefined) => boolean) | undefined, pick: (rep: LeaveRep) => number | null | undefined): Metric {
  return {
    scenario: label,
    unit: 's',
    digits: 2,
    samples: (r, sys, slot) => {
      const reps: LeaveRep[] = find(r, sys, slot, 'leave', sys === 'swimring' ? swimringVariant : undefined).flat();
      if (!reps.length) return null;
      const vals = finite(reps.map((rep) => s(pick(rep) ?? null)));
      if (!vals.length) return null;
      const missed = reps.filter((rep) => rep.missed > 0);
      const missedNote = missed.length ? `; ${missed.length} more rep(s) where ${missed.map((rep) => rep.missed).join('+')} observer(s) never saw "left" within 90 s` : '';
      return { value: vals, spread: vals, note: `${vals.length} reps${missedNote}` };
    },
  };
}

const METRICS: readonly Metric[] = [
  {
    scenario: 'cold-start join: spawn of N-1 agents → every view complete',
    unit: 's',
    digits: 2,
    samples: (r, sys, slot) => {
      const d = find(r, sys, slot, 'cold-start')[0];
      if (!d) return null;
      return { value: [s(d.spawnToAllMs)], spread: d.perObserverMs.map((ms) => ms / 1000), note: d.timedOut ? 'NOT seen converged within the bench bound (value: when it did converge, by the agents\' clocks, if it did)' : 'spread: first..last member complete' };
    },
  },
  {
    scenario: 'cold-start join: last agent up → every view complete',
    unit: 's',
    digits: 2,
    samples: (r, sys, slot) => {
      const d: ColdStartResult | undefined = find(r, sys, slot, 'cold-start')[0];
      return d ? { value: [s(d.fromLastUpMs)], spread: [] } : null;
    },
  },
  {
    scenario: 'cold-start: spawn → agent running (process start-up; median and spread over the N-1 agents)',
    unit: 's',
    digits: 2,
    samples: (r, sys, slot) => {
      const d: ColdStartResult | undefined = find(r, sys, slot, 'cold-start')[0];
      const vals = (d?.spawnToRunningMs ?? []).map((ms) => ms / 1000);
      return vals.length ? { value: vals, spread: vals } : null;
    },
  },
  crashMetric('crash (kill -9): first suspicion', (rep) => rep.firstSuspicionMs),
  crashMetric('crash (kill -9): first member marks dead', (rep) => rep.firstDeadMs),
  crashMetric('crash (kill -9): dead on every member', (rep) => rep.allDeadMs),
  leaveMetric((r) => `graceful leave: signal → left on every member (swimring with its default ${drainText(r)} drain)`, withDrain, (rep) => rep.allLeftMs),
  leaveMetric(() => 'graceful leave: signal → left on every member (swimring with --drain-ms 0)', noDrain, (rep) => rep.allLeftMs),
  leaveMetric((r) => `graceful leave: leave announced → left on every member (swimring after its ${drainText(r)} drain)`, withDrain, (rep) => rep.announceToAllLeftMs),
  leaveMetric(() => 'graceful leave: leave announced → left on every member (swimring with --drain-ms 0)', noDrain, (rep) => rep.announceToAllLeftMs),
  idleMetric('idle RSS per agent', 'MB', 1, (d) => d.rssMb),
  idleMetric('idle CPU per agent', '% of a core', 2, (d) => d.cpuPct),
  idleMetric('bytes sent per agent per second (UDP + TCP; loopback: TCP shared out)', 'B/s', 0, bytesPerAgent),
  idleMetric('packets sent per agent per second (UDP + TCP; loopback: TCP shared out)', 'pkt/s', 1, packetsPerAgent),
  idleMetric('  of which UDP gossip bytes per agent per second', 'B/s', 0, (d) => d.udpBytesPerS),
];

function lossMetric(percent: number): Metric {
  return {
    scenario: `false deaths under ${percent}% loss ((observer, member) pairs)`,
    unit: 'count',
    digits: 0,
    samples: (r, sys, slot) => {
      const d: LossResult | undefined = find(r, sys, slot, 'loss').find((x) => x.percent === percent);
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
  const lossPercents = [...new Set(r.entries.flatMap((e) => (e.scenario === 'loss' ? [e.data.percent] : [])))].sort((a, b) => a - b);
  const rows: string[] = [];
  const emit = (m: Metric, slot: Slot): void => {
    const sw = m.samples(r, 'swimring', slot);
    const sf = m.samples(r, 'serf', slot);
    if (!sw && !sf) return;
    const swMed = sw ? median(sw.value) : Number.NaN;
    const sfMed = sf ? median(sf.value) : Number.NaN;
    const ratio = Number.isFinite(swMed) && Number.isFinite(sfMed) && sfMed !== 0 ? `${(swMed / sfMed).toFixed(2)}×` : '—';
    const spread = [sw && spreadText(sw.spread, m.digits), sf && spreadText(sf.spread, m.digits)];
    const notes = [sw?.note && `swimring: ${sw.note}`, sf?.note && `Serf: ${sf.note}`].filter(Boolean).join('; ');
    rows.push(
      `| ${(typeof m.scenario === 'string' ? m.scenario : m.scenario(r)).trim()} | ${slotLabel(slot)} | ${withUnit(swMed, m.digits, m.unit)} | ${withUnit(sfMed, m.digits, m.unit)} | ${ratio} | ${spread[0] || '—'} ; ${spread[1] || '—'} | ${notes} |`,
    );
  };
  for (const slot of slotsOf(r, false)) for (const m of METRICS) emit(m, slot);
  for (const slot of slotsOf(r, true)) for (const p of lossPercents) emit(lossMetric(p), slot);
  return rows;
}

function rowsFor(r: ResultsFile, label: string, pick: (system: SystemName, slot: Slot) => number[]): ChartRow[] {
  const out: ChartRow[] = [];
  for (const slot of slotsOf(r, false)) {
    for (const sys of ['swimring', 'serf'] as const) {
      const values = pick(sys, slot);
      const where = slot.net === 'netns' ? ' netns' : '';
      if (values.length) out.push({ label: `${sys === 'serf' ? 'Serf' : 'swimring'} N=${slot.n}${where} ${label}`.trim(), values, color: COLORS[sys] });
    }
  }
  return out;
}

function charts(r: ResultsFile, outDir: string, subtitle: string): void {
  const crashPanels: ChartPanel[] = [
    {
      title: 'Time to dead, every (crash, observer) pair',
      unit: 'seconds after kill -9',
      rows: rowsFor(r, '', (sys, slot) => find(r, sys, slot, 'crash').flat().flatMap((rep) => rep.perObserverDeadMs.map((ms) => ms / 1000))),
    },
    {
      title: 'Time to first suspicion, per crash',
      unit: 'seconds after kill -9',
      rows: rowsFor(r, '', (sys, slot) => finite(find(r, sys, slot, 'crash').flat().map((rep) => s(rep.firstSuspicionMs)))),
    },
  ];
  writeFileSync(join(outDir, 'cluster-crash.svg'), chartSvg('Crash detection: swimring vs Serf (LAN profile; loopback and netns)', subtitle, crashPanels));
  const idleOf = (sys: SystemName, slot: Slot): IdleResult | undefined => find(r, sys, slot, 'idle')[0];
  writeFileSync(
    join(outDir, 'cluster-idle.svg'),
    chartSvg('Idle cost per agent: swimring vs Serf', subtitle, [
      { title: 'RSS per agent (median over the window)', unit: 'MB', rows: rowsFor(r, '', (sys, slot) => finite(idleOf(sys, slot)?.rssMb ?? [])) },
      { title: 'CPU per agent', unit: '% of one core', rows: rowsFor(r, '', (sys, slot) => finite(idleOf(sys, slot)?.cpuPct ?? [])) },
    ]),
  );
  writeFileSync(
    join(outDir, 'cluster-bandwidth.svg'),
    chartSvg('Idle network cost per agent: swimring vs Serf', subtitle, [
      { title: 'Bytes sent per agent per second (UDP + share of TCP)', unit: 'bytes/s', rows: rowsFor(r, '', (sys, slot) => { const d = idleOf(sys, slot); return d ? bytesPerAgent(d) : []; }) },
      { title: 'Packets sent per agent per second (UDP + share of TCP)', unit: 'packets/s', rows: rowsFor(r, '', (sys, slot) => { const d = idleOf(sys, slot); return d ? packetsPerAgent(d) : []; }) },
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
    '# swimring vs HashiCorp Serf: cluster scenarios',
    '',
    `- Run: ${m.startedAt} → ${m.finishedAt ?? '(unfinished: partial results)'}${m.quick ? ' — QUICK mode (short windows, not the reference run)' : ''}`,
    ...(m.swimringArgs ? [`- **swimring ran with \`${m.swimringArgs}\` added to every agent** (not its defaults).`] : []),
    ...(m.snapshotAt ? [`- Code under test: a snapshot of the working tree taken ${m.snapshotAt}, built to dist/ and run from there.`] : []),
    `- Machine: ${m.machine}. Load average at start: ${m.loadAtStart}${m.loadAtEnd ? `; at end: ${m.loadAtEnd}` : ''}.`,
    '- **Caveat: load from other work.** Other jobs\' builds, tests and benchmarks ran on the same two cores during this run, so absolute',
    '  times and CPU figures carry that noise; both systems were measured in the same run, one after the other, under the same kind of load.',
    `- Versions: swimring ${m.swimringVersion} (dist/), serf ${m.serfVersion} (Debian package, on memberlist).`,
    '- Both systems use their LAN timing profile (probe 1 s, probe timeout 500 ms, 3 indirect probes, gossip 200 ms to 3 members,',
    '  push-pull 30 s; suspicion multiplier 4 for Serf, 3 for swimring since 2026-12-07, with relays nacking at 80 % of the probe timeout) and gossip port 7946, on the same addresses: loopback 127.0.0.10.. ("N" column: a number), or one',
    '  network namespace per agent (10.213.7.1.., veth pairs on one bridge, no added delay; "N" column: "10 netns"). swimring runs with',
    `  its defaults (${Number(m.swimringDefaults?.shards ?? 262144).toLocaleString('en-US')} shards, --drain-ms ${m.swimringDefaults?.drainMs ?? '2000'}) except where a row says otherwise, and on loopback only with \`--negotiate-peer-rate 100`,
    '  --negotiate-peer-burst 200` (the all-callers limits): there every agent\'s gRPC client connects from 127.0.0.1, so the',
    '  per-caller-IP Negotiate limit would count the whole cluster as one caller. Reproduce: `node --import tsx bench/cluster/run.ts`.',
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
    '  re-converges before the next repetition. Before every repetition (and before the idle and loss windows) the bench also waits',
    '  until every swimring agent has logged an ownership table covering every member, so no repetition starts while the previous',
    '  one\'s rejoin is still being rebuilt (Serf has no table).',
    '- Graceful leave: swimring gets SIGTERM, Serf SIGINT (its graceful-leave signal); time until every other member holds it as left.',
    '  swimring\'s default leave first drains for `--drain-ms` (2,000 ms: it stops serving so its shards move to others while it still',
    '  answers routes, then announces the leave); Serf has no such step. So swimring is measured twice on the same agents: with its',
    '  default drain, and with `--drain-ms 0` (like with like). "Leave announced → left" starts at the leaver\'s own log line (swimring',
    '  `leaving the cluster`, after the drain; Serf `requesting graceful leave`) and isolates the propagation.',
    '- Idle: after a settle period, RSS (median of 1 s samples) and CPU (utime+stime delta) of each agent process from /proc over the window.',
    '- Bandwidth: nftables counters in a table the bench creates and deletes. UDP is counted per agent (source address, port 7946).',
    '  TCP (Serf push-pull on 7946, swimring gRPC on 7947): on loopback it is counted for the whole cluster and divided by N, because',
    '  loopback TCP clients leave from 127.0.0.1 whichever agent opened them; in namespaces each agent\'s own output hook counts what',
    '  it sends, so TCP is per agent there. Bytes are IP packet lengths (headers included).',
    '- Loss: on loopback an nftables input rule drops the given percentage (`numgen random mod 100`) of packets to the cluster\'s gossip',
    '  ports (UDP and the TCP ports above); in namespaces the same drop sits on the netdev ingress of every agent\'s eth0 (IPv4 gossip',
    '  packets only, ARP untouched). A "false death" is any member declaring a live member dead during the window.',
    '',
    notes,
  ];
  writeFileSync(join(outDir, 'cluster.md'), lines.join('\n'));
}
