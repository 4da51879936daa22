// Puts the real run and the simulator's answers for the same cluster side by side, with the ratio of
// each figure (simulated / real), and renders the Markdown table of the scale bench.
import type { ColdStartEvidence } from './coldstart.js';
import type { RealRun } from './real.js';
import type { SimRun } from './sim.js';

export interface Row {
  readonly figure: string;
  readonly unit: string;
  readonly real: number | null;
  readonly sim: number | null;
  /** sim / real; null when either is missing or the real figure is zero. */
  readonly ratio: number | null;
  /** Whether the figure has a simulated counterpart at all (RSS and CPU do not). */
  readonly compared: boolean;
}

export interface ScaleReport {
  readonly meta: Record<string, string | number>;
  readonly real: RealRun | null;
  readonly sim: SimRun;
  readonly rows: readonly Row[];
}

/** The target: a simulated figure within this share of the real one. */
export const TOLERANCE = 0.2;

function row(figure: string, unit: string, real: number | null | undefined, sim: number | null | undefined, compared = true): Row {
  const r = real ?? null;
  const s = sim ?? null;
  const ratio = compared && r !== null && s !== null && r !== 0 ? Math.round((s / r) * 100) / 100 : null;
  return { figure, unit, real: r, sim: compared ? s : null, ratio, compared };
}

const med = (xs: readonly (number | null | undefined)[]): number | null => {
  const v = xs.filter((x): x is number => typeof x === 'number').sort((a, b) => a - b);
  if (v.length === 0 || v.length < xs.length) return null;
  const mid = v.length >> 1;
  return v.length % 2 === 1 ? v[mid]! : Math.round(((v[mid - 1]! + v[mid]!) / 2) * 1000) / 1000;
};

export function compare(real: RealRun | null, sim: SimRun): Row[] {
  const idle = sim.idle;
  const l = sim.loss;
  const udp = real?.idle?.udpBytesPerMemberPerS;
  const rpc = real?.idle?.rpcBytesPerMemberPerS;
  const total = udp === undefined || rpc === undefined ? null : udp + rpc;
  const simTotal = idle.bytes_per_member_per_s === null || idle.rpc_bytes_per_member_per_s === null ? null : Math.round((idle.bytes_per_member_per_s + idle.rpc_bytes_per_member_per_s) * 10) / 10;
  const crashes = real?.crashes ?? (real?.crash ? [real.crash] : []);
  const cold = real?.coldStartLog ?? null;
  const n = crashes.length;
  return [
    // Times from the agents' own log lines (the moment each changed its state); the harness's view of
    // the same (watch streams, HTTP polls) comes on top and is listed apart, real only.
    row('cold start: spawn to last member started', 's', cold?.lastStartedS, null, false),
    // The simulator starts its members at the real members' start times: what is left is membership.
    row('cold start: last member started to every member alive everywhere', 's', cold?.membershipS, sim.arrivals?.convergedAfterLastS),
    // The same replay with the simulator's host CPU model (docs/sim.md, "The host's CPU").
    row('cold start, sim with its CPU model: the same', 's', cold?.membershipS, sim.arrivalsWithCpu?.convergedAfterLastS),
    // The simulator models a table build as 10 ms; the real build takes CPU the cores may not have.
    row('cold start: every view complete to one table version', 's', cold?.tablesS, null, false),
    row('cold start (harness): spawn to one view seen', 's', real?.coldStartS, null, false),
    row('cold start (harness): last member serving to one view seen', 's', real?.servingToViewS, null, false),
    row(`crash: first suspicion (median of ${n} real, ${sim.detection.seeds.length} sim)`, 's', med(crashes.map((c) => c.log.firstSuspectS)), sim.detection.firstSuspectMedianS),
    row(`crash: dead everywhere (median of ${n} real, ${sim.detection.seeds.length} sim)`, 's', med(crashes.map((c) => c.log.lastS)), sim.detection.allDeadMedianS),
    row('crash: first observer to mark dead (median)', 's', med(crashes.map((c) => c.log.firstS)), null, false),
    row('crash (harness): dead everywhere seen (median)', 's', med(crashes.map((c) => c.lastS)), null, false),
    // Both include the agent's default drain before the leave is announced.
    row('leave: signal to the leave announced', 's', real?.leave?.log.announcedS, sim.leave.drainS),
    row('leave: left in the first other view', 's', real?.leave?.log.firstS, sim.leave.firstLeftS),
    row('leave: left in every view', 's', real?.leave?.log.lastS, sim.leave.allLeftS),
    row('leave (harness): left in every view seen', 's', real?.leave?.lastS, null, false),
    row('UDP packets / member / s', '1/s', real?.idle?.udpPacketsPerMemberPerS, idle.messages_per_member_per_s),
    row('UDP bytes / member / s', 'B/s', udp, idle.bytes_per_member_per_s),
    row('RPC bytes / member / s', 'B/s', rpc, idle.rpc_bytes_per_member_per_s),
    row('UDP + RPC bytes / member / s', 'B/s', total, simTotal),
    row('RSS sum', 'MB', real?.idle?.rssMbSum, null, false),
    row('RSS median per agent', 'MB', real?.idle?.rssMbMedian, null, false),
    row('CPU sum', '% of a core', real?.idle?.cpuPercentSum, null, false),
    row('CPU median per agent', '% of a core', real?.idle?.cpuPercentMedian, null, false),
    row('harness CPU, spawn to one view: the bench process', 's', real?.harnessCpuS?.bench, null, false),
    row('harness CPU, spawn to one view: the hub proxy', 's', real?.harnessCpuS?.proxy, null, false),
    row(`${real?.loss?.percent ?? l.loss * 100} % loss: false suspicions`, 'events', real?.loss?.falseSuspicions, l.false_suspect),
    row(`${real?.loss?.percent ?? l.loss * 100} % loss: false deaths`, 'members', real?.loss?.falseDeaths, l.false_dead),
  ];
}

