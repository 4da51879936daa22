// GET /v1/table/compact (docs/http.md): the whole ownership table in about 1 MB at 2^18 shards, for
// clients that route in process. Per-shard member indexes go as little-endian unsigned integers of
// `indexBytes` bytes in base64: as JSON numbers the 786,432 indexes of 2^18 shards with two replicas
// would be ~1.6 MB and cost a client a parse into as many values; base64 decodes straight into a typed array.
import { jsonString, ownerJson } from '../runtime/route-json.js';
import type { CompactTableView } from '../runtime/view.js';

/** Bytes per member index: the fewest that hold every index of the table's members. */
export function indexBytesFor(tableMembers: number): 1 | 2 | 4 {
  if (tableMembers <= 0x100) return 1;
  if (tableMembers <= 0x10000) return 2;
  return 4;
}

function packIndexes(values: ArrayLike<number>, count: number, width: 1 | 2 | 4): string {
  const bytes = Buffer.alloc(count * width);
  for (let i = 0; i < count; i++) {
    const v = values[i]!;
    if (width === 1) bytes[i] = v;
    else if (width === 2) bytes.writeUInt16LE(v, i * 2);
    else bytes.writeUInt32LE(v, i * 4);
  }
  return bytes.toString('base64');
}

export function compactTableJson(t: CompactTableView): string {
  const width = indexBytesFor(t.tableMembers);
  const empty = t.tableMembers === 0;
  const owners = empty ? '' : packIndexes(t.ownerIndex, t.shards, width);
  const replicas = empty ? '' : packIndexes(t.replicaIndex, t.shards * t.replicas, width);
  const claims = t.claims.map(([id, member, fence]) => `[${jsonString(id)},${member},${jsonString(fence)}]`).join(',');
  return (
    `{"format":"swimring-table-v1","version":${jsonString(t.version)},"shards":${t.shards},"replicas":${t.replicas}` +
    `,"tableMembers":${t.tableMembers},"members":[${t.members.map(ownerJson).join(',')}]` +
    `,"indexBytes":${width},"owners":"${owners}","replicaIndexes":"${replicas}","claims":[${claims}]}`
  );
}
