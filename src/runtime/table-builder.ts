// Builds ownership tables for the runtime: asks for a table for a member set, coalesces requests that
// arrive while a build runs (only the newest set matters), and hands finished tables back, always
// asynchronously.
//
// Where a build runs is chosen for memory as much as for time. A worker thread would keep the event
// loop free during a long build, but its isolate costs memory of its own while it lives, and a sidecar is
// idle nearly all the time. So builds run on the main thread a slice at a time: placement's build and
// the move summary are written as steps of a few milliseconds (placement/steps.ts), and the builder
// runs steps for up to sliceMs, then lets the event loop answer probes and requests before the next
// slice. Only when a single step takes more of the main thread's CPU time than the budget (a very slow
// machine) do later builds go to a worker, started on demand and ended after a quiet spell. Placement's ring cache,
// which speeds up a burst of joins, is likewise dropped once the burst is over.
//
// The tuning can still send the first table of several members (built while the member joins, with
// placement's code not yet compiled) or every build above a shard count to the worker.
import { Worker } from 'node:worker_threads';
import { buildTable, MAX_SHARDS, PlacementTable, type PlacementOptions } from '../placement/index.js';
import { buildTableSteps } from '../placement/table.js';
import { type Steps } from '../placement/steps.js';
import { clearRingCache } from '../placement/ring-cache.js';
import { releaseRingScratch } from '../placement/ring-rank.js';
import { compactHeap } from './heap-tuning.js';
import { summarizeBuiltSteps, type MoveSummary } from './table-moves.js';
import { tableInit, type BuildReply, type BuildRequest } from './table-worker.js';
import { threadCpuClock, type CpuClock } from './thread-cpu.js';

export interface BuiltTable {
  readonly table: PlacementTable;
  readonly moves: MoveSummary;
  /** Wall time from request to answer, ms. */
  readonly elapsedMs: number;
  /** Where it was built. */
  readonly where: 'inline' | 'worker';
}

export interface TableBuilderTuning {
  /** Shard count up to which builds start on the main thread. */
  readonly inlineMaxShards: number;
  /** Shard count up to which the first build of several members may run on the main thread too. */
  readonly firstInlineMaxShards: number;
  /** An inline build step (of a build or its move summary) using more CPU time than this sends every later build to the worker. */
  readonly inlineBudgetMs: number;
  /** What a step's CPU time is read from: the main thread's own where the platform tells (thread-cpu.ts). */
  readonly stepClock: CpuClock;
  /** How long an inline build runs steps before it lets the event loop take its turn, ms. */
  readonly sliceMs: number;
  /** Quiet time after the last build before the worker is ended and the ring cache dropped, ms. */
  readonly idleMs: number;
  /**
   * Runs once per quiet spell, after the worker has ended and the ring cache is dropped: the burst's
   * garbage (old tables, the worker's messages) is collectable now. By default a full collection when
   * the agent enabled it (heap-tuning.ts), else nothing.
   */
  readonly afterBurst: () => void;
  /**
   * Whether an inline build's move summary lists the moved shards in groups, asked as the summary starts:
   * only watchers read them (the log and the metrics need the counts). By default always.
   */
  readonly groupMoves: () => boolean;
}

/**
 * A step is a few milliseconds of work on a warm machine, against a 500 ms LAN probe timeout; the
 * budget catches slow machines, where the worker keeps the loop free at the cost of its isolate.
 */
export const DEFAULT_TUNING: TableBuilderTuning = Object.freeze({
  inlineMaxShards: MAX_SHARDS,
  firstInlineMaxShards: MAX_SHARDS,
  inlineBudgetMs: 50,
  stepClock: threadCpuClock().now,
  sliceMs: 8,
  idleMs: 10_000,
  afterBurst: () => void compactHeap(),
  groupMoves: () => true,
});

export class TableBuilder {
  private worker: Worker | null = null;
  /** Whether the running worker holds `last` as its previous table (a new worker does not). */
  private workerHasLast = false;
  private nextId = 1;
  private inFlight: { id: number; members: readonly string[]; startedAt: number } | null = null;
  private pending: readonly string[] | null = null;
  private lastKey: string;
  /** The last table handed out: the base of the next move summary. */
  private last: PlacementTable | null = null;
  private inline: boolean;
  /** Set when the worker failed: every build stays on the main thread. */
  private workerFailed = false;
  /** A build of several members has been started: the next one is not the member's first. */
  private builtSeveral = false;
  private idleTimer: NodeJS.Timeout | null = null;
  private closed = false;
  /** The inline build between two of its slices, if any (ended on close, so it lets go of the ring cache). */
  private suspended: Steps<unknown> | null = null;
  /** Event-loop turns the last inline build took. */
  private lastSlices = 0;
  private readonly tuning: TableBuilderTuning;

