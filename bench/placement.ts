// Placement benchmark: lookup speed (against the npm `hashring` package and an FNV-1a + jump baseline,
// in the same run), table rebuild time, balance, and movement on join/leave, with and without
// bounded loads. Numbers go to bench/README.md ("Placement").
//
//   node --import tsx bench/placement.ts           full run (a few minutes on a busy 2-core machine)
//   node --import tsx bench/placement.ts --quick   fewer repetitions and member sets
//   node --import tsx bench/placement.ts --smoke   a few seconds: checks the bench runs, numbers mean nothing
//   node --import tsx bench/placement.ts --json    also print every measurement as one JSON line
//   node --import tsx bench/placement.ts --only lookups,rebuild   just those sections
//     (sections: lookups, answers, rebuild, balance, movement, bounded, shards)
//   SWIMRING_WASM=0 …                               tables without the wasm module (the JS path)
//
// "lookups" and "answers" compare the paths side by side in one run: the WebAssembly module
// (wasm/swimring.wasm) and the JS code.
import { createRequire } from 'node:module';
import { cpus, loadavg } from 'node:os';
import { PerformanceObserver } from 'node:perf_hooks';
import type { OwnershipTable, PlacementOptions } from '../src/placement/index.js';
import { recordsOf } from '../test/runtime/member-records.js';
import { shipped } from './shipped.js';

// The built code (./shipped.ts says why).
const { buildTable, DEFAULT_REPLICAS, DEFAULT_SHARDS, DEFAULT_VNODES, diffTables } =
  await shipped<typeof import('../src/placement/index.js')>('placement/index.js');
const { jumpUnchecked } = await shipped<typeof import('../src/placement/jump.js')>('placement/jump.js');
const { clearRingCache, lastRankPath } = await shipped<typeof import('../src/placement/ring-cache.js')>('placement/ring-cache.js');
const { hashKeyInto, hashOut } = await shipped<typeof import('../src/placement/key-hash.js')>('placement/key-hash.js');
const { wasmStatus, wasmShard } = await shipped<typeof import('../src/placement/wasm.js')>('placement/wasm.js');
const { fastPathDescription } = await shipped<typeof import('../src/placement/fast-path.js')>('placement/fast-path.js');
const { wasmAnswerWriter } = await shipped<typeof import('../src/runtime/answer-writer.js')>('runtime/answer-writer.js');
const { RouteIndex } = await shipped<typeof import('../src/runtime/route-index.js')>('runtime/route-index.js');
const { serializeEncodedBatch } = await shipped<typeof import('../src/http/serialize.js')>('http/serialize.js');
const { serializeCompactEncodedBatch } = await shipped<typeof import('../src/http/serialize-compact.js')>('http/serialize-compact.js');

interface HashRingLike {
  get(key: string): string;
}
const HashRing = createRequire(import.meta.url)('hashring') as new (servers: string[]) => HashRingLike;

const args = new Set(process.argv.slice(2));
const SMOKE = args.has('--smoke');
const QUICK = args.has('--quick') || SMOKE;
const onlyAt = process.argv.indexOf('--only');
const ONLY = onlyAt >= 0 ? new Set((process.argv[onlyAt + 1] ?? '').split(',')) : null;
const wanted = (section: string): boolean => ONLY === null || ONLY.has(section);
const results: Record<string, unknown> = {};
const defaults: PlacementOptions = { shards: DEFAULT_SHARDS, replicas: DEFAULT_REPLICAS };

