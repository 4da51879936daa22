// Simulator benchmark (bench/README.md, "Simulator"): LAN profile, cold start of N members at once,
// crash detection, steady-state traffic, and what a simulated second costs in wall-clock and CPU time.
//
//   node --import tsx bench/sim.ts                 # 100, 1,000, 2,000 members + the 10,000-member engine run
//   node --import tsx bench/sim.ts --sizes 100     # just one size
//   node --import tsx bench/sim.ts --full 10000    # also try full SWIM at 10,000 (needs a big heap: see README)
//   node --expose-gc --import tsx bench/sim.ts --sizes 5000 --duration 3 --engine-members 0   # a cold start alone
//   node --expose-gc --import tsx bench/sim.ts --sizes 10000 --start converged --duration 45 --engine-members 0
//   options: --start cold|converged (converged: every member starts holding everyone, as `swimring sim
//   --start converged`; the steady state and the faults without the cold start), --seed S, --budget-min M (wall budget per run, default 30), --duration S (simulated seconds
//   instead of the size's plan), --json. With --expose-gc the live heap is measured (after a full GC) at
//   3 simulated seconds, the peak of a cold start, and at the end: V8 heap plus typed arrays, and per
//   member pair.
import { parseArgs } from 'node:util';
import { getHeapStatistics } from 'node:v8';
import { profileConfig } from '../src/core/config.js';
import { seededRandom } from '../src/core/random.js';
import type { Effect, MemberRecord, Packet, Random } from '../src/core/types.js';
import type { SimCore, SimCoreOptions } from '../src/sim/core-port.js';
import { runScenario, type SimReport } from '../src/sim/scenario.js';
import { Simulator } from '../src/sim/simulator.js';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '100,1000,2000' },
    full: { type: 'string' },
    seed: { type: 'string', default: '1' },
    'budget-min': { type: 'string', default: '30' },
    'engine-members': { type: 'string', default: '10000' },
    duration: { type: 'string' },
    start: { type: 'string', default: 'cold' },
    json: { type: 'boolean', default: false },
  },
});
const seed = Number(values.seed);
if (values.start !== 'cold' && values.start !== 'converged') throw new Error(`--start must be cold or converged (got ${values.start})`);
const start: 'cold' | 'converged' = values.start;
const budgetMs = Number(values['budget-min']) * 60_000;
const log = (line: string): void => void process.stderr.write(`${line}\n`);

/** Crashed members and simulated duration per size: enough time to converge, settle, measure, detect. */
function plan(members: number): { crash: number; durationS: number } {
  // Cold-start convergence grows about linearly with N (~35 s per 1,000 on LAN); push-pull's period
  // (180-240 s at 1,000-10,000) should fit after settling so its traffic is averaged over one.
  if (members <= 100) return { crash: 3, durationS: 150 };
  return { crash: 10, durationS: Math.round(120 + 0.15 * members) };
}

/** Live memory (after a full GC): V8 heap and typed arrays, MB, at the cold start's peak and at the end. */
interface LiveMemory {
  atS: number;
  heapMb: number;
  arraysMb: number;
  bytesPerPair: number;
}

const gc = (globalThis as { gc?: () => void }).gc;
const memory = new Map<number, LiveMemory[]>();

/** Live bytes after a full GC (null without --expose-gc). */
function liveBytes(): { heap: number; arrays: number } | null {
  if (gc === undefined) return null;
  gc();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, arrays: m.arrayBuffers };
}

/** Live memory now; per member pair, what the run holds beyond what the process held before it (`base`). */
function liveMemory(members: number, atS: number, base: number): LiveMemory | null {
  const live = liveBytes();
  if (live === null) return null;
  const bytesPerPair = Math.round((10 * (live.heap + live.arrays - base)) / members ** 2) / 10;
  return { atS, heapMb: Math.round(live.heap / 1e6), arraysMb: Math.round(live.arrays / 1e6), bytesPerPair };
}

