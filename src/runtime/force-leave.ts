// An operator's force-leave, cluster-wide: the member the CLI talks to marks a dead member left in its
// own view, then asks every other live member over gRPC (ForceLeave) to do the same in theirs. Gossip
// cannot carry it: a `left` from another member never overrides `dead` (the core's precedence rule),
// and Closing is accepted only for the caller's own identity. Each member applies its own refusal
// rules (a member it holds alive or suspect, itself), so a member that still hears the target keeps it.
import * as grpc from '@grpc/grpc-js';
import type { MemberState } from '../core/types.js';
import type { ControlPlaneClient } from '../grpc/client.js';
import { checkName, stateFromProto, stateToProto, type CallContext } from '../grpc/convert.js';
import { isRejection, type Rejection } from '../grpc/errors.js';
import type { ForceLeaveReply, ForceLeaveReply__Output } from '../grpc/generated/swimring/v1/ForceLeaveReply.js';
import type { ForceLeaveRequest, ForceLeaveRequest__Output } from '../grpc/generated/swimring/v1/ForceLeaveRequest.js';
import { guardedUnary } from '../grpc/guarded-unary.js';
import { controlPlaneDefinition } from '../grpc/proto.js';
import { bounded, type BoundedMethod, type ExtraMethods } from '../grpc/service.js';
import type { ForceLeaveResult } from './view.js';

type ForceLeaveMethod = BoundedMethod<ForceLeaveRequest, ForceLeaveRequest__Output, ForceLeaveReply, ForceLeaveReply__Output>;

type Refusal = Exclude<ForceLeaveResult['refused'], null>;
const REFUSALS: ReadonlySet<string> = new Set<Refusal>(['self', 'unknown', 'alive', 'suspect']);
const MAX_ERROR_CHARS = 300;
/** Longest wait for one member's answer: under the CLI's 5 s wait for the whole fan-out. */
export const FORCE_LEAVE_CALL_MAX_MS = 4000;

let cached: ForceLeaveMethod | null = null;

export function forceLeaveMethod(): ForceLeaveMethod {
  cached ??= bounded('ForceLeave', controlPlaneDefinition().ForceLeave, ['ForceLeaveRequest', 'ForceLeaveReply']);
  return cached;
}

export interface ForceLeaveServerOptions {
  /** This member's own force-leave (its view only). */
  readonly forceLeave: (name: string) => ForceLeaveResult;
  /** The member's state in this view, for a refusal's reply. */
  readonly stateOf: (name: string) => MemberState | null;
  /** Throws ControlPlaneError to refuse the caller (label mismatch, missing key proof). */
  readonly checkContext: (context: CallContext) => void;
  readonly onReject: (rpc: string, rejection: Rejection) => void;
  /** Told of every request that marked a member left (for the log). */
  readonly onApplied?: (name: string, sender: string) => void;
}

export function forceLeaveServerMethods(opts: ForceLeaveServerOptions): ExtraMethods {
  const method = forceLeaveMethod();
  const handler = guardedUnary<ForceLeaveRequest__Output, ForceLeaveReply>('ForceLeave', opts, (request, ctx) => {
    const name = checkName(request.name, 'name');
    if (isRejection(name)) return name;
    const result = opts.forceLeave(name);
    if (result.refused === null) {
      opts.onApplied?.(name, ctx.sender);
      return { state: stateToProto(result.state), refused: '' };
    }
    const held = opts.stateOf(name);
    return { state: held === null ? 'MEMBER_STATE_UNSPECIFIED' : stateToProto(held), refused: result.refused };
  });
  return { ForceLeave: { requestDeserialize: method.requestDeserialize, handler: handler as grpc.UntypedHandleCall } };
}

/** One member's answer: `left` (marked, or was already), or why not. */
export interface MemberForceLeave {
  readonly member: string;
  /** The target's state in that member's view, null when it does not know it (or did not answer). */
  readonly state: MemberState | null;
  /** "alive", "suspect", "self", "unknown", or the call's failure; absent when the member holds it left. */
  readonly error?: string;
}

export interface ForceLeaveSummary {
  readonly name: string;
  /** Members asked, this one included. */
  readonly members: number;
  /** Of those, how many now hold the target left. */
  readonly left: number;
  readonly results: readonly MemberForceLeave[];
}

/** Asks one member; its answer, or the call's failure as an answer. */
export async function callForceLeave(client: ControlPlaneClient, member: string, addr: string, name: string, timeoutMs: number): Promise<MemberForceLeave> {
  try {
    const reply = await client.unary(forceLeaveMethod(), addr, (header) => ({ header, name }), timeoutMs);
    const state = stateFromProto(reply.state);
    if (reply.refused === '') return state === 'left' ? { member, state } : { member, state, error: `answered ${state ?? 'no state'} without a refusal` };
    const refused = REFUSALS.has(reply.refused) ? reply.refused : `refused: ${reply.refused.slice(0, MAX_ERROR_CHARS)}`;
    return { member, state, error: refused };
  } catch (err) {
    return { member, state: null, error: (err instanceof Error ? err.message : String(err)).slice(0, MAX_ERROR_CHARS) };
  }
}

export interface FanOutForceLeave {
  readonly selfName: string;
  /** This member's answer (already applied). */
  readonly local: ForceLeaveResult & { readonly refused: null };
  /** Live members other than this one. */
  readonly peers: readonly { readonly name: string; readonly grpcAddr: string }[];
  readonly call: (member: string, grpcAddr: string) => Promise<MemberForceLeave>;
}

/** Asks every peer at once, after this member applied it; answers per member, this one first. */
export async function fanOutForceLeave(name: string, opts: FanOutForceLeave): Promise<ForceLeaveSummary> {
  const remote = await Promise.all(opts.peers.map((p) => opts.call(p.name, p.grpcAddr)));
  const results: MemberForceLeave[] = [{ member: opts.selfName, state: opts.local.state }, ...remote];
  return { name, members: results.length, left: results.filter((r) => r.error === undefined).length, results };
}
