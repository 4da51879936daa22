// Reads GET /v1/table/compact (docs/http.md) back into per-shard answers, as a client in another
// language would from the documentation alone: base64, little-endian unsigned indexes of indexBytes.
import type { CompactTableJson } from '../../client/src/types.js';
import type { RouteOwner } from '../../src/runtime/view.js';

export type { CompactTableJson };

export interface DecodedTable {
  readonly version: string;
  readonly shards: number;
  owner(shard: number): RouteOwner | null;
  replicas(shard: number): RouteOwner[];
  /** Claimed id -> claimant and the claim's fencing token. */
  readonly claims: ReadonlyMap<string, { readonly owner: RouteOwner; readonly fence: string }>;
}

function indexes(b64: string, width: number): number[] {
  const bytes = Buffer.from(b64, 'base64');
  const out: number[] = [];
  for (let i = 0; i < bytes.length; i += width) out.push(width === 1 ? bytes[i]! : width === 2 ? bytes.readUInt16LE(i) : bytes.readUInt32LE(i));
  return out;
}

export function decodeCompactTable(t: CompactTableJson): DecodedTable {
  const owners = indexes(t.owners, t.indexBytes);
  const replicas = indexes(t.replicaIndexes, t.indexBytes);
  if (t.tableMembers > 0 && (owners.length !== t.shards || replicas.length !== t.shards * t.replicas)) throw new Error('index arrays of the wrong length');
  return {
    version: t.version,
    shards: t.shards,
    owner: (shard) => (t.tableMembers === 0 ? null : t.members[owners[shard]!]!),
    replicas: (shard) => replicas.slice(shard * t.replicas, (shard + 1) * t.replicas).map((i) => t.members[i]!),
    claims: new Map(t.claims.map(([id, i, fence]) => [id, { owner: t.members[i]!, fence }])),
  };
}
