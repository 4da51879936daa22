// Programs from Debian packages that some tests drive (promtool, chromium). .ci/run installs them; a
// test that needs one fails in CI (CI=true) when it is missing, and only elsewhere may it be skipped,
// with the reason printed.
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export interface Tool {
  readonly binary: string;
  readonly debianPackage: string;
}

export const PROMTOOL: Tool = { binary: 'promtool', debianPackage: 'prometheus' };
export const CHROMIUM: Tool = { binary: 'chromium', debianPackage: 'chromium' };

/** The tool's absolute path, or null when no directory of PATH has it. */
export function findTool(tool: Tool): string | null {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, tool.binary);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return null;
}

/**
 * The `skip` option for a test that needs the tool: false when it is there, and also in CI (so the test
 * runs and fails on the missing tool instead of passing as skipped); a reason otherwise.
 */
export function skipUnlessTool(tool: Tool): string | false {
  if (findTool(tool) !== null || process.env['CI'] === 'true') return false;
  const reason = `${tool.binary} is not installed (Debian package ${tool.debianPackage}; .ci/run installs it as root)`;
  console.log(`# skipped: ${reason}`);
  return reason;
}

/** The tool's path; throws (failing the test) when it is missing. */
export function requireTool(tool: Tool): string {
  const path = findTool(tool);
  if (path === null) throw new Error(`${tool.binary} is missing: install the Debian package ${tool.debianPackage} (.ci/run does so as root)`);
  return path;
}

export interface ToolRun {
  readonly status: number | null;
  readonly output: string;
}

/** Runs the tool with `input` on stdin; stdout and stderr together. */
export function runTool(tool: Tool, args: readonly string[], input = ''): ToolRun {
  const res = spawnSync(requireTool(tool), args, { input, encoding: 'utf8', timeout: 30_000 });
  if (res.error) throw res.error;
  return { status: res.status, output: `${res.stdout}${res.stderr}` };
}