const show = (v: number | null): string => (v === null ? 'n/a' : String(v));

function verdict(r: Row): string {
  if (!r.compared) return 'real only';
  if (r.ratio === null) return r.real === 0 && r.sim === 0 ? 'both 0' : 'n/a';
  return Math.abs(r.ratio - 1) <= TOLERANCE ? 'within 20 %' : 'OUTSIDE 20 %';
}

export function renderMarkdown(report: ScaleReport): string {
  const head = Object.entries(report.meta).map(([k, v]) => `- ${k}: ${v}`);
  const lines = [
    `# Scale bench: ${report.meta['members']} sidecars against \`swimring sim\``,
    '',
    ...head,
    '',
    '| figure | unit | real | sim | sim / real | |',
    '|---|---|---:|---:|---:|---|',
    ...report.rows.map((r) => `| ${r.figure} | ${r.unit} | ${show(r.real)} | ${r.compared ? show(r.sim) : '–'} | ${show(r.ratio)} | ${verdict(r)} |`),
    '',
    ...coldStartLines(report.real?.coldStart ?? null),
  ];
  return lines.join('\n');
}

/** What the agents did while the cluster formed: the summary, then the cluster's sums over time. */
function coldStartLines(e: ColdStartEvidence | null): string[] {
  if (e === null) return [];
  return [
    '## Cold start: what the agents did while the cluster formed',
    '',
    ...Object.entries(e.summary).map(([k, v]) => `- ${k}: ${v}`),
    '',
    '| s after spawn | load | agents answering | CPU s (sum) | main thread CPU s | table builds | suspicions raised | refutations | suspect events | dead events | worst loop lag ms |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...e.samples.map((s) => `| ${s.atS} | ${s.load1} | ${s.answered} | ${s.cpuS} | ${s.mainThreadCpuS} | ${s.builds} | ${s.suspicionsRaised} | ${s.refutations} | ${s.suspectEvents} | ${s.deadEvents} | ${s.lagMaxMs} |`),
    '',
  ];
}
