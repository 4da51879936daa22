// Claims as the agent serves them: the claims part of the member (src/member/claims.ts, which the
// Member steps: its timers, its calls to peers as effects the runner carries over gRPC, its membership
// news), and around it what is served from it: claimant addresses, the gRPC handlers, the route
// override and the HTTP view. Every change the app or a peer makes is run as a member input.
import type { Logger } from 'pino';
import type { MemberRecord } from '../core/types.js';
import type { CallContext } from '../grpc/convert.js';
import type { RejectReason } from '../grpc/errors.js';
import type { ExtraMethods } from '../grpc/service.js';
import { replicasBeside } from '../placement/claimed-replicas.js';
import type { RouteAnswer, RouteOwner, WatchEvent } from '../runtime/view.js';
import { MemberClaims } from '../member/claims.js';
import type { ClockPort } from '../member/ports.js';
import { realClock } from '../shell/real-clock.js';
import type { ClaimItemView, ClaimOwnerChange, ClaimRequestResult, ClaimsView, ClaimView, LocalPage, ReleaseResult } from './api.js';
import { MAX_PAGE_IDS, ownershipExtraMethods } from './grpc.js';
import { decodePageToken, encodePageToken, resolvePageSize } from './paging.js';
import type { ClaimService, ClaimOptions, Self } from './service.js';
import type { ClaimRecord, ClaimStoreView } from './types.js';

export interface AgentClaimsOptions extends ClaimOptions {
  readonly defaultPageSize: number;
  readonly maxIdsPerRequest: number;
  /** TEST ONLY: see ClaimConfig.testClockOffsetMs. */
  readonly testClockOffsetMs?: number;
}

function offsetClock(clock: ClockPort, offsetMs: number): () => number {
  return () => clock.wallNow() + offsetMs;
}

/** Runs an operation on the claims as an input of the member that runs them. */
export type ClaimsStep = <T>(op: (service: ClaimService) => T) => T;

export interface AgentClaimsDeps {
  readonly self: () => Self;
  /** The ring's answer, claims not considered. */
  readonly ringRoute: (key: string) => RouteAnswer;
  readonly tableVersion: () => string;
  /** Throws a ControlPlaneError to refuse a call (label, key proof), as the agent's other handlers do. */
  readonly checkContext: (context: CallContext) => void;
  readonly options: AgentClaimsOptions;
  readonly logger: Logger;
  readonly publish: (event: WatchEvent) => void;
  /** The clock the claims' wall clock and start time come from; default the process clock. */
  readonly timers?: ClockPort;
}

export class AgentClaims implements ClaimsView {
  readonly service: ClaimService;
  readonly maxIdsPerRequest: number;
  readonly maxTtlMs: number;
  /** The claims part of the member: handed to the Member, which steps it. */
  readonly memberClaims: MemberClaims;
  private owners = new Map<string, RouteOwner>();
  private readonly ownerListeners = new Set<(changes: readonly ClaimOwnerChange[]) => void>();
  /** Ids changed since the last flush to ownerListeners. */
  private readonly changedIds = new Set<string>();
  private flushScheduled = false;
  /** Until the member runs (start), operations run directly: nothing is announced before it does. */
  private step: ClaimsStep = (op) => op(this.service);

  constructor(private readonly deps: AgentClaimsDeps) {
    this.maxIdsPerRequest = deps.options.maxIdsPerRequest;
    this.maxTtlMs = deps.options.maxTtlMs;
    const timers = deps.timers ?? realClock;
    const offsetMs = deps.options.testClockOffsetMs ?? 0;
    this.memberClaims = new MemberClaims(
      { self: deps.self, options: deps.options, logger: deps.logger, wallClock: offsetMs === 0 ? () => timers.wallNow() : offsetClock(timers, offsetMs) },
      timers.now(),
    );
    this.service = this.memberClaims.service;
    this.service.store.onChange((change) => this.noteChange(change.record.id));
    this.service.onLoss((loss) =>
      deps.publish({ type: 'claim', version: deps.tableVersion(), id: loss.id, change: loss.reason, owner: loss.owner, fence: loss.fence.toString() }),
    );
  }

  /** The member runs: from now on every change is one of its inputs (`step`). */
  runBy(step: ClaimsStep): void {
    this.step = step;
  }

  close(): void {
    this.memberClaims.close();
  }

  /** The store as the digest exchange sees it: records it brings are merged as a member input. */
  storeView(): ClaimStoreView {
    const store = this.service.store;
    return {
      size: () => store.size(),
      claimCount: () => store.claimCount(),
      entries: () => store.entries(),
      get: (id) => store.get(id),
      recordsFor: (id) => store.recordsFor(id),
      merge: (records) => this.step((service) => service.store.merge(records)),
      onChange: (listener) => store.onChange(listener),
    };
  }

  extraMethods(onReject: (rpc: string, reason: RejectReason, detail: string) => void): ExtraMethods {
    return ownershipExtraMethods({
      service: this.service,
      checkContext: this.deps.checkContext,
      tableVersion: this.deps.tableVersion,
      defaultPageSize: this.deps.options.defaultPageSize,
      onReject,
      step: (op) => this.step(op),
    });
  }

  /** After every change of the member view: addresses for route answers (the member tells its claims itself). */
  refreshMembers(members: readonly MemberRecord[]): void {
    const owners = new Map<string, RouteOwner>();
    for (const r of members) {
      if (r.state !== 'alive' && r.state !== 'suspect') continue;
      owners.set(r.name, { name: r.name, addresses: { gossip: r.gossipAddr, grpc: r.grpcAddr, app: r.meta.appAddr }, serving: r.meta.serving });
    }
    this.owners = owners;
  }

