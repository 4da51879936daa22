// The human-readable form of a simulation report.
import type { SimReport } from './scenario.js';

function show(value: number | null, unit = ''): string {
  return value === null ? 'n/a' : `${value}${unit}`;
}

export function formatReport(r: SimReport): string {
  const rows: [string, string][] = [
    ['members', `${r.members} (${r.seeds} seeds)`],
    ['seed', String(r.seed)],
    ['profile', r.profile],
    ['loss', String(r.loss)],
    ['duration', `${r.duration_s} s simulated`],
    ['convergence', show(r.convergence_s, ' s')],
    ['steady window', r.steady_window_s === null ? 'n/a' : `${r.steady_window_s[0]} s .. ${r.steady_window_s[1]} s${r.settle_capped ? ' (queues had not drained)' : ''}`],
    ['bytes / member / s', show(r.bytes_per_member_per_s)],
    ['messages / member / s', show(r.messages_per_member_per_s)],
    ['rpc bytes / member / s', show(r.rpc_bytes_per_member_per_s)],
  ];
  if (r.crash > 0 || r.pause_members > 0) rows.push(['faults at', show(r.faults_at_s, ' s')]);
  if (r.crash > 0) {
    rows.push(
      ['crashed', `${r.crash} (suspected: ${r.crashed_suspected}, dead everywhere: ${r.crashed_dead_everywhere})`],
      ['first suspect (median / max)', `${show(r.detection_first_suspect_s, ' s')} / ${show(r.detection_first_suspect_s_max, ' s')}`],
      ['dead everywhere (median / max)', `${show(r.detection_all_dead_s, ' s')} / ${show(r.detection_all_dead_s_max, ' s')}`],
    );
  }
  if (r.pause_members > 0) {
    rows.push(['paused', `${r.pause_members} for ${r.pause_s} s (declared dead: ${r.paused_declared_dead}, suspicions: ${r.paused_suspected})`]);
  }
  if (r.cut !== null) {
    rows.push(
      ['cut', `${r.cut} ${(r.cut_members ?? []).join(':')} for ${show(r.cut_s, ' s')}, from ${show(r.faults_at_s, ' s')}, healed at ${show(r.healed_at_s, ' s')}`],
      ['one view again after the heal', show(r.reconverged_s, ' s')],
    );
  }
  rows.push(
    [r.cut === null ? 'false dead (members)' : 'false dead (verdicts about reachable members)', String(r.false_dead)],
    ['false suspicions', String(r.false_suspect)],
    ['refutations', String(r.refutations)],
    ['name conflicts', String(r.name_conflicts)],
    [
      'packets sent / dropped',
      `${r.packets_sent} / loss ${r.packets_dropped.loss}, partition ${r.packets_dropped.partition}, unroutable ${r.packets_dropped.unroutable}, buffer ${r.packets_dropped.buffer}`,
    ],
  );
  const m = r.member;
  if (m !== null) {
    rows.push(
      ['members ready (last first-ready)', `${show(m.member_ready_s_max, ' s')} (never ready: ${m.members_never_ready})`],
      ['readiness changes (all / max per member)', `${m.readiness_transitions} / ${m.readiness_transitions_max_per_member} in ${m.readiness_polls} polls`],
      ['readiness lost while not leaving', `${m.readiness_losses} (unready polls after ready: ${m.unready_polls_after_ready})`],
      ['table versions (all / max per member)', `${m.table_versions} / ${m.table_versions_max_per_member}, ${m.table_versions_at_end} at the end`],
      ['one table version since', show(m.one_table_version_s, ' s')],
      ['serving members / flag changes', `${m.serving_members} / ${m.serving_changes}`],
    );
  }
  const f = r.fleet;
  if (f !== null) {
    rows.push(
      ['fleet operation', `${f.operation}: ${f.pods_replaced} pods replaced, ${f.pods_created} created, from ${f.started_at_s} s, done ${show(f.done_at_s, ' s')}`],
      ['steps (mean / max)', `${show(f.step_s_mean, ' s')} / ${show(f.step_s_max, ' s')}`],
      ['probe failures on Ready pods not replaced', `${f.probe_failures_on_serving_pods} of ${f.readiness_probes} probes; out of their Service: ${f.pods_left_service}`],
      ['false deaths (suspect events)', `${f.false_dead} (${f.suspect_events})`],
      ['keys without a serving, running owner', `${f.keys_without_serving_owner} of ${f.keys_checked} (owner leaving: ${f.keys_to_leaving_owner})`],
      ['owner shard moves vs ideal', `${f.shard_moves} vs ${f.shard_moves_ideal}; unattributed at most ${f.shard_moves_unattributed_max}`],
      ['one view after a join (median / max)', `${show(f.one_view_after_join_s, ' s')} / ${show(f.one_view_after_join_s_max, ' s')}`],
      ['one view after a leave (median / max)', `${show(f.one_view_after_leave_s, ' s')} / ${show(f.one_view_after_leave_s_max, ' s')}${f.one_view_missing > 0 ? ` (${f.one_view_missing} never)` : ''}`],
      ['startup probes exhausted / pods killed', `${f.startup_exhausted} / ${f.pods_killed}`],
      ['new pods that resolved no seed on joining', `${f.joins_without_seeds}`],
    );
  }
  const c = r.claims;
  if (c !== null) {
    rows.push(
      ['claims made / attempts', `${c.claims_made} / ${c.attempts} (renewed ${c.renewed}, owned elsewhere ${c.owned_elsewhere}, not serving ${c.not_serving})`],
      ['claim conflicts / lost', `${c.conflicts} / ${c.claims_lost}`],
      ['claims known everywhere (p50 / p99)', `${show(c.propagation_p50_ms, ' ms')} / ${show(c.propagation_p99_ms, ' ms')} (unfinished: ${c.propagation_unfinished})`],
      ['clock skew: claims refused / records refused', `${c.refused_own_clock_skew} / ${c.refused_records_clock_skew} (members off: ${c.members_clock_off})`],
      ['two owners at one table version', `${c.double_owner_samples} in ${c.samples} samples`],
      ['claims released on departure', String(c.released_on_departure)],
    );
  }
  const cpu = r.cpu;
  if (cpu !== undefined) {
    rows.push(
      ['last member started / converged after it', `${show(cpu.last_started_s, ' s')} / ${show(cpu.converged_after_last_start_s, ' s')}`],
      ['modelled CPU (all members)', `${cpu.charged_s} s on ${cpu.cores} cores: start ${cpu.start_s} s, warm-up ${cpu.warmup_s} s, table builds ${cpu.build_s} s, inputs ${cpu.input_s} s`],
    );
  }
  rows.push(
    ['wall clock', `${r.wall_s} s (${r.wall_per_sim_s} s per simulated s, ${r.events} events)`],
    ['wall clock, steady state', `${show(r.steady_wall_per_sim_s)} s per simulated s (cpu ${show(r.steady_cpu_per_sim_s)} s)`],
  );
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n') + '\n';
}
