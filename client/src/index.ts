// swimring-client: routes keys in the application's process from its sidecar's ownership table.
// connect() loads the table (GET /v1/table/compact) and follows the watch (GET /v1/watch); each table
// change announced there is applied from its `moves` event into a new table swapped in whole, or, when
// the event does not lead from the installed version or cannot be applied, the table is loaded again.
// route() is a hash, a jump and two array reads on the installed table: the answer GET /v1/route/:key
// gives at that version.
import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ApplyOptions, ApplyResult, ClaimResult, ConnectOptions, RingEvents, RingStats } from './api.js';
import { applyMoves, type MovesWatchEvent } from './apply-moves.js';
import { RingTable, movesOf } from './table.js';
import type { Claimant, CompactTableJson, MemberEvent, MemberView, RouteAnswer, RouteOwner, WatchEvent } from './types.js';
import { WatchFollower, backoffMs } from './watch.js';

export type * from './types.js';
export type { ApplyRefusal } from './apply-moves.js';
export type { ApplyOptions, ApplyResult, ClaimResult, ConnectOptions, RingEvents, RingStats } from './api.js';
export { shardOf } from './table.js';

export class Ring extends EventEmitter<RingEvents> {
  private table: RingTable | null = null;
  private claims = new Map<string, Claimant>();
  /** Claim changes learnt while a table load was in flight (that table may predate them); null = unclaimed. */
  private readonly claimsDuringLoad = new Map<string, Claimant | null>();
  private memberList: readonly MemberView[] = [];
  private selfName: string | null = null;
  /** The newest table version the watch announced. */
  private announced: string | null = null;
  private loading: Promise<void> | null = null;
  private loadAgain = false;
  private loadAttempt = 0;
  private loadTimer: NodeJS.Timeout | null = null;
  private downSince: number | null = null;
  private staleTimer: NodeJS.Timeout | null = null;
  private staleSent = false;
  private closed = false;
  private readonly watch: WatchFollower;
  private readonly headers: Record<string, string>;
  private readonly opts: Required<Omit<ConnectOptions, 'token'>>;
  private firstSnapshot: (() => void) | null = null;
  private tableLoads = 0;
  private movesApplied = 0;
  private readonly reloads: Record<string, number> = {};

  /** Use connect(). */
  constructor(options: ConnectOptions) {
    super();
    this.opts = {
      url: options.url,
      staleAfterMs: options.staleAfterMs ?? 5_000,
      minBackoffMs: options.minBackoffMs ?? 100,
      maxBackoffMs: options.maxBackoffMs ?? 5_000,
      idleTimeoutMs: options.idleTimeoutMs ?? 45_000,
      connectTimeoutMs: options.connectTimeoutMs ?? 30_000,
      requestTimeoutMs: options.requestTimeoutMs ?? 10_000,
      followClaims: options.followClaims ?? true,
    };
    this.headers = options.token ? { authorization: `Bearer ${options.token}` } : {};
    this.watch = new WatchFollower({
      url: this.opts.url,
      path: this.opts.followClaims ? '/v1/watch?claims=all' : '/v1/watch',
      headers: this.headers,
      minBackoffMs: this.opts.minBackoffMs,
      maxBackoffMs: this.opts.maxBackoffMs,
      idleTimeoutMs: this.opts.idleTimeoutMs,
      onEvent: (e) => this.onWatchEvent(e),
      onDown: (reason) => this.onWatchDown(reason),
    });
  }

