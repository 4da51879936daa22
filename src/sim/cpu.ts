// The host's CPU, for runs where it, not the network, sets the pace: many members on a few cores, as
// when a whole cluster starts at once on one machine. Without it a simulated member starts, answers and
// builds its tables at no cost, and a cold start converges in a few gossip rounds; a real one spends
// hundreds of milliseconds of CPU to start and tens per table build, on cores it shares with every
// other member, and packets wait while its event loop is busy.
//
// The model: each member's work runs in order (one event loop), and the cores are shared equally by
// every member with work pending (processor sharing, as the kernel's fair scheduler does over a
// window). While a member has work pending it handles nothing: its UDP is buffered, its RPCs wait, its
// timers fire late, as the simulator's pause does.

/** What each piece of a member's work costs in CPU, and how many cores the members share. */
export interface CpuCosts {
  /** Cores the members share. */
  readonly cores: number;
  /** CPU a member's process spends starting, before it joins (ms). */
  readonly startMs: number;
  /** CPU of one ownership-table build (ms). */
  readonly tableBuildMs: number;
  /** CPU of handling one input: a packet, a timer, an RPC or its answer (ms). */
  readonly inputMs: number;
  /**
   * CPU a member spends once, in its loop, right after it asks to join: code that runs for the first
   * time (the join's merge, the first RPCs served and sent, the first table build's set-up) is compiled
   * and its caches filled then (ms).
   */
  readonly warmupMs: number;
}

/**
 * Defaults read off the agent on this project's 2-core benchmark machine (bench/README.md, "The
 * simulator's CPU model"): the CPU an agent spends up to `member started`, one table build at the default
 * shard count (bench/table-build-cpu.ts), an idle agent's CPU per wake-up, and a warm-up fitted to the CPU
 * a 10-member cold start spends; larger clusters are predictions.
 */
export const AGENT_CPU_COSTS: CpuCosts = Object.freeze({ cores: 2, startMs: 100, warmupMs: 90, tableBuildMs: 40, inputMs: 1 });

/** What the engine does for the CPU model: stop and restart a member's event loop, and wake the model. */
export interface CpuEngine {
  /** The member's loop is busy from now on: it handles nothing until released. */
  hold(owner: string): void;
  /** The member's work is done: it handles what waited, timers first. */
  release(owner: string): void;
  /** Calls `fire` with the virtual time once it has reached `at` (after everything already scheduled for then). */
  at(at: number, fire: (now: number) => void): void;
}

interface PendingWork {
  /** CPU ms still to run. */
  remaining: number;
  /** Called when the work is done (before the member is released). */
  readonly done: ((now: number) => void)[];
}

/** Below this much CPU left, work counts as done (floating-point rest of the sharing). */
const EPSILON_MS = 1e-6;

export class HostCpu {
  private readonly pending = new Map<string, PendingWork>();
  private engine: CpuEngine | null = null;
  /** Virtual time the pending work was last brought up to date. */
  private updatedAt = 0;
  /** The completion wake-up that counts (older ones are stale). */
  private wakeGen = 0;
  private loads = 0;
  /** When the last member's start was done (virtual ms); -Infinity before the first. */
  lastStartedAt = Number.NEGATIVE_INFINITY;
  /** CPU ms charged so far, by kind. */
  readonly charged = { start: 0, warmup: 0, build: 0, input: 0, load: 0 };

  constructor(readonly costs: CpuCosts) {
    if (!(costs.cores > 0)) throw new Error(`a CPU model needs at least one core (got ${costs.cores})`);
  }

  /** The simulator attaches itself; one engine per model. */
  attach(engine: CpuEngine): void {
    if (this.engine !== null && this.engine !== engine) throw new Error('this CPU model already drives another simulator');
    this.engine = engine;
  }

  /** A member's process starts: it joins once this is done. */
  start(owner: string, now: number): void {
    this.charged.start += this.costs.startMs;
    this.run(owner, now, this.costs.startMs, (doneAt) => {
      this.lastStartedAt = Math.max(this.lastStartedAt, doneAt);
    });
  }

  /** A member asked to join: its first rounds of new work. */
  warmup(owner: string, now: number): void {
    if (this.costs.warmupMs <= 0) return;
    this.charged.warmup += this.costs.warmupMs;
    this.run(owner, now, this.costs.warmupMs);
  }

  /** A member handled one input. */
  input(owner: string, now: number): void {
    if (this.costs.inputMs <= 0) return;
    this.charged.input += this.costs.inputMs;
    this.run(owner, now, this.costs.inputMs);
  }

  /**
   * A member builds a table; `done` runs when the build's CPU has run. The build takes its share of the
   * cores beside the member's loop, not in it: the agent builds in short steps that yield to the loop
   * between them (or on its worker thread), so input waits for a step, not for the whole build.
   */
  tableBuild(owner: string, now: number, done: (now: number) => void): void {
    this.charged.build += this.costs.tableBuildMs;
    this.run(`\u0000build-${owner}`, now, this.costs.tableBuildMs, done);
  }

  /** CPU taken beside a member's loop (another process starting): it slows the members down, holds none. */
  load(now: number, ms: number): void {
    this.charged.load += ms;
    this.run(`\u0000load-${++this.loads}`, now, ms);
  }

  private run(owner: string, now: number, ms: number, done?: (now: number) => void): void {
    const engine = this.engine;
    if (engine === null) throw new Error('the CPU model is not attached to a simulator');
    this.advance(now);
    let work = this.pending.get(owner);
    if (work === undefined) {
      work = { remaining: 0, done: [] };
      this.pending.set(owner, work);
      if (!owner.startsWith('\u0000')) engine.hold(owner);
    }
    work.remaining += ms;
    if (done !== undefined) work.done.push(done);
    this.schedule(now);
  }

  /** Runs every pending piece of work from the last update to `now` at its share of the cores. */
  private advance(now: number): void {
    const elapsed = now - this.updatedAt;
    this.updatedAt = now;
    if (elapsed <= 0 || this.pending.size === 0) return;
    const rate = Math.min(1, this.costs.cores / this.pending.size);
    for (const work of this.pending.values()) work.remaining -= elapsed * rate;
  }

  /** One wake-up, when the work with the least left will be done at today's sharing. */
  private schedule(now: number): void {
    const engine = this.engine;
    if (engine === null || this.pending.size === 0) return;
    let least = Number.POSITIVE_INFINITY;
    for (const work of this.pending.values()) least = Math.min(least, work.remaining);
    const rate = Math.min(1, this.costs.cores / this.pending.size);
    const gen = ++this.wakeGen;
    engine.at(now + Math.max(0, least) / rate, (at) => {
      if (gen === this.wakeGen) this.complete(at);
    });
  }

  /** Finishes what is done by `now`, releases its members, and plans the next wake-up. */
  private complete(now: number): void {
    const engine = this.engine;
    if (engine === null) return;
    this.advance(now);
    const finished: [string, PendingWork][] = [];
    for (const entry of this.pending) if (entry[1].remaining <= EPSILON_MS) finished.push(entry);
    for (const [owner] of finished) this.pending.delete(owner);
    for (const [owner, work] of finished) {
      for (const done of work.done) done(now);
      if (!owner.startsWith('\u0000')) engine.release(owner);
    }
    this.schedule(now);
  }
}
