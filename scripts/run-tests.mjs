#!/usr/bin/env node
// Runs the test files with Node's own test runner (its summary lines are what CI reads).
// Groups: unit (pure code and the simulator), integration (real processes on loopback),
// hosts (network namespaces; needs root). Default: every group.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

const args = process.argv.slice(2);
const groupIdx = args.indexOf('--group');
const group = groupIdx >= 0 ? args[groupIdx + 1] : 'all';
const extra = groupIdx >= 0 ? args.filter((_, i) => i !== groupIdx && i !== groupIdx + 1) : args;

function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

function groupOf(file) {
  const top = relative('test', file).split(sep)[0];
  if (top === 'hosts') return 'hosts';
  if (top === 'integration') return 'integration';
  return 'unit';
}

const files = walk('test').filter((f) => group === 'all' || groupOf(f) === group);
const only = extra.filter((a) => !a.startsWith('-'));
const selected = only.length ? files.filter((f) => only.some((o) => f.includes(o))) : files;
if (selected.length === 0) {
  console.error(`no test files for group ${group}`);
  process.exit(1);
}
const flags = extra.filter((a) => a.startsWith('-'));
const res = spawnSync(process.execPath, ['--import', 'tsx', '--test', ...flags, ...selected], { stdio: 'inherit' });
process.exit(res.status ?? 1);
