// The sans-IO line around the member (scripts/lint-core.mjs): src/member/ may not read a clock, set a
// timer, draw random numbers, use node:* modules or import values from modules that may do I/O.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('../../scripts/lint-core.mjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'swimring-lint-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function lint(memberSource: string): { status: number | null; output: string } {
  mkdirSync(join(dir, 'src', 'member'), { recursive: true });
  writeFileSync(join(dir, 'src', 'member', 'member.ts'), memberSource);
  const run = spawnSync(process.execPath, [script], { cwd: dir, encoding: 'utf8' });
  return { status: run.status, output: run.stdout + run.stderr };
}

test('src/member passes with the core, placement, the readiness rule and type imports', () => {
  const ok = lint(
    [
      "import { SwimCore } from '../core/swim.js';",
      "import { buildTable } from '../placement/index.js';",
      "import { ReadinessRule } from '../runtime/readiness.js';",
      "import type { HealthView } from '../runtime/view.js';",
      '// Date.now() in a comment is fine',
      'export const parts = [SwimCore, buildTable, ReadinessRule];',
    ].join('\n'),
  );
  assert.equal(ok.status, 0, ok.output);
});

for (const [what, line] of [
  ['a clock', 'export const t = Date.now();'],
  ['a timer', 'setTimeout(() => undefined, 1);'],
  ['ambient randomness', 'export const r = Math.random();'],
  ['a node module', "import { createSocket } from 'node:dgram';"],
  ['a value from a module that may do I/O', "import { Agent } from '../runtime/agent.js';"],
] as const) {
  test(`src/member may not use ${what}`, () => {
    const bad = lint(line);
    assert.equal(bad.status, 1, bad.output);
    assert.match(bad.output, /src\/member\/member\.ts:1:/);
  });
}

function lintClaims(file: string, source: string): { status: number | null; output: string } {
  mkdirSync(join(dir, 'src', 'ownership'), { recursive: true });
  lint('export const clean = 1;');
  writeFileSync(join(dir, 'src', 'ownership', file), source);
  const run = spawnSync(process.execPath, [script], { cwd: dir, encoding: 'utf8' });
  rmSync(join(dir, 'src', 'ownership', file));
  return { status: run.status, output: run.stdout + run.stderr };
}

for (const [what, line] of [
  ['a clock', 'export const t = Date.now();'],
  ['a timer', 'setInterval(() => undefined, 1000);'],
  ['a microtask', 'queueMicrotask(() => undefined);'],
  ['a node module', "import { performance } from 'node:perf_hooks';"],
] as const) {
  test(`the claims state machine (src/ownership/service.ts) may not use ${what}`, () => {
    const bad = lintClaims('service.ts', line);
    assert.equal(bad.status, 1, bad.output);
    assert.match(bad.output, /src\/ownership\/service\.ts:1:/);
  });
}

test('the claims state machine may import its ports and the shell-side gRPC wiring may use timers', () => {
  assert.equal(lintClaims('service.ts', "import type { ClockPort } from '../member/ports.js';").status, 0);
  assert.equal(lintClaims('agent-claims.ts', 'setImmediate(() => undefined);').status, 0);
});
