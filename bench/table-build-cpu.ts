// CPU of a run of table builds at the default shard count, as the agent's builder makes them (inline,
// sliced), under one choice of step clock: the main thread's own (the default) or the whole process's.
// Run it under different malloc settings to see what glibc's mmap threshold costs the builds:
//
//   node --import tsx bench/table-build-cpu.ts [--clock thread|process] [--members 30] [--raise-threshold]
//   MALLOC_MMAP_THRESHOLD_=131072 node --import tsx bench/table-build-cpu.ts
//
// --raise-threshold reads and drops the bundle and its code cache first (dist/bundle, after `npm run
// build`), as the bin did before it read them unpooled: glibc then serves megabyte arrays from its heap.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DEFAULT_SHARDS } from '../src/placement/index.js';
import { TableBuilder, type TableBuilderTuning } from '../src/runtime/table-builder.js';

const { values } = parseArgs({
  options: {
    clock: { type: 'string', default: 'thread' },
    members: { type: 'string', default: '30' },
    'raise-threshold': { type: 'boolean', default: false },
  },
});
const members = Number(values.members);
if (!Number.isInteger(members) || members < 1 || members > 1000) throw new Error('--members: 1..1000');
if (values.clock !== 'thread' && values.clock !== 'process') throw new Error('--clock: thread or process');

if (values['raise-threshold']) {
  // Freed right away: what matters is that glibc saw two mapped chunks of ~2 MB come and go.
  readFileSync('dist/bundle/main.cjs');
  readFileSync('dist/bundle/main.cjs.cache');
}

let clockReads = 0;
const processClock = (): number => {
  clockReads++;
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const tuning: Partial<TableBuilderTuning> = values.clock === 'process' ? { stepClock: processClock } : {};

const names = Array.from({ length: members }, (_, i) => `member-${i}`);
const start = process.cpuUsage();
let built = 0;
await new Promise<void>((resolve, reject) => {
  let n = 1;
  const builder = new TableBuilder(
    { shards: DEFAULT_SHARDS, replicas: 2 },
    () => {
      built++;
      if (n >= members) return resolve();
      n++;
      builder.request(names.slice(0, n));
    },
    (message) => reject(new Error(message)),
    tuning,
  );
  builder.request(names.slice(0, 1));
});
const used = process.cpuUsage(start);
console.log(
  JSON.stringify({
    clock: values.clock,
    raisedThreshold: values['raise-threshold'],
    mallocMmapThreshold: process.env['MALLOC_MMAP_THRESHOLD_'] ?? null,
    builds: built,
    cpuMs: Math.round((used.user + used.system) / 1000),
    userMs: Math.round(used.user / 1000),
    systemMs: Math.round(used.system / 1000),
    processClockReads: values.clock === 'process' ? clockReads : null,
  }),
);
process.exit(0);