  // ---- routes ---------------------------------------------------------------------------------

  /** The ring's answer with the claimant put in when the key is claimed (the route hot path). */
  routeAnswer(a: RouteAnswer): RouteAnswer {
    const store = this.service.store;
    if (store.claimCount() === 0) return a;
    const winner = store.get(a.key);
    if (winner === undefined) return a;
    return this.withClaimant(a, winner);
  }

  /** Every claimed id whose claimant route answers name now (it is in the view), with that claimant and the claim's fence. */
  *routedClaims(): Iterable<[string, RouteOwner, string]> {
    const store = this.service.store;
    if (store.claimCount() === 0) return;
    for (const record of store.entries()) {
      if (store.get(record.id) !== record) continue;
      const owner = this.owners.get(record.owner);
      if (owner !== undefined) yield [record.id, owner, record.fence.toString()];
    }
  }

  subscribeOwners(listener: (changes: readonly ClaimOwnerChange[]) => void): () => void {
    this.ownerListeners.add(listener);
    return () => this.ownerListeners.delete(listener);
  }

  private noteChange(id: string): void {
    if (this.ownerListeners.size === 0) return;
    this.changedIds.add(id);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // A batch of announcements changes many ids in one turn: watchers get them as one event.
    setImmediate(() => this.flushOwnerChanges());
  }

  private flushOwnerChanges(): void {
    this.flushScheduled = false;
    const store = this.service.store;
    const changes: ClaimOwnerChange[] = [];
    for (const id of this.changedIds) {
      const winner = store.get(id);
      // Route answers name a claimant only while it is in the view (withClaimant).
      const owner = winner === undefined ? undefined : this.owners.get(winner.owner);
      changes.push(owner === undefined || winner === undefined ? { id, owner: null, fence: null } : { id, owner: owner.name, fence: winner.fence.toString() });
    }
    this.changedIds.clear();
    for (const listener of this.ownerListeners) listener(changes);
  }

  hasClaims(): boolean {
    return this.service.store.claimCount() > 0;
  }

  claimedRoute(key: string): RouteAnswer | undefined {
    const store = this.service.store;
    if (store.claimCount() === 0) return undefined;
    const winner = store.get(key);
    if (winner === undefined) return undefined;
    const a = this.withClaimant(this.deps.ringRoute(key), winner);
    return a.claimed === true ? a : undefined;
  }

  routeClaiming(key: string): RouteAnswer {
    const winner = this.step((service) => service.touch(key));
    const ring = this.deps.ringRoute(key);
    return winner === undefined ? ring : this.withClaimant(ring, winner);
  }

  private withClaimant(a: RouteAnswer, winner: ClaimRecord): RouteAnswer {
    const owner = this.owners.get(winner.owner);
    // A claimant not (yet) in the view cannot be reached: the ring answers until it is.
    if (owner === undefined) return a;
    return { key: a.key, shard: a.shard, owner, replicas: replicasBeside(owner, a.owner, a.replicas), version: a.version, claimed: true, fence: winner.fence.toString() };
  }

  // ---- ClaimsView -----------------------------------------------------------------------------

  claim(ids: readonly string[], ttlMs: number | null | undefined): ClaimRequestResult {
    const self = this.deps.self();
    if (!self.serving) {
      return { ok: false, code: 'not_serving', message: 'this member is not serving (app not ready or leaving): it takes no new claims' };
    }
    if (this.service.clockOff()) {
      return {
        ok: false,
        code: 'clock_skew',
        message: `this member's clock is off from most peers' by more than ${this.deps.options.maxClockSkewMs} ms: it takes no new claims until it is fixed`,
      };
    }
    const results: ClaimItemView[] = this.step((service) => service.claim(ids, ttlMs)).map((o) =>
      'record' in o
        ? { id: o.id, status: o.status, claim: this.view(o.record) }
        : o.status === 'limit'
          ? { id: o.id, status: o.status, message: o.message }
          : { id: o.id, status: o.status },
    );
    return { ok: true, version: this.deps.tableVersion(), results };
  }

  release(id: string): ReleaseResult {
    const out = this.step((service) => service.release(id));
    if (out === 'released') return { ok: true };
    if (out === 'not_claimed') return { ok: false, code: 'not_claimed', message: `${JSON.stringify(id)} is not claimed` };
    return { ok: false, code: 'claimed_elsewhere', message: `${JSON.stringify(id)} is claimed by ${out.ownedBy.owner}`, claim: this.view(out.ownedBy) };
  }

  lookup(id: string): ClaimView | undefined {
    const winner = this.service.store.get(id);
    return winner === undefined ? undefined : this.view(winner);
  }

  localPage(limit: number, pageToken: string): LocalPage | null {
    const after = decodePageToken(pageToken);
    if (after === null) return null;
    const page = this.service.localIds(resolvePageSize(limit, this.deps.options.defaultPageSize, MAX_PAGE_IDS), after);
    const last = page.ids[page.ids.length - 1];
    return { ids: page.ids, nextPageToken: page.more && last !== undefined ? encodePageToken(last) : '', version: this.deps.tableVersion() };
  }

  private view(r: ClaimRecord): ClaimView {
    return {
      id: r.id,
      owner: this.owners.get(r.owner) ?? null,
      ownerName: r.owner,
      claimedAtMs: r.claimedAtMs,
      expiresAtMs: r.expiresAtMs,
      fence: r.fence.toString(),
    };
  }
}

