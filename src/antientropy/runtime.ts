// Digest anti-entropy as the agent runs it: one object holding this member's trees, the server side of
// the three RPCs, and the calling side of a round. The agent calls round() where the core asks for a
// periodic full-state exchange (a 'negotiate' effect with join = false) and feeds the member records
// that come back to the core as the answer to that exchange, so the core's push-pull semantics hold.
import { status } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { MemberRecord } from '../core/types.js';
import type { ControlPlaneClient } from '../grpc/client.js';
import type { CallContext } from '../grpc/convert.js';
import { ControlPlaneCallError, type Rejection } from '../grpc/errors.js';
import type { ControlPlaneLimits } from '../grpc/limits.js';
import type { ExtraMethods } from '../grpc/service.js';
import type { ClaimRecord, ClaimStoreView } from '../ownership/types.js';
import { PeerRecordVersions } from '../ownership/record-versions.js';
import { digestServerMethods, GrpcDigestPeer, type WireCounter } from './grpc.js';
import { DigestResponder } from './responder.js';
import { LocalDigest } from './side.js';
import { syncWith, type SyncMode, type SyncResult } from './sync.js';

export type AntiEntropyMode = SyncMode | 'negotiate';

export interface AntiEntropyOptions {
  readonly mode: AntiEntropyMode;
  readonly client: ControlPlaneClient;
  readonly limits: ControlPlaneLimits;
  readonly rpcTimeoutMs: number;
  /** The core's full state (tombstones included). */
  readonly memberState: () => readonly MemberRecord[];
  /** Merges a peer's member records that arrived as a request (the server side of FetchEntries). */
  readonly mergeMembers: (records: readonly MemberRecord[]) => void;
  readonly checkContext: (context: CallContext) => void;
  readonly onReject: (rpc: string, rejection: Rejection) => void;
  readonly logger: Logger;
}

/** Totals since start, for metrics and the benchmark. */
export interface AntiEntropyStats {
  rounds: number;
  /** Rounds where every shared tree had equal roots. */
  inSync: number;
  /** Rounds that failed (the core treats them like a failed Negotiate). */
  failures: number;
  /** Rounds with peers that do not speak the digest RPCs (they got a Negotiate instead). */
  fallbacks: number;
  bucketsSwapped: number;
  membersReceived: number;
  claimsReceived: number;
  /** Serialized request and reply bytes of the digest RPCs this member called. */
  readonly wire: WireCounter;
}

export class AntiEntropy {
  readonly stats: AntiEntropyStats = {
    rounds: 0,
    inSync: 0,
    failures: 0,
    fallbacks: 0,
    bucketsSwapped: 0,
    membersReceived: 0,
    claimsReceived: 0,
    wire: { sent: 0, received: 0, calls: 0 },
  };
  private readonly side: LocalDigest;
  private readonly responder: DigestResponder;
  private claims: ClaimStoreView | undefined;
  /** Peers that read only version 1 claim records (members of an earlier release), across rounds. */
  private readonly recordVersions = new PeerRecordVersions();

  constructor(private readonly opts: AntiEntropyOptions) {
    this.side = new LocalDigest({ memberState: opts.memberState });
    this.responder = new DigestResponder(this.side, {
      mergeMembers: (records) => opts.mergeMembers(records),
      mergeClaims: (records) => this.mergeClaims(records),
    });
  }

  get mode(): AntiEntropyMode {
    return this.opts.mode;
  }

  /** Adds the claims tree, kept current from the store's change feed. Once, at start. */
  attachClaims(store: ClaimStoreView): void {
    if (this.claims) throw new Error('anti-entropy: a claim store is already attached');
    this.claims = store;
    this.side.attachClaims(store);
  }

  /** The three RPCs for the control-plane server (answered in every mode, so peers may use them). */
  serverMethods(): ExtraMethods {
    return digestServerMethods({
      responder: this.responder,
      limits: this.opts.limits,
      checkContext: this.opts.checkContext,
      onReject: this.opts.onReject,
    });
  }

  /**
   * One round with the member at `addr`. Resolves with the peer's member records of the differing
   * buckets (claims are merged here), or null when the peer answers UNIMPLEMENTED (an older member):
   * the caller then does a Negotiate instead. Rejects when the round failed.
   */
  async round(addr: string): Promise<MemberRecord[] | null> {
    const mode: SyncMode = this.opts.mode === 'full' ? 'full' : 'digest';
    const peer = new GrpcDigestPeer(this.opts.client, addr, this.opts.rpcTimeoutMs, this.opts.limits, this.stats.wire, this.recordVersions);
    this.stats.rounds++;
    let result: SyncResult;
    try {
      result = await syncWith(this.side, peer, mode);
    } catch (err) {
      if (err instanceof ControlPlaneCallError && err.code === status.UNIMPLEMENTED) {
        this.stats.fallbacks++;
        return null;
      }
      this.stats.failures++;
      throw err;
    }
    if (result.inSync) this.stats.inSync++;
    for (const t of result.trees) this.stats.bucketsSwapped += t.buckets;
    this.stats.membersReceived += result.members.length;
    this.stats.claimsReceived += result.claims.length;
    if (result.claims.length > 0) this.mergeClaims(result.claims);
    if (!result.inSync) {
      this.opts.logger.debug(
        { peer: addr, trees: result.trees.map((t) => ({ tree: t.tree, buckets: t.buckets, sent: t.sent, received: t.received })) },
        'digest anti-entropy repaired differing buckets',
      );
    }
    return result.members;
  }

  /** Root of one tree as hex, for diagnostics and tests; null when the tree is not kept. */
  rootHex(tree: 'members' | 'claims'): string | null {
    this.side.refresh();
    const t = this.side.tree(tree);
    if (!t) return null;
    const r = t.root();
    return r.hi.toString(16).padStart(8, '0') + r.lo.toString(16).padStart(8, '0');
  }

  close(): void {
    this.side.close();
  }

  private mergeClaims(records: readonly ClaimRecord[]): void {
    if (!this.claims) return;
    const outcome = this.claims.merge(records);
    if (outcome.rejected.length > 0) {
      this.opts.logger.debug({ rejected: outcome.rejected.length, first: outcome.rejected[0]?.reason }, 'digest anti-entropy: claim records refused by the store');
    }
  }
}
