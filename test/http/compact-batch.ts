// Reading a compact batch answer (POST /v1/route?format=compact) back into full answers, as a client would.
export interface CompactBatch {
  readonly version: string;
  readonly routes: readonly { key: string; shard: number; owner: number | null; replicas: readonly number[]; claimed?: true; fence?: string }[];
  readonly members: readonly unknown[];
}

/** The full answers a compact batch stands for; throws on an index outside "members". */
export function expandCompact(batch: CompactBatch): unknown[] {
  const member = (i: number): unknown => {
    if (!Number.isInteger(i) || i < 0 || i >= batch.members.length) throw new Error(`member index ${i} outside members[${batch.members.length}]`);
    return batch.members[i];
  };
  return batch.routes.map((r) => ({
    key: r.key,
    shard: r.shard,
    owner: r.owner === null ? null : member(r.owner),
    replicas: r.replicas.map(member),
    version: batch.version,
    ...(r.claimed === true ? { claimed: true } : {}),
    ...(r.fence !== undefined ? { fence: r.fence } : {}),
  }));
}
