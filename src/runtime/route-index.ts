// Route answers for one ownership table. Building it is O(members), not O(shards): the table has hundreds of
// thousands of shards and is rebuilt on every membership change. A lookup is hash + jump + typed-array reads;
// the replica list of a shard is built on its first lookup and reused until the next table.
import type { MemberRecord } from '../core/types.js';
import type { PlacementTable } from '../placement/index.js';
import type { RouteAnswer, RouteOwner } from './view.js';

export class RouteIndex {
  /** RouteOwner per member index of the table. */
  private readonly owners: readonly RouteOwner[];
  private readonly replicaLists: (readonly RouteOwner[] | undefined)[];
  private static readonly NONE: readonly RouteOwner[] = Object.freeze([]);

  constructor(
    private readonly table: PlacementTable,
    records: ReadonlyMap<string, MemberRecord>,
  ) {
    this.owners = table.members.map((name) => {
      const r = records.get(name);
      return {
        name,
        addresses: { gossip: r?.gossipAddr ?? '', grpc: r?.grpcAddr ?? '', app: r?.meta.appAddr ?? '' },
        serving: r?.meta.serving ?? false,
      };
    });
    this.replicaLists = table.replicaCount > 0 ? new Array<readonly RouteOwner[] | undefined>(table.shards) : [];
  }

  get version(): string {
    return this.table.version;
  }

  route(key: string): RouteAnswer {
    const t = this.table;
    const shard = t.shardOf(key);
    const m = t.ownerIndex[shard]!;
    return { key, shard, owner: m < 0 ? null : this.owners[m]!, replicas: this.replicasOf(shard), version: t.version };
  }

  private replicasOf(shard: number): readonly RouteOwner[] {
    const t = this.table;
    const width = t.replicaCount;
    if (width === 0) return RouteIndex.NONE;
    let list = this.replicaLists[shard];
    if (list === undefined) {
      const out = new Array<RouteOwner>(width);
      for (let r = 0; r < width; r++) out[r] = this.owners[t.replicaIndex[shard * width + r]!]!;
      list = Object.freeze(out);
      this.replicaLists[shard] = list;
    }
    return list;
  }
}
