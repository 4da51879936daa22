// A fixed AgentView for the HTTP tests: three members, a toy placement, events pushed by hand; no claims
// (the claim routes answer 501), unless FakeViewWithClaims.
import type { ClaimItemView, ClaimOwnerChange, ClaimRequestResult, ClaimsView, ClaimView, LocalPage, ReleaseResult } from '../../src/ownership/api.js';
import type { AgentView, CompactTableView, HealthView, MemberView, RouteAnswer, RouteOwner, TableView, WatchEvent } from '../../src/runtime/view.js';
import { fnv1a } from '../../src/codec/fnv1a.js';
import { replicasBeside } from '../../src/placement/claimed-replicas.js';

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

export class FakeView implements AgentView {
  readonly name = 'm1';
  version = 'v-abc';
  memberList: MemberView[] = [member('m1', 1, true), member('m2', 2), member('m3', 3)];
  ready: HealthView = { ok: true, reasons: [] };
  live: HealthView = { ok: true, reasons: [] };
  leaveCalls = 0;
  readonly listeners = new Set<(e: WatchEvent) => void>();
  readonly owners: RouteOwner[];
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

  /** route()'s toy placement as index arrays: owner shard % n, replicas the next two. */
  compactTable(): CompactTableView {
    const n = this.owners.length;
    const ownerIndex = Array.from({ length: SHARDS }, (_, s) => s % n);
    const replicaIndex = Array.from({ length: SHARDS }, (_, s) => [(s + 1) % n, (s + 2) % n]).flat();
    return { version: this.version, shards: SHARDS, replicas: 2, members: this.owners, tableMembers: n, ownerIndex, replicaIndex, claims: [] };
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

export class FakeViewWithClaims extends FakeView {
  readonly claims: FakeClaims = new FakeClaims(this, (key) => super.route(key));

  override route(key: string): RouteAnswer {
    return this.claims.claimedRoute(key) ?? super.route(key);
  }

  override compactTable(): CompactTableView {
    const t = super.compactTable();
    const claims = [...this.claims.held.values()].map((c): [string, number, string] => [c.id, this.owners.findIndex((o) => o.name === c.ownerName), c.fence]);
    return { ...t, claims };
  }
}

/**
 * Claims in a Map, for the HTTP edge's tests: no expiry, no races, no peers. It starts with "theirs"
 * held by m2 and "mine" held by m1 (the FakeView's self); claims and releases act for m1.
 */
export class FakeClaims implements ClaimsView {
  /** The agent's defaults, so the app serves the same OpenAPI document with or without this fake. */
  readonly maxIdsPerRequest = 1000;
  readonly maxTtlMs = 86_400_000;
  readonly held = new Map<string, ClaimView>();
  private clock = 1_700_000_000_000;

  /** ringRoute: the view's answer without claims. */
  constructor(
    private readonly view: FakeView,
    private readonly ringRoute: (key: string) => RouteAnswer,
  ) {
    this.hold('theirs', 'm2', null);
    this.hold('mine', view.name, this.clock + 60_000);
  }

  claim(ids: readonly string[], ttlMs: number | null | undefined): ClaimRequestResult {
    const results = ids.map((id): ClaimItemView => {
      const held = this.held.get(id);
      if (held !== undefined && held.ownerName !== this.view.name) return { id, status: 'owned_elsewhere', claim: held };
      const expiresAtMs = ttlMs === null ? null : this.clock + (ttlMs ?? 60_000);
      return { id, status: held === undefined ? 'claimed' : 'renewed', claim: this.hold(id, this.view.name, expiresAtMs) };
    });
    return { ok: true, version: this.view.version, results };
  }

  release(id: string): ReleaseResult {
    const held = this.held.get(id);
    if (held === undefined) return { ok: false, code: 'not_claimed', message: `${JSON.stringify(id)} is not claimed` };
    if (held.ownerName !== this.view.name) return { ok: false, code: 'claimed_elsewhere', message: `${JSON.stringify(id)} is held by ${held.ownerName}`, claim: held };
    this.held.delete(id);
    return { ok: true };
  }

  lookup(id: string): ClaimView | undefined {
    return this.held.get(id);
  }

  /** The page token is the index of the page's first id. */
  localPage(limit: number, pageToken: string): LocalPage | null {
    const mine = [...this.held.values()].filter((c) => c.ownerName === this.view.name).map((c) => c.id).sort();
    const start = pageToken === '' ? 0 : /^\d{1,6}$/.test(pageToken) ? Number(pageToken) : -1;
    if (start < 0 || start > mine.length) return null;
    const end = limit > 0 ? Math.min(mine.length, start + limit) : mine.length;
    return { ids: mine.slice(start, end), nextPageToken: end < mine.length ? String(end) : '', version: this.view.version };
  }

  hasClaims(): boolean {
    return this.held.size > 0;
  }

  claimedRoute(key: string): RouteAnswer | undefined {
    const held = this.held.get(key);
    if (held === undefined || held.owner === null) return undefined;
    const ring = this.ringRoute(key);
    return { ...ring, owner: held.owner, replicas: replicasBeside(held.owner, ring.owner, ring.replicas), claimed: true, fence: held.fence };
  }

  routeClaiming(key: string): RouteAnswer {
    if (!this.held.has(key)) this.hold(key, this.view.name, this.clock + 60_000);
    return this.claimedRoute(key) ?? this.ringRoute(key);
  }

  readonly ownerListeners = new Set<(changes: readonly ClaimOwnerChange[]) => void>();

  subscribeOwners(listener: (changes: readonly ClaimOwnerChange[]) => void): () => void {
    this.ownerListeners.add(listener);
    return () => this.ownerListeners.delete(listener);
  }

  private hold(id: string, ownerName: string, expiresAtMs: number | null): ClaimView {
    const previous = this.held.get(id);
    const owner = this.view.owners.find((o) => o.name === ownerName) ?? null;
    const claimedAtMs = previous?.claimedAtMs ?? this.clock++;
    const claim: ClaimView = { id, owner, ownerName, claimedAtMs, expiresAtMs, fence: String(claimedAtMs * 65536) };
    this.held.set(id, claim);
    return claim;
  }
}
