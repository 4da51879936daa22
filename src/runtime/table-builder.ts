// Main-thread side of the table worker: asks for a table for a member set, coalesces requests that
// arrive while a build runs (only the newest set matters), and hands finished tables back.
import { Worker } from 'node:worker_threads';
import { buildTable, PlacementTable, type PlacementOptions } from '../placement/index.js';
import type { MoveSummary } from './table-moves.js';
import type { BuildReply, BuildRequest } from './table-worker.js';

export interface BuiltTable {
  readonly table: PlacementTable;
  readonly moves: MoveSummary;
  /** Wall time from request to answer, ms. */
  readonly elapsedMs: number;
}

export class TableBuilder {
  private readonly worker: Worker;
  private nextId = 1;
  private inFlight: { id: number; key: string; startedAt: number } | null = null;
  private pending: readonly string[] | null = null;
  private lastKey: string;
  private closed = false;

  constructor(
    private readonly options: PlacementOptions,
    private readonly onBuilt: (built: BuiltTable) => void,
    private readonly onError: (message: string) => void,
  ) {
    // Under tsx (tests) this module is .ts and so is its sibling; in dist/ both are .js.
    // Run from source (tests under tsx), the worker needs tsx's loader registered in its own thread first.
    const fromSource = import.meta.url.endsWith('.ts');
    const url = new URL(`./table-worker${fromSource ? '.ts' : '.js'}`, import.meta.url);
    this.worker = fromSource
      ? new Worker(`import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(url.href)}); });`, { eval: true })
      : new Worker(url);
    this.worker.unref();
    this.worker.on('message', (reply: BuildReply) => this.onReply(reply));
    this.worker.on('error', (err) => this.onError(`table worker failed: ${err.message}`));
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
    if (this.inFlight) {
      this.pending = sorted;
      return;
    }
    this.send(sorted, key);
  }

  get busy(): boolean {
    return this.inFlight !== null;
  }

  private send(members: readonly string[], key: string): void {
    const id = this.nextId++;
    this.inFlight = { id, key, startedAt: performance.now() };
    const req: BuildRequest = { id, members, options: this.options };
    this.worker.postMessage(req);
  }

  private onReply(reply: BuildReply): void {
    const flight = this.inFlight;
    if (!flight || reply.id !== flight.id) return;
    this.inFlight = null;
    if (reply.ok) {
      this.onBuilt({ table: new PlacementTable(reply.table), moves: reply.moves, elapsedMs: performance.now() - flight.startedAt });
    } else {
      this.onError(`ownership table build failed: ${reply.error}`);
    }
    const next = this.pending;
    this.pending = null;
    if (next && !this.closed) this.send(next, keyOf(next));
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.worker.terminate();
  }
}

function keyOf(sortedMembers: readonly string[]): string {
  return sortedMembers.join('\u0000');
}
