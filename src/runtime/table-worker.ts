// Builds ownership tables off the event loop, for shard counts where a build costs tens to hundreds of
// milliseconds: the failure detector on the main thread must never wait for it. The worker keeps the
// previous table (and placement's incremental ring cache) between builds; it lives only while builds
// come (see table-builder.ts), so a new worker is handed the previous table with its first request.
import { parentPort } from 'node:worker_threads';
import { buildTable, PlacementTable, type PlacementOptions } from '../placement/index.js';
import { summarizeMoves, type MoveSummary } from './table-moves.js';

export type TableInit = ConstructorParameters<typeof PlacementTable>[0];

export interface BuildRequest {
  readonly id: number;
  readonly members: readonly string[];
  readonly options: PlacementOptions;
  /** The table to summarize moves against, when this worker has not built it itself. */
  readonly previous?: TableInit;
}

export type BuildReply =
  | {
      readonly id: number;
      readonly ok: true;
      readonly table: TableInit;
      readonly moves: MoveSummary;
    }
  | { readonly id: number; readonly ok: false; readonly error: string };

/** The plain fields of a table, as they cross threads (typed arrays are copied by postMessage). */
export function tableInit(table: PlacementTable): TableInit {
  return {
    version: table.version,
    shards: table.shards,
    replicas: table.replicas,
    vnodes: table.vnodes,
    boundedLoad: table.boundedLoad,
    members: table.members,
    ownerIndex: table.ownerIndex,
    replicaIndex: table.replicaIndex,
    replicaCount: table.replicaCount,
  };
}

let previous: PlacementTable | null = null;

export function handleBuild(req: BuildRequest): BuildReply {
  try {
    if (req.previous) previous = new PlacementTable(req.previous);
    const table = buildTable(req.members, req.options);
    const moves = previous && previous.shards === table.shards ? summarizeMoves(previous, table) : { groups: [], ownerMoves: 0, replicaMoves: 0 };
    previous = table;
    return { id: req.id, ok: true, table: tableInit(table), moves };
  } catch (err) {
    return { id: req.id, ok: false, error: err instanceof Error ? err.message : String(err) };
  }
}

parentPort?.on('message', (req: BuildRequest) => {
  parentPort?.postMessage(handleBuild(req));
});