function log(line = ''): void {
  process.stdout.write(line + '\n');
}

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Seeded xorshift32, so every run measures the same names and keys. */
function random(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

function podNames(n: number, seed: number): string[] {
  const next = random(seed);
  const names = new Set<string>();
  while (names.size < n) names.add(`pod-${Math.floor(next() * 2 ** 40).toString(36)}`);
  return [...names];
}

/** n distinct ASCII keys of exactly `length` bytes, as flat strings (as keys parsed off the wire are). */
function makeKeys(n: number, length: number, seed: number): string[] {
  const next = random(seed);
  const keys: string[] = [];
  for (let i = 0; i < n; i++) {
    const id = `key:${i.toString(36)}:`;
    let tail = '';
    while (id.length + tail.length < length) tail += String.fromCharCode(97 + Math.floor(next() * 26));
    keys.push((id + tail).slice(0, length));
  }
  return JSON.parse(JSON.stringify(keys)) as string[];
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

// ---- lookups ---------------------------------------------------------------------------------

function swimringPass(t: OwnershipTable, keys: readonly string[], from: number, to: number): number {
  let acc = 0;
  for (let i = from; i < to; i++) {
    const shard = t.shardOf(keys[i]!);
    acc = (acc + shard + (t.ownerOf(shard) === null ? 1 : 0)) | 0;
  }
  return acc;
}

/** The same lookup on the JS path only (what the agent does without WebAssembly). */
function swimringJsPass(t: OwnershipTable, keys: readonly string[], from: number, to: number): number {
  let acc = 0;
  for (let i = from; i < to; i++) {
    hashKeyInto(keys[i]!);
    const shard = jumpUnchecked(hashOut[0]!, hashOut[1]!, t.shards);
    acc = (acc + shard + (t.ownerOf(shard) === null ? 1 : 0)) | 0;
  }
  return acc;
}

/** One fast path's lookup (`shard`, called with the table's shard count) and the table read. */
function fastPathPass(t: OwnershipTable, shard: (key: string, buckets: number) => number, keys: readonly string[], from: number, to: number): number {
  let acc = 0;
  const buckets = t.shards;
  for (let i = from; i < to; i++) {
    const s = shard(keys[i]!, buckets);
    acc = (acc + s + (t.ownerOf(s) === null ? 1 : 0)) | 0;
  }
  return acc;
}

/** The fast paths loaded here: the wasm module (absent with SWIMRING_WASM=0). */
function fastPaths(): Record<string, (key: string, buckets: number) => number> {
  return wasmShard === null ? {} : { wasm: wasmShard };
}

/** The calibration baseline: 32-bit FNV-1a over the UTF-16 code units, jump, table read. */
function fnvJumpPass(owners: readonly (string | null)[], shards: number, keys: readonly string[], from: number, to: number): number {
  let acc = 0;
  for (let i = from; i < to; i++) {
    const key = keys[i]!;
    let h = 0x811c9dc5 | 0;
    for (let c = 0; c < key.length; c++) h = Math.imul(h ^ key.charCodeAt(c), 0x01000193);
    const shard = jumpUnchecked(0, h, shards);
    acc = (acc + shard + (owners[shard] === null ? 1 : 0)) | 0;
  }
  return acc;
}

function hashringPass(ring: HashRingLike, keys: readonly string[], from: number, to: number): number {
  let acc = 0;
  for (let i = from; i < to; i++) acc = (acc + ring.get(keys[i]!).length) | 0;
  return acc;
}

type Timing = { wallMs: number; cpuMs: number };

/**
 * Times each implementation over the same keys, `rounds` times. Within a round the keys go in
 * `chunks` chunks and the implementations take turns chunk by chunk, so a change in the machine's
 * load during the round hits all of them alike; a round's time for an implementation is the sum of
 * its chunks. Returns every round's time per implementation: callers take medians, of rates and of
 * the ratios between implementations within each round.
 */
async function interleaved(rounds: number, chunks: number, runs: Record<string, (from: number, to: number) => number>, n: number): Promise<Record<string, Timing[]>> {
  const names = Object.keys(runs);
  const out: Record<string, Timing[]> = Object.fromEntries(names.map((k) => [k, [] as Timing[]]));
  for (let r = 0; r < rounds; r++) {
    const round: Record<string, Timing> = Object.fromEntries(names.map((k) => [k, { wallMs: 0, cpuMs: 0 }]));
    for (let c = 0; c < chunks; c++) {
      const from = Math.floor((c * n) / chunks);
      const to = Math.floor(((c + 1) * n) / chunks);
      // Rotate who goes first, so no implementation always runs right after the same other one.
      for (let i = 0; i < names.length; i++) {
        const name = names[(i + c + r) % names.length]!;
        const c0 = cpuMs();
        const t0 = performance.now();
        runs[name]!(from, to);
        round[name]!.wallMs += performance.now() - t0;
        round[name]!.cpuMs += cpuMs() - c0;
      }
    }
    for (const name of names) out[name]!.push(round[name]!);
    await new Promise((resolve) => setImmediate(resolve));
  }
  return out;
}

/** Garbage collections during one pass of `run` over all keys (0 means no allocation per lookup). */
async function collectionsDuring(run: () => number): Promise<number> {
  let count = 0;
  const observer = new PerformanceObserver((list) => {
    count += list.getEntries().length;
  });
  observer.observe({ entryTypes: ['gc'] });
  run();
  await new Promise((resolve) => setTimeout(resolve, 50));
  observer.disconnect();
  return count;
}

/** The lookup tables compared, by row: the default shard count first. */
const LOOKUP_SHARDS = [DEFAULT_SHARDS, 65_536, 16_384];

async function benchLookups(): Promise<void> {
  const n = SMOKE ? 20_000 : QUICK ? 200_000 : 1_000_000;
  const rounds = SMOKE ? 1 : QUICK ? 5 : 7;
  const chunks = 10;
  const members = podNames(50, 1);
  const tables = LOOKUP_SHARDS.map((shards) => buildTable(members, { ...defaults, shards }));
  const table = tables[0]!;
  const owners = Array.from({ length: table.shards }, (_, s) => table.ownerOf(s));
  const ring = new HashRing(members);
  log(`## Lookups: ${fmt(n)} distinct keys, 50 members`);
  log('');
  log(`Lookup path of OwnershipTable.shardOf here: ${fastPathDescription()}.`);
  log('');
  log(
    `Every implementation runs over the same keys (after one full warm-up pass each), ${rounds} rounds, in ${chunks} ` +
      'chunks per round taking turns; rates are medians over the rounds, ratios are medians of the ratios within each round.',
  );
  log('');
  log('| keys | implementation | lookups/s (CPU) | lookups/s (wall) | ns/lookup (CPU) | ratio to baseline (CPU) |');
  log('|---|---|---|---|---|---|');
  const out: Record<string, unknown> = {};
  for (const length of [16, 64]) {
    const keys = makeKeys(n, length, length);
    const runs: Record<string, (from: number, to: number) => number> = {};
    tables.forEach((t) => {
      runs[`swimring-${t.shards}`] = (from, to) => swimringPass(t, keys, from, to);
    });
    runs['swimring-js'] = (from, to) => swimringJsPass(table, keys, from, to);
    const paths = fastPaths();
    for (const [path, shard] of Object.entries(paths)) runs[`path-${path}`] = (from, to) => fastPathPass(table, shard, keys, from, to);
    runs['fnv'] = (from, to) => fnvJumpPass(owners, table.shards, keys, from, to);
    if (length === 16) runs['hashring'] = (from, to) => hashringPass(ring, keys, from, to);
    for (const run of Object.values(runs)) run(0, n); // warm up: optimized code, caches as in the rounds
    const t = await interleaved(rounds, chunks, runs, n);
    const rateCpu = (name: string): number => median(t[name]!.map((x) => (n * 1000) / x.cpuMs));
    const rateWall = (name: string): number => median(t[name]!.map((x) => (n * 1000) / x.wallMs));
    /** Median over rounds of (other's time / name's time): how many times faster `name` is. */
    const ratio = (name: string, other: string, key: keyof Timing): number => median(t[name]!.map((x, r) => t[other]![r]![key] / x[key]));
    const row = (name: string, label: string): void =>
      log(
        `| ${length} B | ${label} | ${fmt(rateCpu(name))} | ${fmt(rateWall(name))} | ${fmt(1e9 / rateCpu(name))} | ` +
          `${fmt(ratio(name, 'fnv', 'cpuMs'), 2)} |`,
      );
    tables.forEach((tb, i) => row(`swimring-${tb.shards}`, `swimring: XXH64 + jump + table, ${fmt(tb.shards)} shards${i === 0 ? ' (default)' : ''}`));
    for (const path of Object.keys(paths)) row(`path-${path}`, `swimring, ${path} lookup, ${fmt(table.shards)} shards`);
    row('swimring-js', `swimring, JS path only (no wasm), ${fmt(table.shards)} shards`);
    row('fnv', `FNV-1a + jump + table, ${fmt(table.shards)} shards (baseline)`);
    if (t['hashring']) row('hashring', 'npm hashring 3.2 (ketama, md5)');
    const main = `swimring-${table.shards}`;
    const gcs = await collectionsDuring(() => swimringPass(table, keys, 0, n));
    out[`${length}B`] = {
      rounds: t,
      swimringPerSecCpu: rateCpu(main),
      swimringPerSecWall: rateWall(main),
      byShardsPerSecCpu: Object.fromEntries(tables.map((tb) => [tb.shards, rateCpu(`swimring-${tb.shards}`)])),
      jsPathPerSecCpu: rateCpu('swimring-js'),
      byPathPerSecCpu: Object.fromEntries([...Object.keys(paths), 'js'].map((path) => [path, rateCpu(path === 'js' ? 'swimring-js' : `path-${path}`)])),
      wasmLoaded: wasmStatus.loaded,
      fnvJumpPerSecCpu: rateCpu('fnv'),
      hashringPerSecCpu: t['hashring'] ? rateCpu('hashring') : null,
      swimringGcs: gcs,
      vsHashringCpu: t['hashring'] ? ratio(main, 'hashring', 'cpuMs') : null,
      vsHashringWall: t['hashring'] ? ratio(main, 'hashring', 'wallMs') : null,
      vsFnvJumpCpu: ratio(main, 'fnv', 'cpuMs'),
    };
  }
  log('');
  const gc16 = (out['16B'] as { swimringGcs: number }).swimringGcs;
  const gc64 = (out['64B'] as { swimringGcs: number }).swimringGcs;
  log(`Garbage collections during one more swimring pass over all keys: ${gc16} (16 B), ${gc64} (64 B).`);
  log('');
  const r16 = out['16B'] as { vsHashringCpu: number; vsHashringWall: number; vsFnvJumpCpu: number };
  log(
    `16-byte keys, same run: swimring does ${fmt(r16.vsHashringCpu, 1)}x the lookups of npm hashring per CPU second ` +
      `(${fmt(r16.vsHashringWall, 1)}x by wall time), and ${fmt(r16.vsFnvJumpCpu, 2)}x those of the FNV-1a + jump baseline.`,
  );
  log('');
  results['lookups'] = out;
}

// ---- answers ---------------------------------------------------------------------------------

/**
 * Batch answers (POST /v1/route, both layouts) and single answers (GET /v1/route/:key) as the server
 * writes them, in process, by each answer writer: the wasm module's, and the JS code alone.
 * 10 members, default shards, 2 replicas; batches of 10,000 keys, every tail cached (a warm index).
 */
async function benchAnswers(): Promise<void> {
  const batch = 10_000;
  const batches = SMOKE ? 1 : QUICK ? 20 : 100;
  const rounds = SMOKE ? 1 : QUICK ? 3 : 7;
  const members = podNames(10, 3);
  const table = buildTable(members, defaults);
  const writers = { wasm: wasmAnswerWriter, js: null };
  const indexes = Object.entries(writers)
    .filter(([name, writer]) => name === 'js' || writer !== null)
    .map(([name, writer]) => ({ name, index: new RouteIndex(table, recordsOf(members), writer) }));
  log(`## Route answers in process: batches of ${fmt(batch)} keys and single answers, 10 members, ${fmt(table.shards)} shards`);
  log('');
  log(`Writers here: ${indexes.map((x) => x.name).join(', ')}. ${rounds} rounds of ${batches} batches per writer, taking turns; medians of the rounds (CPU time).`);
  log('');
  log('| keys | writer | compact batch keys/s | full batch keys/s | single answers/s |');
  log('|---|---|---|---|---|');
  const out: Record<string, unknown> = {};
  for (const length of [16, 64]) {
    const keys = makeKeys(batch * 4, length, 1000 + length);
    const slices = Array.from({ length: 4 }, (_, i) => keys.slice(i * batch, (i + 1) * batch));
    for (const { index } of indexes) for (const s of slices) (serializeCompactEncodedBatch(index, s), serializeEncodedBatch(index, s)); // warm: every tail cached
    const work = {
      compact: (index: (typeof indexes)[number]['index'], b: number) => serializeCompactEncodedBatch(index, slices[b % 4]!).body.length,
      full: (index: (typeof indexes)[number]['index'], b: number) => serializeEncodedBatch(index, slices[b % 4]!).body.length,
      text: (index: (typeof indexes)[number]['index'], b: number) => {
        let acc = 0;
        for (const key of slices[b % 4]!) acc += index.answerText(key).length;
        return acc;
      },
    };
    const rates: Record<string, Record<string, number[]>> = {};
    for (let r = 0; r < rounds; r++) {
      for (let w = 0; w < indexes.length; w++) {
        const { name, index } = indexes[(w + r) % indexes.length]!;
        for (const [kind, run] of Object.entries(work)) {
          const c0 = cpuMs();
          for (let b = 0; b < batches; b++) run(index, b);
          ((rates[name] ??= {})[kind] ??= []).push((batches * batch * 1000) / (cpuMs() - c0));
        }
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    const byWriter: Record<string, unknown> = {};
    for (const { name } of indexes) {
      const m = (kind: string): number => median(rates[name]![kind]!);
      log(`| ${length} B | ${name} | ${fmt(m('compact'))} | ${fmt(m('full'))} | ${fmt(m('text'))} |`);
      byWriter[name] = { compactKeysPerSecCpu: m('compact'), fullKeysPerSecCpu: m('full'), singleAnswersPerSecCpu: m('text') };
    }
    out[`${length}B`] = byWriter;
  }
  log('');
  results['answers'] = out;
}

// ---- rebuild ---------------------------------------------------------------------------------

function benchRebuild(): void {
  log(`## Table rebuild (defaults: ${fmt(DEFAULT_SHARDS)} shards, ${DEFAULT_VNODES} vnodes, ${DEFAULT_REPLICAS} replicas; median, CPU ms)`);
  log('');
  log('| members | fresh build | after one join | after one leave |');
  log('|---|---|---|---|');
  const out: Record<string, unknown> = {};
  for (const n of [50, 1000, 10000]) {
    const reps = n === 10000 ? (QUICK ? 1 : 2) : QUICK ? 2 : 4;
    const fresh: number[] = [];
    const join: number[] = [];
    const leave: number[] = [];
    const members = podNames(n, 7);
    for (let r = 0; r < reps; r++) {
      clearRingCache();
      let c0 = cpuMs();
      buildTable(members, defaults);
      fresh.push(cpuMs() - c0);
      c0 = cpuMs();
      buildTable([...members, `joiner-${r}`], defaults);
      join.push(cpuMs() - c0);
      if (lastRankPath() !== 'patched') throw new Error('expected a patched build');
      c0 = cpuMs();
      buildTable(members.filter((_, i) => i !== r), defaults);
      leave.push(cpuMs() - c0);
    }
    log(`| ${fmt(n)} | ${fmt(median(fresh))} | ${fmt(median(join))} | ${fmt(median(leave))} |`);
    out[n] = { freshMs: median(fresh), joinMs: median(join), leaveMs: median(leave) };
  }
  log('');
  results['rebuild'] = out;
}

// ---- balance and movement -----------------------------------------------------------------------

function shareStats(t: OwnershipTable): { max: number; min: number } {
  const counts = Object.values(t.shardsPerMember());
  const mean = t.shards / counts.length;
  return { max: Math.max(...counts) / mean, min: Math.min(...counts) / mean };
}

function ownerMoves(a: OwnershipTable, b: OwnershipTable): number {
  return diffTables(a, b).filter((m) => m.role === 'owner').length;
}

function benchBalance(): void {
  const sets = QUICK ? 3 : 10;
  log(`## Balance with the defaults (shards per member / mean; ${sets} random member sets per size, 3 at 1,000)`);
  log('');
  log('| members | max/mean (mean of sets) | max/mean (worst) | min/mean (mean of sets) | min/mean (worst) |');
  log('|---|---|---|---|---|');
  const out: Record<string, unknown> = {};
  for (const n of [10, 50, 200, 1000]) {
    const stats = Array.from({ length: n === 1000 ? Math.min(3, sets) : sets }, (_, s) => shareStats(buildTable(podNames(n, 100 + s), defaults)));
    const meanMax = stats.reduce((a, s) => a + s.max, 0) / stats.length;
    const worstMax = Math.max(...stats.map((s) => s.max));
    const meanMin = stats.reduce((a, s) => a + s.min, 0) / stats.length;
    const worstMin = Math.min(...stats.map((s) => s.min));
    log(`| ${fmt(n)} | ${meanMax.toFixed(3)} | ${worstMax.toFixed(3)} | ${meanMin.toFixed(3)} | ${worstMin.toFixed(3)} |`);
    out[n] = { meanMax, worstMax, meanMin, worstMin };
  }
  log('');
  results['balance'] = out;
}

function benchMovement(label: string, opts: PlacementOptions): Record<string, unknown> {
  const sets = QUICK ? 3 : 8;
  log(`## Movement on one join / one leave, ${label} (moved share of keys x n; 1.00 is the minimum possible; ${sets} sets)`);
  log('');
  log('| members n | join: mean | join: worst | leave: mean | leave: worst | bound 1.1 held |');
  log('|---|---|---|---|---|---|');
  const out: Record<string, unknown> = {};
  for (const n of [10, 50, 200]) {
    const joins: number[] = [];
    const leaves: number[] = [];
    for (let s = 0; s < sets; s++) {
      const names = podNames(n, 1000 + s);
      const full = buildTable(names, opts);
      const without = buildTable(names.slice(1), opts);
      joins.push((ownerMoves(without, full) / opts.shards) * n); // names[0] joins n - 1
      const leaver = buildTable(names.filter((_, i) => i !== 1), opts);
      leaves.push((ownerMoves(full, leaver) / opts.shards) * n); // names[1] leaves n
    }
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    const held = Math.max(...joins, ...leaves) <= 1.1;
    log(`| ${n} | ${mean(joins).toFixed(3)} | ${Math.max(...joins).toFixed(3)} | ${mean(leaves).toFixed(3)} | ${Math.max(...leaves).toFixed(3)} | ${held ? 'yes' : 'no'} |`);
    out[n] = { joinMean: mean(joins), joinWorst: Math.max(...joins), leaveMean: mean(leaves), leaveWorst: Math.max(...leaves) };
  }
  log('');
  return out;
}

/** Moved keys counted with real keys instead of shards, once, as a check that the two agree. */
function benchMovementByKeys(): void {
  const n = 50;
  const names = podNames(n, 4242);
  const keys = makeKeys(QUICK ? 100_000 : 400_000, 16, 99);
  const full = buildTable(names, defaults);
  const without = buildTable(names.slice(1), defaults);
  let moved = 0;
  for (const k of keys) if (full.ownerOf(full.shardOf(k)) !== without.ownerOf(without.shardOf(k))) moved++;
  const byKeys = (moved / keys.length) * n;
  const byShards = (ownerMoves(without, full) / DEFAULT_SHARDS) * n;
  log(`Check with real keys (n = 50, one join, ${fmt(keys.length)} keys): moved share x n = ${byKeys.toFixed(3)} by keys, ${byShards.toFixed(3)} by shards.`);
  log('');
  results['movementByKeys'] = { byKeys, byShards };
}

function benchBounded(): void {
  const n = 50;
  const sets = QUICK ? 2 : 5;
  log(`## Bounded loads (option; n = ${n}, defaults otherwise, ${sets} sets)`);
  log('');
  log('| factor c | max/mean (worst) | moved x n on join (mean) | moved x n on leave (mean) | shards moved between members that stayed (join, mean) |');
  log('|---|---|---|---|---|');
  const out: Record<string, unknown> = {};
  for (const c of [null, 1.05, 1.02]) {
    const opts: PlacementOptions = { ...defaults, boundedLoad: c };
    let worstMax = 0;
    let join = 0;
    let leave = 0;
    let collateral = 0;
    for (let s = 0; s < sets; s++) {
      const names = podNames(n, 5000 + s);
      const full = buildTable(names, opts);
      worstMax = Math.max(worstMax, shareStats(full).max);
      const without = buildTable(names.slice(1), opts);
      const joinMoves = diffTables(without, full).filter((m) => m.role === 'owner');
      join += (joinMoves.length / DEFAULT_SHARDS) * n;
      collateral += joinMoves.filter((m) => m.to !== names[0]).length;
      const leaver = buildTable(names.filter((_, i) => i !== 1), opts);
      leave += (ownerMoves(full, leaver) / DEFAULT_SHARDS) * n;
    }
    log(`| ${c ?? 'off'} | ${worstMax.toFixed(3)} | ${(join / sets).toFixed(3)} | ${(leave / sets).toFixed(3)} | ${fmt(collateral / sets)} |`);
    out[String(c ?? 'off')] = { worstMax, joinMean: join / sets, leaveMean: leave / sets, collateralJoinMean: collateral / sets };
  }
  log('');
  results['bounded'] = out;
}

/**
 * The shard-count trade-off behind DEFAULT_SHARDS: fewer shards make lookups faster (see the lookup
 * rows) but coarser. For each candidate: at n = 200, in how many (member set, member) cases that
 * member's leave would move more than 1.1/n of the keys (its shard count over the mean), and the
 * worst such share; at n = 50, the worst max/mean.
 */
function benchShardChoice(): void {
  const sets = QUICK ? 5 : 20;
  log(`## Shard count: the movement and balance bounds (${sets} member sets per cell)`);
  log('');
  log('| shards | n = 200: leaves moving > 1.1/n | n = 200: worst moved share x n | n = 50: worst max/mean |');
  log('|---|---|---|---|');
  const out: Record<string, unknown> = {};
  for (const shards of LOOKUP_SHARDS) {
    const opts: PlacementOptions = { ...defaults, shards };
    let over = 0;
    let worst = 0;
    let worst50 = 0;
    for (let s = 0; s < sets; s++) {
      for (const c of Object.values(buildTable(podNames(200, 1000 + s), opts).shardsPerMember())) {
        const share = c / (shards / 200);
        worst = Math.max(worst, share);
        if (share > 1.1) over++;
      }
      worst50 = Math.max(worst50, shareStats(buildTable(podNames(50, 100 + s), opts)).max);
    }
    log(`| ${fmt(shards)} | ${over} of ${fmt(200 * sets)} | ${worst.toFixed(3)} | ${worst50.toFixed(3)} |`);
    out[shards] = { overBound: over, cases: 200 * sets, worstShare: worst, worstMaxOverMean50: worst50 };
  }
  log('');
  results['shardChoice'] = out;
}

async function main(): Promise<void> {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  const loadBefore = loadavg().map((x) => x.toFixed(2)).join(' ');
  log(`# Placement benchmark — node ${process.version}, ${cpus().length} x ${cpu}, load average ${loadBefore}${QUICK ? ' (quick)' : ''}`);
  log('');
  if (wanted('lookups')) await benchLookups();
  if (wanted('answers')) await benchAnswers();
  if (wanted('rebuild')) benchRebuild();
  if (wanted('balance')) benchBalance();
  if (wanted('movement')) {
    results['movement'] = benchMovement('defaults', defaults);
    benchMovementByKeys();
  }
  if (wanted('bounded')) benchBounded();
  if (wanted('shards')) benchShardChoice();
  log(`load average at the end: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  if (args.has('--json')) log(JSON.stringify({ node: process.version, cpu, quick: QUICK, results }));
}

await main();
