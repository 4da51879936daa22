// What the sidecar would serve for a built table, read back by swimring-client: its RingTable.
import { RingTable } from '../../client/src/table.js';
import type { CompactTableJson } from '../../client/src/types.js';
import { compactTableJson } from '../../src/http/serialize-table.js';
import type { PlacementTable } from '../../src/placement/index.js';
import type { RouteOwner } from '../../src/runtime/view.js';

/** A member's answer object with made-up addresses. */
export const testOwner = (name: string): RouteOwner => ({ name, addresses: { gossip: `${name}:1`, grpc: `${name}:2`, app: '' }, serving: true });

/** `table` (with `claims`: [id, member index, fence]) as GET /v1/table/compact encodes it, decoded by the library. */
export function ringTableOf(table: PlacementTable, claims: [string, number, string][] = []): RingTable {
  const json = compactTableJson({
    version: table.version,
    shards: table.shards,
    replicas: table.members.length === 0 ? 0 : table.replicaCount,
    members: table.members.map(testOwner),
    tableMembers: table.members.length,
    ownerIndex: table.ownerIndex,
    replicaIndex: table.replicaIndex,
    claims,
  });
  return new RingTable(JSON.parse(json) as CompactTableJson);
}
