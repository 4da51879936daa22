// A fixed AgentView for the HTTP tests: three members, a toy placement, events pushed by hand.
import type { AgentView, HealthView, MemberView, RouteAnswer, RouteOwner, TableView, WatchEvent } from '../../src/runtime/view.js';

export const SHARDS = 64;

function member(name: string, i: number, self = false): MemberView {
  return {
    name,
    state: 'alive',
    incarnation: 1000 + i,
    serving: true,
    addresses: { gossip: `10.0.0.${i}:7946`, grpc: `10.0.0.${i}:7947`, app: `10.0.0.${i}:8080` },
    tags: { zone: `z${i}` },
    self,
  };
}

function fnv1a(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

export class FakeView implements AgentView {
  readonly name = 'm1';
  version = 'v-abc';
  memberList: MemberView[] = [member('m1', 1, true), member('m2', 2), member('m3', 3)];
  ready: HealthView = { ok: true, reasons: [] };
  live: HealthView = { ok: true, reasons: [] };
  leaveCalls = 0;
  readonly listeners = new Set<(e: WatchEvent) => void>();
  private readonly owners: RouteOwner[];
  /** Like the runtime: one replicas array per shard, shared by every answer on that shard. */
  private readonly replicasByShard: (readonly RouteOwner[])[];

  constructor() {
    this.owners = this.memberList.map((m) => ({ name: m.name, addresses: m.addresses, serving: m.serving }));
    const n = this.owners.length;
    this.replicasByShard = Array.from({ length: SHARDS }, (_, shard) =>
      [this.owners[(shard + 1) % n], this.owners[(shard + 2) % n]].filter((o): o is RouteOwner => o !== undefined),
    );
  }

  route(key: string): RouteAnswer {
    const shard = fnv1a(key) % SHARDS;
    const owner = this.owners[shard % this.owners.length] ?? null;
    return { key, shard, owner, replicas: this.replicasByShard[shard] ?? [], version: this.version };
  }

  routeMany(keys: readonly string[]): RouteAnswer[] {
    return keys.map((k) => this.route(k));
  }

  members(): { version: string; members: readonly MemberView[] } {
    return { version: this.version, members: this.memberList };
  }

  table(withOwners: boolean): TableView {
    const shardsPerMember: Record<string, number> = {};
    const owners: string[] = [];
    for (let s = 0; s < SHARDS; s++) {
      const name = this.owners[s % this.owners.length]?.name ?? '';
      owners.push(name);
      shardsPerMember[name] = (shardsPerMember[name] ?? 0) + 1;
    }
    const base = { shards: SHARDS, replicas: 2, version: this.version, members: this.memberList.length, shardsPerMember };
    return withOwners ? { ...base, owners } : base;
  }

  subscribe(listener: (event: WatchEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: WatchEvent): void {
    for (const l of this.listeners) l(event);
  }

  async leave(): Promise<void> {
    this.leaveCalls++;
  }

  readiness(): HealthView {
    return this.ready;
  }

  liveness(): HealthView {
    return this.live;
  }
}