  /** Loads the first table and waits for the watch's snapshot. */
  async start(): Promise<void> {
    const snapshot = new Promise<void>((resolve) => (this.firstSnapshot = resolve));
    this.watch.start();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`swimring-client: no table and watch from ${this.opts.url} within ${this.opts.connectTimeoutMs} ms`)), this.opts.connectTimeoutMs);
    });
    try {
      // The first load starts once the watch is subscribed (the snapshot handler starts it), so every
      // change after the load's read comes on the watch.
      await Promise.race([snapshot, timeout]);
      // A first load that failed is retried on its backoff timer.
      while (this.table === null || this.loading) await Promise.race([this.loading ?? sleep(20), timeout]);
    } catch (err) {
      await this.close();
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  // ---- routing (synchronous, in process) ---------------------------------------------------------

  /** The answer GET /v1/route/:key gives at `version`. */
  route(key: string): RouteAnswer {
    const t = this.installed();
    const shard = t.shardOf(key);
    if (this.claims.size !== 0) {
      const claimant = this.claims.get(key);
      if (claimant !== undefined) return t.claimedAnswer(key, shard, claimant);
    }
    return t.ringAnswer(key, shard);
  }

  /** The owner's name without building an answer: null when nobody owns shards. */
  ownerName(key: string): string | null {
    const claimant = this.claims.size === 0 ? undefined : this.claims.get(key);
    if (claimant !== undefined) return claimant.owner.name;
    const t = this.installed();
    return t.ownerName(t.shardOf(key));
  }

  /** The key's owner is this sidecar's own member. */
  isLocal(key: string): boolean {
    return this.selfName !== null && this.ownerName(key) === this.selfName;
  }

  /** The installed table's version: every route() answer carries it. */
  get version(): string {
    return this.installed().version;
  }

  /** This sidecar's member, as the watch last described it. */
  get self(): MemberView | null {
    return this.memberList.find((m) => m.self) ?? null;
  }

  /** Every member the sidecar reports (GET /v1/members), as last loaded and updated by the watch. */
  members(): readonly MemberView[] {
    return this.memberList;
  }

  /** Counts of table loads and applied moves events, for tests and metrics. */
  get stats(): RingStats {
    return { tableLoads: this.tableLoads, movesApplied: this.movesApplied, reloads: { ...this.reloads } };
  }

  /** The watch is down for longer than staleAfterMs: answers may be old. */
  get stale(): boolean {
    return this.staleSent;
  }

  // ---- through the sidecar ----------------------------------------------------------------------

  /** POST /v1/claims: claims (or renews) ids for this member; route() names the claimant at once. */
  async claim(ids: readonly string[], options: { readonly ttlMs?: number | null } = {}): Promise<ClaimResult[]> {
    const body = JSON.stringify({ ids, ...(options.ttlMs !== undefined ? { ttl_ms: options.ttlMs } : {}) });
    const res = await this.request('/v1/claims', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`swimring-client: claim answered ${res.status}: ${text}`);
    const answer = JSON.parse(text) as { results: { id: string; status: ClaimResult['status']; claim?: { owner: RouteOwner | null; fence?: string } }[] };
    return answer.results.map((r) => {
      const owner = r.claim?.owner ?? null;
      const fence = r.claim?.fence;
      if (owner !== null && fence !== undefined && (r.status === 'claimed' || r.status === 'renewed' || r.status === 'owned_elsewhere')) {
        const claimant: Claimant = { owner, fence };
        this.claims.set(r.id, claimant);
        if (this.loading) this.claimsDuringLoad.set(r.id, claimant);
      }
      return { id: r.id, status: r.status, owner };
    });
  }

  /** POST /v1/apply/:key: delivers `body` to the key's owner's app through the sidecars (docs/apply.md). */
  async apply(key: string, body: string | Uint8Array, options: ApplyOptions = {}): Promise<ApplyResult> {
    const headers: Record<string, string> = { 'content-type': options.contentType ?? 'application/json' };
    if (options.requestId !== undefined) headers['idempotency-key'] = options.requestId;
    const res = await this.request(`/v1/apply/${encodeURIComponent(key)}`, { method: 'POST', headers, body });
    return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()), owner: res.headers.get('x-swimring-owner') };
  }

  /** Stops following the sidecar. route() keeps answering from the last table. */
  async close(): Promise<void> {
    this.closed = true;
    this.watch.close();
    if (this.loadTimer) clearTimeout(this.loadTimer);
    if (this.staleTimer) clearTimeout(this.staleTimer);
    await this.loading?.catch(() => {});
  }

  // ---- keeping the table current ----------------------------------------------------------------

  private installed(): RingTable {
    if (this.table === null) throw new Error('swimring-client: not connected (await connect())');
    return this.table;
  }

  private request(path: string, init: RequestInit): Promise<Response> {
    return fetch(new URL(path, this.opts.url), {
      ...init,
      headers: { ...this.headers, ...(init.headers as Record<string, string> | undefined) },
      signal: AbortSignal.timeout(this.opts.requestTimeoutMs),
    });
  }

  /** Loads members and table (one load at a time; asks made meanwhile make one more). */
  private reload(reason: string): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.reloads[reason] = (this.reloads[reason] ?? 0) + 1;
    if (this.loading) {
      this.loadAgain = true;
      return this.loading;
    }
    this.claimsDuringLoad.clear();
    this.loading = this.load()
      .then(() => {
        this.loadAttempt = 0;
      })
      .catch(() => {
        // The sidecar is away or answered something unreadable: try again later (the watch says when it is back).
        if (this.closed) return;
        const delay = backoffMs(this.loadAttempt++, this.opts.minBackoffMs, this.opts.maxBackoffMs);
        this.loadTimer = setTimeout(() => void this.reload('retry'), delay);
        this.loadTimer.unref();
      })
      .finally(() => {
        this.loading = null;
        if (this.loadAgain && !this.closed) {
          this.loadAgain = false;
          void this.reload('loading');
        } else {
          this.maybeFresh();
        }
      });
    return this.loading;
  }

  private async load(): Promise<void> {
    this.tableLoads++;
    const [membersRes, tableRes] = await Promise.all([this.request('/v1/members', {}), this.request('/v1/table/compact', {})]);
    if (membersRes.status !== 200 || tableRes.status !== 200) {
      throw new Error(`swimring-client: the sidecar answered ${membersRes.status} / ${tableRes.status}`);
    }
    const members = (JSON.parse(await membersRes.text()) as { members: MemberView[] }).members;
    const next = new RingTable(JSON.parse(await tableRes.text()) as CompactTableJson);
    if (this.closed) return;
    this.memberList = members;
    this.selfName = members.find((m) => m.self)?.name ?? this.selfName;
    this.install(next, true);
  }

  /**
   * Swaps `next` in whole, then tells listeners what this member gained and lost. A loaded table brings
   * the claims as the sidecar had them, updated with those learnt during the load; a table made from a
   * moves event keeps the claims the library holds.
   */
  private install(next: RingTable, loaded: boolean): void {
    const previous = this.table;
    if (loaded) {
      const claims = new Map(next.claims);
      for (const [id, owner] of this.claimsDuringLoad) {
        if (owner === null) claims.delete(id);
        else claims.set(id, owner);
      }
      this.claims = claims;
    }
    this.table = next;
    if (previous !== null && previous.version !== next.version && this.selfName !== null && previous.shards === next.shards) {
      const { gained, lost } = movesOf(previous, next, this.selfName);
      this.emit('moves', { version: next.version, previousVersion: previous.version, gained, lost });
    }
  }

  private onWatchEvent(e: WatchEvent): void {
    switch (e.type) {
      case 'snapshot':
        this.memberList = e.members;
        this.selfName = e.members.find((m) => m.self)?.name ?? this.selfName;
        this.announced = e.version;
        this.downSince = null;
        if (this.staleTimer) clearTimeout(this.staleTimer);
        this.staleTimer = null;
        // Events missed while away (claims included): read the table again.
        void this.reload('connect');
        this.firstSnapshot?.();
        this.firstSnapshot = null;
        this.maybeFresh();
        return;
      case 'member':
        this.onMember(e);
        this.emit('member', e);
        return;
      case 'moves':
        this.announced = e.version;
        this.onMoves(e);
        return;
      case 'claim':
        // With followClaims the `claims` event carries the new owner and its fence too; without, a new
        // owner's fence comes with a table load.
        if (!this.opts.followClaims) {
          if (e.owner === null) this.setClaim(e.id, null, null);
          else void this.reload('claim');
        }
        this.emit('claimLost', e.id, e);
        return;
      case 'claims':
        for (const c of e.changes) this.setClaim(c.id, c.owner, c.fence);
        return;
    }
  }

  /** A table change: made from the event when it leads from the installed table, else loaded. */
  private onMoves(e: MovesWatchEvent): void {
    const t = this.table;
    if (t !== null && t.version === e.version) return this.maybeFresh();
    if (t === null || this.loading) {
      void this.reload('loading');
      return;
    }
    const next = applyMoves(t, e);
    if (typeof next === 'string') {
      void this.reload(next);
      return;
    }
    this.movesApplied++;
    this.install(next, false);
    this.maybeFresh();
  }

  /** A member's state, addresses or serving flag changed: the member list and the answers that name it follow. */
  private onMember(e: MemberEvent): void {
    const at = this.memberList.findIndex((m) => m.name === e.name);
    const known = at < 0 ? undefined : this.memberList[at];
    if (e.addresses === undefined || e.serving === undefined) {
      // An older sidecar's event, without the addresses: a new member, a restart or a serving change
      // may change what answers carry, so load.
      if (known !== undefined) this.memberList = this.memberList.map((m, i) => (i === at ? { ...m, state: e.to, incarnation: e.incarnation, serving: e.serving ?? m.serving } : m));
      void this.reload('member');
      return;
    }
    const view: MemberView = { name: e.name, state: e.to, incarnation: e.incarnation, serving: e.serving, addresses: e.addresses, tags: e.tags ?? known?.tags ?? {}, self: known?.self ?? e.name === this.selfName };
    this.memberList = at < 0 ? [...this.memberList, view] : this.memberList.map((m, i) => (i === at ? view : m));
    const t = this.table;
    const index = t === null ? -1 : t.members.findIndex((m) => m.name === e.name);
    if (t === null || index < 0) return;
    const owner: RouteOwner = { name: e.name, addresses: e.addresses, serving: e.serving };
    const was = t.members[index]!;
    if (was.serving === owner.serving && JSON.stringify(was.addresses) === JSON.stringify(owner.addresses)) return;
    // A load in flight may have read the member before this change: load once more after it.
    if (this.loading) {
      void this.reload('loading');
      return;
    }
    this.table = t.withMember(index, owner);
    for (const [id, c] of this.claims) if (c.owner.name === e.name) this.claims.set(id, { owner, fence: c.fence });
  }

  /** Route answers for `id` name `owner` with `fence` now (null: the ring's owner). */
  private setClaim(id: string, owner: string | null, fence: string | null): void {
    let claimant: Claimant | null = null;
    if (owner !== null) {
      const member = this.table?.members.find((m) => m.name === owner);
      // A claimant outside the table (not serving): its addresses come with the next load.
      if (member === undefined || fence === null) {
        void this.reload('claim');
        return;
      }
      claimant = { owner: member, fence };
    }
    if (claimant === null) this.claims.delete(id);
    else this.claims.set(id, claimant);
    if (this.loading) this.claimsDuringLoad.set(id, claimant);
  }

  private onWatchDown(reason: string): void {
    if (this.closed || this.downSince !== null) return;
    this.downSince = Date.now();
    const since = this.downSince;
    this.staleTimer = setTimeout(() => {
      this.staleTimer = null;
      if (this.downSince !== since || this.closed) return;
      this.staleSent = true;
      this.emit('stale', { since, reason });
    }, this.opts.staleAfterMs);
    this.staleTimer.unref();
  }

  /** After a stale period: the watch is back and the installed table is the one it announced. */
  private maybeFresh(): void {
    if (!this.staleSent || this.downSince !== null || this.table === null || this.table.version !== this.announced || this.loading) return;
    this.staleSent = false;
    this.emit('fresh', { version: this.table.version });
  }
}

/** Connects to the sidecar at `url`: resolves once the table is loaded and the watch is followed. */
export async function connect(options: ConnectOptions): Promise<Ring> {
  const ring = new Ring(options);
  await ring.start();
  return ring;
}
