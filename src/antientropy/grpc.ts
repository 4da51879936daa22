// The digest RPCs over gRPC: server methods (plugged into the control-plane server as extra methods)
// and a DigestPeer that calls them through the control-plane client.
import * as grpc from '@grpc/grpc-js';
import type { ControlPlaneClient } from '../grpc/client.js';
import { membersFromProto, membersToProto, type CallContext } from '../grpc/convert.js';
import { ControlPlaneCallError, invalid, isRejection, type Rejection } from '../grpc/errors.js';
import type { ControlPlaneLimits } from '../grpc/limits.js';
import type { ExtraMethods } from '../grpc/service.js';
import { guardedUnary } from '../grpc/guarded-unary.js';
import type { ClaimRecord } from '../ownership/types.js';
import type { MemberRecord } from '../core/types.js';
import type { ExchangeRootsReply } from '../grpc/generated/swimring/v1/ExchangeRootsReply.js';
import type { ExchangeRootsRequest__Output } from '../grpc/generated/swimring/v1/ExchangeRootsRequest.js';
import type { FetchEntriesReply } from '../grpc/generated/swimring/v1/FetchEntriesReply.js';
import type { FetchEntriesRequest__Output } from '../grpc/generated/swimring/v1/FetchEntriesRequest.js';
import type { GetLeavesReply } from '../grpc/generated/swimring/v1/GetLeavesReply.js';
import type { GetLeavesRequest__Output } from '../grpc/generated/swimring/v1/GetLeavesRequest.js';
import type { RequestHeader } from '../grpc/generated/swimring/v1/RequestHeader.js';
import type { BoundedMethod } from '../grpc/service.js';
import { PeerRecordVersions, recordVersionForCaller } from '../ownership/record-versions.js';
import type { DigestResponder } from './responder.js';
import type { BucketEntries, DigestPeer, RootInfo, TreeName } from './types.js';
import { claimsFromProto, claimsToProto, digestMethods, rootsFromProto, rootsToProto, treeFromProto, treeToProto, type DigestMethods } from './wire.js';

export interface DigestServerOptions {
  readonly responder: DigestResponder;
  readonly limits: ControlPlaneLimits;
  /** Throws ControlPlaneError to refuse (label mismatch). */
  readonly checkContext: (context: CallContext) => void;
  readonly onReject: (rpc: string, rejection: Rejection) => void;
}

function tree(value: Parameters<typeof treeFromProto>[0]): TreeName | Rejection {
  return treeFromProto(value) ?? invalid('tree', `unknown digest tree ${String(value)}`);
}

/** ExchangeRoots, GetLeaves and FetchEntries as extra methods of the control-plane server. */
export function digestServerMethods(opts: DigestServerOptions): ExtraMethods {
  const methods = digestMethods(opts.limits);
  const r = opts.responder;
  return {
    ExchangeRoots: {
      requestDeserialize: methods.ExchangeRoots.requestDeserialize,
      handler: guardedUnary<ExchangeRootsRequest__Output, ExchangeRootsReply>('ExchangeRoots', opts, (req) => {
        const theirs = rootsFromProto(req.roots);
        if (typeof theirs === 'string') return invalid('roots', theirs);
        return { roots: rootsToProto(r.exchangeRoots()) };
      }) as grpc.UntypedHandleCall,
    },
    GetLeaves: {
      requestDeserialize: methods.GetLeaves.requestDeserialize,
      handler: guardedUnary<GetLeavesRequest__Output, GetLeavesReply>('GetLeaves', opts, (req) => {
        const t = tree(req.tree);
        if (isRejection(t)) return t;
        const hashes = r.getLeaves(t, req.level, req.parents);
        if (!(hashes instanceof Uint8Array)) return invalid(hashes.field, hashes.problem);
        return { hashes: Buffer.from(hashes.buffer, hashes.byteOffset, hashes.byteLength) };
      }) as grpc.UntypedHandleCall,
    },
    FetchEntries: {
      requestDeserialize: methods.FetchEntries.requestDeserialize,
      handler: guardedUnary<FetchEntriesRequest__Output, FetchEntriesReply>('FetchEntries', opts, (req) => {
        const t = tree(req.tree);
        if (isRejection(t)) return t;
        const members = membersFromProto(req.members, 'members', opts.limits);
        if (isRejection(members)) return members;
        const claims = claimsFromProto(req.claims, 'claims');
        if (typeof claims === 'string') return invalid('claims', claims);
        const ours = r.fetch(t, req.buckets, { members, claims });
        if ('field' in ours) return invalid(ours.field, ours.problem);
        return { members: membersToProto(ours.members), claims: claimsToProto(ours.claims, recordVersionForCaller(req.header?.claimRecordVersion ?? 0)) };
      }) as grpc.UntypedHandleCall,
    },
  };
}