function runSize(members: number): SimReport {
  const planned = plan(members);
  const crash = planned.crash;
  const durationS = values.duration === undefined ? planned.durationS : Number(values.duration);
  const samples: LiveMemory[] = [];
  memory.set(members, samples);
  /** Whole simulated seconds at which live memory is sampled: the cold start's peak, and the last second. */
  const sampleAt = new Set([1, 3, durationS - 1]);
  const before = liveBytes();
  const base = before === null ? 0 : before.heap + before.arrays;
  const started = performance.now();
  const cpuAtStart = process.cpuUsage();
  const heapLimit = getHeapStatistics().heap_size_limit;
  let nextNote = 0;
  log(`-- ${members} members: LAN, ${start} start, seed ${seed}, crash ${crash}, ${durationS} s simulated (budget ${budgetMs / 60_000} min)`);
  const report = runScenario({
    members,
    seed,
    profile: 'lan',
    loss: 0,
    crash,
    pauseCount: 0,
    pauseSeconds: 0,
    durationS,
    start,
    progress: (p) => {
      const whole = Math.floor(p.simS);
      if (sampleAt.delete(whole)) {
        const live = liveMemory(members, whole, base);
        if (live !== null) samples.push(live);
      }
      if (p.wallS < nextNote) return;
      nextNote = p.wallS + 15;
      const heapMb = process.memoryUsage().heapUsed / 1e6;
      const cpu = process.cpuUsage(cpuAtStart);
      const cpuS = (cpu.user + cpu.system) / 1e6;
      log(`   ${p.phase.padEnd(8)} ${p.simS.toFixed(0).padStart(4)} s simulated, ${p.wallS.toFixed(0).padStart(5)} s wall, ${cpuS.toFixed(0).padStart(5)} s CPU, heap ${heapMb.toFixed(0)} MB`);
    },
    abort: () => {
      if (performance.now() - started > budgetMs) return `wall budget of ${budgetMs / 60_000} min spent`;
      if (process.memoryUsage().heapUsed > 0.85 * heapLimit) return `heap near its limit (${(heapLimit / 1e9).toFixed(1)} GB)`;
      return null;
    },
  });
  log(`   done in ${report.wall_s.toFixed(0)} s wall${report.aborted === null ? '' : ` (stopped: ${report.aborted})`}`);
  return report;
}

/**
 * The engine alone at a size full SWIM cannot reach here: a stand-in core with SWIM's steady-state
 * traffic shape (one ping per second to a random member, answered by an ack, timers at each period).
 */
class SteadyTrafficCore implements SimCore {
  private nextProbe: number;
  private seq = 0;
  constructor(
    private readonly options: SimCoreOptions,
    private readonly peers: readonly string[],
    private readonly random: Random,
  ) {
    this.nextProbe = options.now + random.next() * options.config.probeIntervalMs;
  }
  tick(now: number): Effect[] {
    if (now < this.nextProbe) return [];
    this.nextProbe += this.options.config.probeIntervalMs;
    const to = this.peers[this.random.int(this.peers.length)] ?? '';
    const packet: Packet = { message: { type: 'ping', seq: ++this.seq, from: this.options.name, fromAddr: this.options.gossipAddr, target: to }, updates: [] };
    return to === this.options.gossipAddr ? [] : [{ type: 'send', to, packet }];
  }
  receive(from: string, packet: Packet): Effect[] {
    const m = packet.message;
    if (m === null || m.type !== 'ping') return [];
    return [{ type: 'send', to: from, packet: { message: { type: 'ack', seq: m.seq, from: this.options.name }, updates: [] } }];
  }
  join(): Effect[] {
    return [];
  }
  onNegotiate(): { reply: MemberRecord[]; effects: Effect[] } {
    return { reply: [], effects: [] };
  }
  onNegotiateReply(): Effect[] {
    return [];
  }
  onNegotiateFailed(): Effect[] {
    return [];
  }
  onClosing(): Effect[] {
    return [];
  }
  leave(): Effect[] {
    return [];
  }
  nextDeadline(): number {
    return this.nextProbe;
  }
  members(): MemberRecord[] {
    return [];
  }
  member(): MemberRecord | undefined {
    return undefined;
  }
  pendingBroadcasts(): number {
    return 0;
  }
}

