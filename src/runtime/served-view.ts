// What the agent serves from the member's state: route answers (through the route index of the current
// table and the members' addresses), the member list and table views, and the watch events. Fed by the
// runner's hooks: a membership event, a view change, a table built.
import type { Logger } from 'pino';
import type { MemberRecord, MembershipEvent } from '../core/types.js';
import type { TableBuilt } from '../member/ports.js';
import type { RuntimeObservers } from '../ops-metrics.js';
import type { AgentClaims } from '../ownership/agent-claims.js';
import type { PlacementTable } from '../placement/index.js';
import { compactTableOf } from './compact-table.js';
import { RouteIndex } from './route-index.js';
import type { AgentStats } from './stats.js';
import { movesPatch, summarizeMoves } from './table-moves.js';
import type { MemberAddresses } from './view-json.js';
import type { CompactTableView, MemberView, RouteAnswer, RouteEncoder, TableView, WatchEvent } from './view.js';

export interface ServedViewDeps {
  readonly name: string;
  readonly stats: AgentStats;
  readonly logger: Logger;
  readonly observers: RuntimeObservers;
  readonly claims: AgentClaims;
  /** The members as the member holds them ([] before it runs). */
  readonly records: () => MemberRecord[];
  /** The table the member serves. */
  readonly table: () => PlacementTable;
  /** Tells listeners the view changed (metrics refresh). */
  readonly changed: () => void;
}

export class ServedView {
  private routeIndex: RouteIndex;
  private readonly watchers = new Set<(e: WatchEvent) => void>();

  constructor(private readonly deps: ServedViewDeps) {
    this.routeIndex = new RouteIndex(deps.table(), new Map());
  }

  /** After a change of the view: the addresses in route answers at once, and the claimants' addresses. */
  refresh(): void {
    const records = this.deps.records();
    this.routeIndex = this.routeIndex.next(this.deps.table(), byName(records));
    this.deps.claims.refreshMembers(records);
  }

  /** Whether anyone watches: a table's move groups are only worth listing for watchers. */
  get watched(): boolean {
    return this.watchers.size > 0;
  }

  tableBuilt(built: TableBuilt, previous: PlacementTable): void {
    const { stats, observers } = this.deps;
    const next = built.table;
    // A watcher that came while the build ran gets the groups all the same, listed now.
    const moves = built.moves.countsOnly && this.watched && previous.shards === next.shards ? summarizeMoves(previous, next) : built.moves;
    observers.tableBuilt(built.elapsedMs / 1000, built.where);
    this.routeIndex = this.routeIndex.next(next, byName(this.deps.records()));
    if (previous.version === next.version) return;
    stats.tableChanges++;
    stats.ownerMoves += moves.ownerMoves;
    stats.replicaMoves += moves.replicaMoves;
    this.deps.logger.info(
      {
        version: next.version,
        previous: previous.version,
        owners: next.members.length,
        ownerMoves: moves.ownerMoves,
        replicaMoves: moves.replicaMoves,
        buildMs: Math.round(built.elapsedMs),
        builtIn: built.where,
      },
      'ownership table rebuilt',
    );
    const patch = movesPatch(previous, next, moves, (i) => this.routeIndex.owner(i));
    this.publish({
      type: 'moves',
      version: next.version,
      previousVersion: previous.version,
      ownerMoves: moves.ownerMoves,
      replicaMoves: moves.replicaMoves,
      moves: moves.groups,
      ...(patch === null ? {} : { patch }),
    });
    this.deps.changed();
  }

  event(event: MembershipEvent): void {
    const log = this.deps.logger;
    switch (event.type) {
      case 'member':
        log.info({ member: event.name, from: event.from, to: event.to, incarnation: event.incarnation, reason: event.reason }, 'membership change');
        this.publish({
          type: 'member',
          version: this.deps.table().version,
          name: event.name,
          from: event.from,
          to: event.to,
          incarnation: event.incarnation,
          reason: event.reason,
          serving: event.member.meta.serving,
          addresses: addressesOf(event.member),
          tags: event.member.meta.tags,
        });
        break;
      case 'reaped':
        log.info({ member: event.name }, 'member reaped');
        break;
      case 'name-conflict':
        this.deps.stats.nameConflicts++;
        log.error({ member: event.name, localLifeId: event.localLifeId, otherLifeId: event.otherLifeId, otherAddr: event.otherAddr }, 'two live processes claim one member name');
        break;
      case 'refuted':
        log.warn({ incarnation: event.incarnation, accusation: event.accusation }, 'refuted an accusation about this member');
        break;
    }
  }

  /** The ring's answer, without claims (the claims' own route). */
  ringRoute(key: string): RouteAnswer {
    return this.routeIndex.route(key);
  }

  route(key: string): RouteAnswer {
    this.deps.stats.routeRequests++;
    // --- claims: a claimed key names its claimant (one size check when nothing is claimed)
    return this.deps.claims.routeAnswer(this.routeIndex.route(key));
  }

  // --- sidecar-perf: pre-encoded ring answers for the HTTP hot path (claims are checked by the caller)
  routeEncoder(): RouteEncoder {
    return this.routeIndex;
  }

  routeMany(keys: readonly string[]): RouteAnswer[] {
    this.deps.stats.routeRequests += keys.length;
    const index = this.routeIndex;
    const out = new Array<RouteAnswer>(keys.length);
    for (let i = 0; i < keys.length; i++) out[i] = index.route(keys[i] as string);
    const claims = this.deps.claims;
    if (claims.hasClaims()) for (let i = 0; i < out.length; i++) out[i] = claims.routeAnswer(out[i] as RouteAnswer);
    return out;
  }

  members(): { version: string; members: MemberView[] } {
    return { version: this.deps.table().version, members: this.deps.records().map((r) => toMemberView(r, r.name === this.deps.name)) };
  }

  table(withOwners: boolean): TableView {
    const t = this.deps.table();
    return {
      shards: t.shards,
      replicas: t.replicas,
      version: t.version,
      members: t.members.length,
      shardsPerMember: t.shardsPerMember(),
      ...(withOwners ? { owners: Array.from({ length: t.shards }, (_, s) => t.ownerOf(s)) } : {}),
    };
  }

  compactTable(): CompactTableView {
    return compactTableOf(this.deps.table(), this.routeIndex, this.deps.claims.routedClaims());
  }

  subscribe(listener: (event: WatchEvent) => void): () => void {
    this.watchers.add(listener);
    return () => this.watchers.delete(listener);
  }

  publish(event: WatchEvent): void {
    for (const w of this.watchers) {
      try {
        w(event);
      } catch (err) {
        this.deps.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'watcher failed; unsubscribing it');
        this.watchers.delete(w);
      }
    }
  }

  close(): void {
    this.watchers.clear();
  }
}

function byName(records: readonly MemberRecord[]): Map<string, MemberRecord> {
  const out = new Map<string, MemberRecord>();
  for (const r of records) out.set(r.name, r);
  return out;
}

function addressesOf(r: MemberRecord): MemberAddresses {
  return { gossip: r.gossipAddr, grpc: r.grpcAddr, app: r.meta.appAddr };
}

function toMemberView(r: MemberRecord, self: boolean): MemberView {
  return {
    name: r.name,
    state: r.state,
    incarnation: r.incarnation,
    serving: r.meta.serving,
    addresses: addressesOf(r),
    tags: r.meta.tags,
    self,
  };
}