  constructor(
    private readonly options: PlacementOptions,
    private readonly onBuilt: (built: BuiltTable) => void,
    private readonly onError: (message: string) => void,
    tuning: Partial<TableBuilderTuning> = {},
  ) {
    this.tuning = { ...DEFAULT_TUNING, ...tuning };
    this.inline = (options.shards ?? Infinity) <= this.tuning.inlineMaxShards;
    this.lastKey = keyOf([]);
  }

  /** The table of no members, built here (it is trivial) so answers exist before the first build. */
  emptyTable(): PlacementTable {
    return buildTable([], this.options);
  }

  /** Asks for the table of `members` (sorted or not); a no-op when that set is the last one asked for. */
  request(members: readonly string[]): void {
    if (this.closed) return;
    const { sorted, key } = ownerSet(members);
    // Already asked for (in flight, or queued behind the build in flight): nothing to add.
    if (key === this.lastKey) return;
    this.lastKey = key;
    this.cancelIdle();
    if (this.inFlight) {
      this.pending = sorted;
      return;
    }
    this.start(sorted);
  }

  get busy(): boolean {
    return this.inFlight !== null;
  }

  /** Whether a worker thread exists right now (for tests and the memory benchmark). */
  get workerAlive(): boolean {
    return this.worker !== null;
  }

  /** Event-loop turns (slices) the last inline build took: for tests. */
  get inlineSlices(): number {
    return this.lastSlices;
  }

  /** Whether the next build of several members would run on the main thread. */
  get buildsInline(): boolean {
    return this.runsInline(false);
  }

  /** Where a build goes (the module comment says why). */
  private runsInline(trivial: boolean): boolean {
    // The table of one member (or none) is a fill, whatever the shard count: no worker for it, so an
    // agent bootstrapping alone is ready without starting a thread and its isolate.
    if (trivial || this.workerFailed) return true;
    if (!this.inline || this.worker !== null) return false;
    return this.builtSeveral || (this.options.shards ?? Infinity) <= this.tuning.firstInlineMaxShards;
  }

  private start(members: readonly string[]): void {
    const id = this.nextId++;
    this.inFlight = { id, members, startedAt: performance.now() };
    const trivial = members.length <= 1;
    const inline = this.runsInline(trivial);
    if (!trivial) this.builtSeveral = true;
    if (inline) {
      // Later in this turn more changes may arrive (a batch of effects): they coalesce into `pending`.
      setImmediate(() => this.buildInline(id, members, trivial));
      return;
    }
    const worker = this.ensureWorker();
    const req: BuildRequest = { id, members, options: this.options, ...(this.workerHasLast || this.last === null ? {} : { previous: tableInit(this.last) }) };
    this.workerHasLast = true;
    worker.postMessage(req);
  }

  private buildInline(id: number, members: readonly string[], trivial: boolean): void {
    const flight = this.inFlight;
    if (this.closed || !flight || flight.id !== id) return;
    const steps = this.buildSteps(members);
    this.suspended = steps;
    this.lastSlices = 0;
    let longestStepMs = 0;
    const slice = (): void => {
      if (this.closed) return;
      this.lastSlices++;
      const sliceStart = performance.now();
      let result: IteratorResult<void, { table: PlacementTable; moves: MoveSummary }>;
      try {
        do {
          // CPU time, not wall time: on a machine busy with other work a step's wall time says more
          // about the machine than about the build, and a worker would compete for the same cores.
          const stepStart = this.tuning.stepClock();
          result = steps.next();
          longestStepMs = Math.max(longestStepMs, this.tuning.stepClock() - stepStart);
        } while (result.done !== true && performance.now() - sliceStart < this.tuning.sliceMs);
      } catch (err) {
        this.endInline(flight, null, err instanceof Error ? err.message : String(err), trivial, longestStepMs);
        return;
      }
      if (result.done !== true) setImmediate(slice);
      else this.endInline(flight, result.value, '', trivial, longestStepMs);
    };
    slice();
  }

  /** The table of `members` and its moves from the last table handed out, as steps. */
  private *buildSteps(members: readonly string[]): Steps<{ table: PlacementTable; moves: MoveSummary }> {
    const table = yield* buildTableSteps(members, this.options);
    const prev = this.last;
    const moves = prev && prev.shards === table.shards ? yield* summarizeBuiltSteps(prev, table, this.tuning.groupMoves()) : { groups: [], ownerMoves: 0, replicaMoves: 0 };
    return { table, moves };
  }

