// Shard moves between two tables, grouped by (role, from, to): a join at 10 members moves tens of
// thousands of shards, and watchers want "these shards went from A to B", not one object per shard.
import { diffTables, type OwnershipTable } from '../placement/index.js';
import type { ShardMoveGroup } from './view.js';

export interface MoveSummary {
  readonly groups: ShardMoveGroup[];
  readonly ownerMoves: number;
  readonly replicaMoves: number;
}

export function summarizeMoves(before: OwnershipTable, after: OwnershipTable): MoveSummary {
  const byKey = new Map<string, ShardMoveGroup & { shards: number[] }>();
  let ownerMoves = 0;
  let replicaMoves = 0;
  for (const m of diffTables(before, after)) {
    if (m.role === 'owner') ownerMoves++;
    else replicaMoves++;
    const key = `${m.role}\u0000${m.from ?? ''}\u0000${m.to ?? ''}`;
    let g = byKey.get(key);
    if (!g) {
      g = { role: m.role, from: m.from, to: m.to, shards: [] };
      byKey.set(key, g);
    }
    g.shards.push(m.shard);
  }
  return { groups: [...byKey.values()], ownerMoves, replicaMoves };
}
