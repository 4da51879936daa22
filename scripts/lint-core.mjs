#!/usr/bin/env node
// Holds two lines the type checker cannot:
// 1. src/core/ is sans-IO: no node:* imports, no clock, no timers, no ambient randomness, and it imports
//    nothing from outside src/core/ (no `../` paths), so the rest of the project depends on it, never back.
// 2. src/member/ (the member state machine) is sans-IO too: the same bans on node:*, clock, timers and
//    randomness; it may import the core, placement, the pure readiness rule and the claims state machine
//    (held to rule 3), and types from anywhere.
// 3. the claims state machine (src/ownership/: the service, its store, clock, queues and membership
//    wiring) is sans-IO too: no node:*, clock, timers, microtasks or randomness of its own, and nothing
//    from the shells (src/shell/, src/runtime/, src/sim/); the member runs it on its own ports (timers
//    from its tick, calls as effects).
// 4. no `any` anywhere in src/.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (name.endsWith('.ts')) out.push(p);
  }
  return out;
}

// Comments may talk about Date or timers; only code counts.
function stripComments(src) {
  return src.replace(/\/\*[\s\S]*?\*\//g, (m) => m.replace(/[^\n]/g, ' ')).replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

const coreRules = [
  [/from\s+['"]node:/, 'imports a node:* module'],
  [/import\(\s*['"]node:/, 'imports a node:* module'],
  [/require\(/, 'uses require()'],
  [/from\s+['"](fs|net|dgram|os|crypto|timers|child_process|http|https|dns)['"]/, 'imports a Node built-in'],
  [/\bDate\b/, 'uses Date (time is an input)'],
  [/Math\.random/, 'uses Math.random (randomness is injected)'],
  [/\bset(Timeout|Interval|Immediate)\b/, 'uses a timer (the shell owns timers)'],
  [/\bperformance\b/, 'uses performance (time is an input)'],
  [/\bprocess\./, 'uses process'],
  [/(from\s+|import\(\s*)['"]\.\.\//, 'imports from outside src/core/'],
];
const memberImports = /(from\s+|import\(\s*)['"]\.\.\/(?!core\/|placement\/|runtime\/readiness\.js|ownership\/claims-member\.js)/;
const memberRules = [
  ...coreRules.slice(0, -1),
  [memberImports, 'imports something that may do I/O (only core, placement, runtime/readiness.js, ownership/claims-member.js; types from anywhere)'],
];
const claimsFiles = new Set(
  ['service', 'service-types', 'store', 'hlc', 'propagation', 'announcer', 'announce-pacer', 'change-watch', 'claims-member', 'types', 'canonical'].map((f) =>
    join('src', 'ownership', `${f}.ts`),
  ),
);
const claimsRules = [
  ...coreRules.slice(0, -1),
  [/\bqueueMicrotask\b/, 'uses queueMicrotask (steps end synchronously; the shell owns scheduling)'],
  [/(from\s+|import\(\s*)['"]\.\.\/(shell|runtime|sim)\//, 'imports a shell (the member provides the ports)'],
];
const anyRule = [/(:\s*any\b|\bas\s+any\b|<any>|any\[\])/, 'uses `any`'];

const problems = [];
for (const file of walk('src')) {
  const lines = stripComments(readFileSync(file, 'utf8')).split('\n');
  const rules = file.startsWith(join('src', 'core'))
    ? [...coreRules, anyRule]
    : file.startsWith(join('src', 'member'))
      ? [...memberRules, anyRule]
      : claimsFiles.has(file)
        ? [...claimsRules, anyRule]
        : [anyRule];
  lines.forEach((line, i) => {
    for (const [re, why] of rules) if (re.test(line) && !(re === memberImports && /^\s*import type\b/.test(line))) problems.push(`${file}:${i + 1}: ${why}: ${line.trim()}`);
  });
}
if (problems.length) {
  console.error(problems.join('\n'));
  console.error(`lint: ${problems.length} problem(s)`);
  process.exit(1);
}
console.log('lint: ok (src/core, src/member and the claims state machine are sans-IO; no `any` in src/)');
