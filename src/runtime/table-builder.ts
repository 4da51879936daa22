// Builds ownership tables for the runtime: asks for a table for a member set, coalesces requests that
// arrive while a build runs (only the newest set matters), and hands finished tables back, always
// asynchronously.
//
// Where a build runs is chosen for memory as much as for time. A worker thread keeps the event loop free
// during a long build, but its isolate and the build's scratch memory cost 20-150 MB while it lives, and
// a sidecar is idle nearly all the time. So: cheap builds (small shard counts, measured) run on the main
// thread; expensive ones go to a worker started on demand and ended after a quiet spell. Placement's ring
// cache, which speeds up a burst of joins, is likewise dropped once the burst is over.
//
// The first table of several members is the exception. It is built while the member joins, when the
// event loop must answer its new peers' probes, and with placement's code not yet compiled, so it costs
// several times what later builds do: built inline at the larger inline shard counts, it can stall a
// loaded machine's loop long enough for peers to suspect the joiner. Above a small shard count it goes to the
// worker, and the builds of the same burst follow it there (the worker is running and warm); once the
// worker has ended after the quiet spell, builds run inline as above.
import { Worker } from 'node:worker_threads';
import { buildTable, PlacementTable, type PlacementOptions } from '../placement/index.js';
import { clearRingCache } from '../placement/ring-cache.js';
import { releaseRingScratch } from '../placement/ring-rank.js';
import { compactHeap } from './heap-tuning.js';
import { summarizeMoves, type MoveSummary } from './table-moves.js';
import { tableInit, type BuildReply, type BuildRequest } from './table-worker.js';

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
  /** An inline build (with its move summary) slower than this sends every later build to the worker. */
  readonly inlineBudgetMs: number;
  /** Quiet time after the last build before the worker is ended and the ring cache dropped, ms. */
  readonly idleMs: number;
  /**
   * Runs once per quiet spell, after the worker has ended and the ring cache is dropped: the burst's
   * garbage (old tables, the worker's messages) is collectable now. By default a full collection when
   * the agent enabled it (heap-tuning.ts), else nothing.
   */
  readonly afterBurst: () => void;
}

/**
 * 2^16 shards at tens of members build in 15-25 ms of CPU here (2^18: 40-85 ms, plus ~20 ms of move
 * summary), against a 500 ms LAN probe timeout; the budget catches larger clusters and slow machines.
 */
export const DEFAULT_TUNING: TableBuilderTuning = Object.freeze({
  inlineMaxShards: 65_536,
  firstInlineMaxShards: 8192,
  inlineBudgetMs: 50,
  idleMs: 10_000,
  afterBurst: () => void compactHeap(),
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
    const sorted = [...members].sort();
    const key = keyOf(sorted);
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
    const started = performance.now();
    let built: { table: PlacementTable; moves: MoveSummary } | null = null;
    let failure = '';
    try {
      const table = buildTable(members, this.options);
      built = { table, moves: this.movesTo(table) };
    } catch (err) {
      failure = err instanceof Error ? err.message : String(err);
    }
    // Too slow for the event loop: the worker takes over from now on. A trivial build says nothing of
    // what a real one costs. A running worker's previous table is no longer the last one: the next
    // request hands it over again.
    if (!trivial && !this.workerFailed && performance.now() - started > this.tuning.inlineBudgetMs) {
      this.inline = false;
      dropRingMemory();
    }
    this.workerHasLast = false;
    this.finish(flight, built, failure, 'inline');
  }

  private movesTo(table: PlacementTable): MoveSummary {
    const prev = this.last;
    return prev && prev.shards === table.shards ? summarizeMoves(prev, table) : { groups: [], ownerMoves: 0, replicaMoves: 0 };
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
    const worker = this.worker;
    this.worker = null;
    if (worker) await worker.terminate();
  }
}

/** Placement's memory kept on this thread between builds (ring lists, scratch): 10-45 MB at 2^16-2^18 shards. */
function dropRingMemory(): void {
  clearRingCache();
  releaseRingScratch();
}

function keyOf(sortedMembers: readonly string[]): string {
  return sortedMembers.join('\u0000');
}
