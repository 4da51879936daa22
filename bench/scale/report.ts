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

export function compare(real: RealRun | null, sim: SimRun): Row[] {
  const c = sim.crash;
  const l = sim.loss;
  const udp = real?.idle?.udpBytesPerMemberPerS;
  const rpc = real?.idle?.rpcBytesPerMemberPerS;
  const total = udp === undefined || rpc === undefined ? null : udp + rpc;
  const simTotal = c.bytes_per_member_per_s === null || c.rpc_bytes_per_member_per_s === null ? null : Math.round((c.bytes_per_member_per_s + c.rpc_bytes_per_member_per_s) * 10) / 10;
  return [
    // The simulator starts every member at once and has no process start-up or table build: its
    // convergence compares with the real run from the last member serving.
    row('cold start: spawn to one view', 's', real?.coldStartS, null, false),
    row('cold start: spawn to last member serving', 's', real?.lastServingS, null, false),
    row('cold start: last member serving to one view', 's', real?.servingToViewS, c.convergence_s),
    row('crash: first suspicion', 's', real?.crash?.firstSuspectS, c.detection_first_suspect_s),
    row('crash: dead everywhere (last observer)', 's', real?.crash?.lastS, c.detection_all_dead_s),
    row('crash: first observer to mark dead', 's', real?.crash?.firstS, null),
    // Both include the agent's default drain before the leave is announced.
    row('leave: left in every view', 's', real?.leave?.lastS, sim.leave.allLeftS),
    row('UDP packets / member / s', '1/s', real?.idle?.udpPacketsPerMemberPerS, c.messages_per_member_per_s),
    row('UDP bytes / member / s', 'B/s', udp, c.bytes_per_member_per_s),
    row('RPC bytes / member / s', 'B/s', rpc, c.rpc_bytes_per_member_per_s),
    row('UDP + RPC bytes / member / s', 'B/s', total, simTotal),
    row('RSS sum', 'MB', real?.idle?.rssMbSum, null, false),
    row('RSS median per agent', 'MB', real?.idle?.rssMbMedian, null, false),
    row('CPU sum', '% of a core', real?.idle?.cpuPercentSum, null, false),
    row('CPU median per agent', '% of a core', real?.idle?.cpuPercentMedian, null, false),
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
