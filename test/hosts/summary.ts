// The summary table every run prints (and writes to a file, for docs/faults.md): one row per scenario.
import { writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';

interface Row {
  readonly scenario: string;
  readonly outcome: string;
  readonly measured: readonly string[];
  readonly durationMs: number;
}

export class Summary {
  private readonly rows: Row[] = [];

  /** `fileName`: the default file in the temp dir; SWIMRING_HOSTS_SUMMARY names the faults file instead. */
  constructor(private readonly fileName = 'swimring-hosts-summary.md', private readonly envOverride = true) {}

  add(scenario: string, outcome: string, measured: readonly string[], durationMs: number): void {
    this.rows.push({ scenario, outcome, measured, durationMs });
  }

  render(totalMs: number): string {
    const lines = [
      `Host fault tests, ${new Date().toISOString()}, ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown cpu'}), node ${process.version}`,
      '',
      '| scenario | outcome | measured | scenario time |',
      '|---|---|---|---|',
      ...this.rows.map((r) => `| ${r.scenario} | ${r.outcome.replaceAll('|', '/')} | ${r.measured.join('; ').replaceAll('|', '/')} | ${(r.durationMs / 1000).toFixed(0)} s |`),
      '',
      `Whole group: ${(totalMs / 1000).toFixed(0)} s`,
    ];
    return lines.join('\n') + '\n';
  }

  /** Prints the table and writes it to SWIMRING_HOSTS_SUMMARY (default: a file in the temp dir). */
  finish(totalMs: number): void {
    const text = this.render(totalMs);
    const file = (this.envOverride ? process.env.SWIMRING_HOSTS_SUMMARY : undefined) ?? join(tmpdir(), this.fileName);
    writeFileSync(file, text);
    console.log(text);
    console.log(`summary written to ${file}`);
  }
}
