// Builds ownership tables off the event loop: a build at the default 2^18 shards costs tens to hundreds of
// milliseconds, and the failure detector on the main thread must never wait for it. The worker keeps the
// previous table (and placement's incremental ring cache) between builds.
import { parentPort } from 'node:worker_threads';
import { buildTable, type PlacementOptions, type PlacementTable } from '../placement/index.js';
import { summarizeMoves, type MoveSummary } from './table-moves.js';

export interface BuildRequest {
  readonly id: number;
  readonly members: readonly string[];
  readonly options: PlacementOptions;
}

export type BuildReply =
  | {
      readonly id: number;
      readonly ok: true;
      readonly table: ConstructorParameters<typeof PlacementTable>[0];
      readonly moves: MoveSummary;
    }
  | { readonly id: number; readonly ok: false; readonly error: string };

let previous: PlacementTable | null = null;

export function handleBuild(req: BuildRequest): BuildReply {
  try {
    const table = buildTable(req.members, req.options);
    const moves = previous && previous.shards === table.shards ? summarizeMoves(previous, table) : { groups: [], ownerMoves: 0, replicaMoves: 0 };
    previous = table;
    return {
      id: req.id,
      ok: true,
      table: {
        version: table.version,
        shards: table.shards,
        replicas: table.replicas,
        vnodes: table.vnodes,
        boundedLoad: table.boundedLoad,
        members: table.members,
        ownerIndex: table.ownerIndex,
        replicaIndex: table.replicaIndex,
        replicaCount: table.replicaCount,
      },
      moves,
    };
  } catch (err) {
    return { id: req.id, ok: false, error: err instanceof Error ? err.message : String(err) };
  }
}

parentPort?.on('message', (req: BuildRequest) => {
  parentPort?.postMessage(handleBuild(req));
});
