// The ownership table as a CompactTableView (GET /v1/table/compact): the table's own index arrays, its
// members' answer objects, and the claims route answers apply, with claimants outside the table
// appended to the member list as compact route batches do.
import type { PlacementTable } from '../placement/index.js';
import type { RouteIndex } from './route-index.js';
import type { CompactTableView, RouteOwner } from './view.js';

export function compactTableOf(table: PlacementTable, index: RouteIndex, claims: Iterable<[string, RouteOwner, string]>): CompactTableView {
  const members: RouteOwner[] = table.members.map((_, i) => index.owner(i));
  const byName = new Map<string, number>();
  members.forEach((m, i) => byName.set(m.name, i));
  const claimed: [string, number, string][] = [];
  for (const [id, owner, fence] of claims) {
    let at = byName.get(owner.name);
    if (at === undefined) {
      at = members.push(owner) - 1;
      byName.set(owner.name, at);
    }
    claimed.push([id, at, fence]);
  }
  return {
    version: table.version,
    shards: table.shards,
    replicas: table.members.length === 0 ? 0 : table.replicaCount,
    members,
    tableMembers: table.members.length,
    ownerIndex: table.ownerIndex,
    replicaIndex: table.replicaIndex,
    claims: claimed,
  };
}