interface EngineResult {
  members: number;
  simS: number;
  wallPerSimS: number;
  cpuPerSimS: number;
  eventsPerSimS: number;
}

function runEngineOnly(members: number): EngineResult {
  log(`-- engine only (stand-in cores with SWIM's steady traffic): ${members} members, 60 s simulated`);
  const peers: string[] = [];
  let n = 0;
  const sim = new Simulator({
    seed,
    config: profileConfig('lan'),
    capacity: members,
    createCore: (o) => new SteadyTrafficCore(o, peers, seededRandom(seed * 7919 + n++)),
  });
  for (let i = 0; i < members; i++) peers.push(sim.addNode().gossipAddr);
  for (const node of sim.nodes) sim.join(node, []);
  sim.runUntil(5_000); // let the staggered first probes spread out
  const wall = performance.now();
  const cpu = process.cpuUsage();
  const events = sim.eventsProcessed;
  sim.runUntil(65_000);
  const c = process.cpuUsage(cpu);
  return {
    members,
    simS: 60,
    wallPerSimS: (performance.now() - wall) / 1000 / 60,
    cpuPerSimS: (c.user + c.system) / 1e6 / 60,
    eventsPerSimS: (sim.eventsProcessed - events) / 60,
  };
}

function cell(v: number | null, digits = 1): string {
  return v === null ? 'n/a' : v.toFixed(digits);
}

const sizes = values.sizes
  .split(',')
  .filter((s) => s.trim() !== '')
  .map(Number);
if (values.full !== undefined) sizes.push(Number(values.full));
const reports = sizes.map(runSize);
const engine = Number(values['engine-members']) > 0 ? runEngineOnly(Number(values['engine-members'])) : null;

if (values.json) {
  process.stdout.write(`${JSON.stringify({ reports, engine, memory: Object.fromEntries(memory) }, null, 2)}\n`);
} else {
  const lines = [
    '| members | converged (s) | first suspect median / max (s) | dead everywhere median / max (s) | bytes / member / s | msgs / member / s | push-pull bytes / member / s | steady wall (cpu) s per sim s | run wall s | sim s per wall s | live heap + arrays MB (B / pair) |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
    ...reports.map(
      (r) =>
        `| ${r.members} | ${cell(r.convergence_s)}${r.aborted === null ? '' : ` (stopped: ${r.aborted}; ${(100 * r.alive_view_fraction).toFixed(1)}% of views at ${r.sim_s.toFixed(0)} s)`} | ` +
        `${cell(r.detection_first_suspect_s)} / ${cell(r.detection_first_suspect_s_max)} | ${cell(r.detection_all_dead_s)} / ${cell(r.detection_all_dead_s_max)} | ` +
        `${cell(r.bytes_per_member_per_s)} | ${cell(r.messages_per_member_per_s, 2)} | ${cell(r.rpc_bytes_per_member_per_s)} | ` +
        `${cell(r.steady_wall_per_sim_s, 3)} (${cell(r.steady_cpu_per_sim_s, 3)}) | ${r.wall_s.toFixed(0)} | ${(r.sim_s / r.wall_s).toFixed(3)} | ` +
        `${(memory.get(r.members) ?? []).map((m) => `${m.atS} s: ${m.heapMb} + ${m.arraysMb} (${m.bytesPerPair})`).join(', ') || 'n/a (--expose-gc)'} |`,
    ),
  ];
  if (engine !== null) {
    lines.push(
      '',
      `engine only, ${engine.members} members (stand-in cores, SWIM steady-state traffic): ` +
        `${engine.wallPerSimS.toFixed(3)} s wall (${engine.cpuPerSimS.toFixed(3)} s cpu) per simulated s, ${engine.eventsPerSimS.toFixed(0)} events per simulated s`,
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}