  private endInline(
    flight: { id: number; startedAt: number },
    built: { table: PlacementTable; moves: MoveSummary } | null,
    failure: string,
    trivial: boolean,
    longestStepMs: number,
  ): void {
    this.suspended = null;
    // Too slow for the event loop: the worker takes over from now on. A trivial build says nothing of
    // what a real one costs. A running worker's previous table is no longer the last one: the next
    // request hands it over again.
    if (!trivial && !this.workerFailed && longestStepMs > this.tuning.inlineBudgetMs) {
      this.inline = false;
      dropRingMemory();
    }
    this.workerHasLast = false;
    this.finish(flight, built, failure, 'inline');
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    // Under tsx (tests) this module is .ts and so is its sibling; in dist/ both are .js.
    // Run from source (tests under tsx), the worker needs tsx's loader registered in its own thread first.
    const fromSource = import.meta.url.endsWith('.ts');
    const url = new URL(`./table-worker${fromSource ? '.ts' : '.js'}`, import.meta.url);
    const worker = fromSource
      ? new Worker(`import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(url.href)}); });`, { eval: true })
      : new Worker(url);
    worker.unref();
    worker.on('message', (reply: BuildReply) => this.onReply(reply));
    worker.on('error', (err) => {
      this.onError(`table worker failed: ${err.message}; building on the main thread from now on`);
      void this.dropWorker();
      // A worker that failed once may fail again (a missing file, no memory for an isolate): the main
      // thread can always build, if more slowly. The build it was doing will not answer: start over
      // with the newest set asked for.
      this.inline = true;
      this.workerFailed = true;
      const flight = this.inFlight;
      this.inFlight = null;
      const next = this.pending ?? flight?.members ?? null;
      this.pending = null;
      if (next && !this.closed) this.start(next);
    });
    this.worker = worker;
    this.workerHasLast = false;
    return worker;
  }

  private onReply(reply: BuildReply): void {
    const flight = this.inFlight;
    if (!flight || reply.id !== flight.id) return;
    if (reply.ok) this.finish(flight, { table: new PlacementTable(reply.table), moves: reply.moves }, '', 'worker');
    else this.finish(flight, null, reply.error, 'worker');
  }

  private finish(
    flight: { id: number; startedAt: number },
    built: { table: PlacementTable; moves: MoveSummary } | null,
    failure: string,
    where: 'inline' | 'worker',
  ): void {
    this.inFlight = null;
    if (built) {
      this.last = built.table;
      this.onBuilt({ ...built, elapsedMs: performance.now() - flight.startedAt, where });
    } else {
      this.onError(`ownership table build failed: ${failure}`);
    }
    const next = this.pending;
    this.pending = null;
    if (this.closed) return;
    if (next) this.start(next);
    else this.armIdle();
  }

  private armIdle(): void {
    this.cancelIdle();
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null;
      if (this.inFlight) return;
      const ended = this.dropWorker();
      dropRingMemory();
      void ended.then(() => {
        if (!this.closed && !this.inFlight && this.worker === null) this.tuning.afterBurst();
      });
    }, this.tuning.idleMs);
    this.idleTimer.unref();
  }

  private cancelIdle(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }

  /** Ends the worker if there is one; resolves once it has ended. */
  private dropWorker(): Promise<unknown> {
    const worker = this.worker;
    this.worker = null;
    this.workerHasLast = false;
    return worker ? worker.terminate() : Promise.resolve();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.cancelIdle();
    const suspended = this.suspended;
    this.suspended = null;
    // Runs the build's finally blocks: it gives the ring cache back.
    try {
      suspended?.throw(new Error('table builder closed'));
    } catch {
      // the build ended, as asked
    }
    const worker = this.worker;
    this.worker = null;
    if (worker) await worker.terminate();
  }
}

/** Placement's memory kept on this thread between builds (ring lists, scratch). */
function dropRingMemory(): void {
  clearRingCache();
  releaseRingScratch();
}

function keyOf(sortedMembers: readonly string[]): string {
  return sortedMembers.join('\u0000');
}

/** A member set in the order tables are built for, and the key that tells one set from another. */
export function ownerSet(members: readonly string[]): { sorted: string[]; key: string } {
  const sorted = [...members].sort();
  return { sorted, key: keyOf(sorted) };
}