/** Byte counts of the digest calls one peer object made (for the benchmark and metrics). */
export interface WireCounter {
  sent: number;
  received: number;
  calls: number;
}

/** A DigestPeer over the control-plane client. Bytes are the serialized messages (gRPC framing excluded). */
export class GrpcDigestPeer implements DigestPeer {
  private readonly methods: DigestMethods;

  constructor(
    private readonly client: ControlPlaneClient,
    private readonly addr: string,
    private readonly timeoutMs: number,
    private readonly limits: ControlPlaneLimits,
    readonly counter: WireCounter = { sent: 0, received: 0, calls: 0 },
    /** Which peers read only version 1 claim records; shared across rounds. */
    private readonly recordVersions: PeerRecordVersions = new PeerRecordVersions(),
  ) {
    this.methods = digestMethods(limits);
  }

  async exchangeRoots(mine: readonly RootInfo[]): Promise<readonly RootInfo[]> {
    const reply = await this.call(this.methods.ExchangeRoots, (header) => ({ header, roots: rootsToProto(mine) }));
    const roots = rootsFromProto(reply.roots);
    if (typeof roots === 'string') throw this.refused('ExchangeRoots', roots);
    return roots;
  }

  async getLeaves(t: TreeName, level: number, parents: readonly number[]): Promise<Uint8Array> {
    const reply = await this.call(this.methods.GetLeaves, (header) => ({ header, tree: treeToProto(t), level, parents: [...parents] }));
    return reply.hashes;
  }

  async fetch(t: TreeName, buckets: readonly number[], ours: BucketEntries): Promise<BucketEntries> {
    const reply = await this.recordVersions.send(this.addr, (version) =>
      this.call(this.methods.FetchEntries, (header) => ({
        header,
        tree: treeToProto(t),
        buckets: [...buckets],
        members: membersToProto(ours.members),
        claims: claimsToProto(ours.claims, version),
      })),
    );
    const members: MemberRecord[] | Rejection = membersFromProto(reply.members, 'members', this.limits);
    if (isRejection(members)) throw this.refused('FetchEntries', members.message);
    const claims: ClaimRecord[] | string = claimsFromProto(reply.claims, 'claims');
    if (typeof claims === 'string') throw this.refused('FetchEntries', claims);
    return { members, claims };
  }

  private async call<ReqIn, ReqOut, ResIn, ResOut>(
    method: BoundedMethod<ReqIn, ReqOut, ResIn, ResOut>,
    build: (header: RequestHeader) => NoInfer<ReqIn>,
  ): Promise<ResOut> {
    // Counts the serialized messages as they pass (gRPC and HTTP/2 framing not included).
    let sentBytes = 0;
    const counting: BoundedMethod<ReqIn, ReqOut, ResIn, ResOut> = {
      ...method,
      requestSerialize: (v) => {
        const b = method.requestSerialize(v);
        sentBytes = b.length;
        return b;
      },
      responseDeserialize: (b) => {
        this.counter.received += b.length;
        return method.responseDeserialize(b);
      },
    };
    this.counter.calls++;
    try {
      return await this.client.unary(counting, this.addr, build, this.timeoutMs);
    } finally {
      this.counter.sent += sentBytes;
    }
  }

  private refused(rpc: string, why: string): ControlPlaneCallError {
    return new ControlPlaneCallError(rpc, this.addr, grpc.status.INVALID_ARGUMENT, `${rpc} reply from ${this.addr} refused: ${why}`);
  }
}
